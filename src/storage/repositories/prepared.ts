// A raw better-sqlite3 connection with its prepared statements. The statements are tied to the
// connection, so they live beside it (the store keeps one of these per connection) rather than
// per repository object, of which one is made for every transaction.
import type SQLite from 'better-sqlite3';

export class PreparedConnection {
  private readonly statements = new Map<string, SQLite.Statement>();
  private readonly pragmas = new Set<string>();

  constructor(readonly connection: SQLite.Database) {}

  /** The statement for this SQL text, prepared on first use. */
  prepare(text: string): SQLite.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.connection.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  /** Sets a pragma the first time it is asked for on this connection. */
  pragmaOnce(pragma: string): void {
    if (this.pragmas.has(pragma)) return;
    this.pragmas.add(pragma);
    this.connection.pragma(pragma);
  }
}
