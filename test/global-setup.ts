// Says loudly, once per run, which databases the suite runs against.
export default function setup(): void {
  const url = process.env.DATABASE_URL;
  if (url) {
    console.log(`\n=== relaykey test suite: SQLite + PostgreSQL (DATABASE_URL=${url.replace(/\/\/[^@]*@/, '//***@')}) ===\n`);
  } else {
    console.log('\n=== relaykey test suite: SQLite only. DATABASE_URL is not set: the PostgreSQL half is SKIPPED (CI sets it). ===\n');
  }
}
