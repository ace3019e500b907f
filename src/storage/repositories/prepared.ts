// Prepared statements on a raw better-sqlite3 connection, kept beside the connection (they are
// tied to it) rather than per repository object (one is made for every transaction).
import type SQLite from 'better-sqlite3';

const preparedByConnection = new WeakMap<SQLite.Database, Map<string, SQLite.Statement>>();

export function prepared(connection: SQLite.Database, text: string): SQLite.Statement {
  let statements = preparedByConnection.get(connection);
  if (!statements) {
    statements = new Map();
    preparedByConnection.set(connection, statements);
  }
  let statement = statements.get(text);
  if (!statement) {
    statement = connection.prepare(text);
    statements.set(text, statement);
  }
  return statement;
}
