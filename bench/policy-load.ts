// Load for Postfix's policy delegation protocol (the scenario `policy` of `npm run bench`): N
// connections, each sending one RCPT-time request and waiting for its answer, as Postfix's
// smtpd processes do; prints BENCH_JSON like the HTTP load tools.
// Usage: tsx bench/policy-load.ts PORT CONNECTIONS SECONDS IDENTITIES_FILE SENDER [RATE]
// IDENTITIES_FILE: one sasl_username a line. RATE > 0: paced, about RATE requests/s in all
// (each connection waits a random 0..2x its mean gap after an answer); 0: saturated.
import { readFileSync } from 'node:fs';
import net from 'node:net';

const [portArg, connectionsArg, secondsArg, identitiesFile, sender, rateArg] = process.argv.slice(2);
const port = Number(portArg);
const connections = Number(connectionsArg ?? '50');
const seconds = Number(secondsArg ?? '5');
const rate = Number(rateArg ?? '0');
const identities = readFileSync(identitiesFile as string, 'utf8')
  .split('\n')
  .filter(Boolean);
const meanGapMs = rate > 0 ? (connections * 1000) / rate : 0;

const latencies: number[] = [];
let notDunno = 0;
let socketErrors = 0;
let counter = 0;
const deadline = performance.now() + seconds * 1000;

function request(): string {
  counter += 1;
  const identity = identities[counter % identities.length] as string;
  return (
    'request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=127.0.0.1\nclient_name=localhost\n' +
    `helo_name=client.test\nsender=${sender}\nrecipient=r${counter}@elsewhere.test\nrecipient_count=0\nqueue_id=\n` +
    `instance=bench.${counter}\nsize=1000\nsasl_method=PLAIN\nsasl_username=${identity}\nsasl_sender=\n\n`
  );
}

async function connection(): Promise<void> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let buffer = '';
  let waiting: ((answer: string | null) => void) | null = null;
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('latin1');
    const end = buffer.indexOf('\n\n');
    if (end >= 0 && waiting) {
      const answer = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const done = waiting;
      waiting = null;
      done(answer);
    }
  });
  socket.on('error', () => {});
  socket.once('close', () => waiting?.(null));
  while (performance.now() < deadline) {
    const started = performance.now();
    const answered = new Promise<string | null>((resolve) => (waiting = resolve));
    socket.write(request());
    const answer = await answered;
    if (answer === null) {
      socketErrors += 1;
      return;
    }
    latencies.push(performance.now() - started);
    if (answer !== 'action=DUNNO') notDunno += 1;
    if (meanGapMs > 0) await new Promise((r) => setTimeout(r, Math.random() * 2 * meanGapMs));
  }
  socket.destroy();
}

const started = performance.now();
await Promise.all(
  Array.from({ length: connections }, () =>
    connection().catch(() => {
      socketErrors += 1;
    }),
  ),
);
const elapsedUs = Math.round((performance.now() - started) * 1000);
latencies.sort((a, b) => a - b);
const at = (q: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0) * 1000);
process.stdout.write(
  `BENCH_JSON ${JSON.stringify({
    requests: latencies.length,
    duration_us: elapsedUs,
    errors_status: notDunno,
    errors_socket: socketErrors,
    p50_us: at(0.5),
    p90_us: at(0.9),
    p99_us: at(0.99),
    max_us: at(1),
  })}\n`,
);
