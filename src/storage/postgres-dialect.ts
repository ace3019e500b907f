// PostgreSQL dialect whose introspection sees only the schema relaykey writes to.
//
// Kysely's migrator asks "does the migrations table exist?" by listing every column of every
// table in every schema (PostgresIntrospector.getTables) and filtering in JavaScript. That query
// calls has_schema_privilege(name) and pg_get_serial_sequence(name) per row, and both look the
// name up again: when any other schema in the database is dropped while the query runs, the
// lookup fails with `schema "…" does not exist` and relaykey's start-up or CLI command fails with
// it (kysely-org/kysely#1419, #1706). It is also slow on databases shared by many schemas.
// Only the migrator introspects, and it needs table names and schemas, no columns.
import {
  type DatabaseIntrospector,
  type DatabaseMetadata,
  type Kysely,
  PostgresDialect,
  PostgresIntrospector,
  type SchemaMetadata,
  type TableMetadata,
  sql,
} from 'kysely';

class CurrentSchemaIntrospector implements DatabaseIntrospector {
  readonly #db: Kysely<unknown>;
  readonly #schemas: PostgresIntrospector;

  constructor(db: Kysely<unknown>) {
    this.#db = db;
    this.#schemas = new PostgresIntrospector(db);
  }

  /** pg_namespace names only: no function of a name, so nothing to race with. */
  getSchemas(): Promise<SchemaMetadata[]> {
    return this.#schemas.getSchemas();
  }

  /** Tables and views of current_schema(), without their columns (the migrator needs neither). */
  async getTables(): Promise<TableMetadata[]> {
    const { rows } = await sql<{ name: string; schema: string; kind: string }>`
      select c.relname as name, ns.nspname as schema, c.relkind as kind
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace ns on ns.oid = c.relnamespace
      where ns.nspname = current_schema() and c.relkind in ('r', 'v', 'p')
      order by c.relname`.execute(this.#db);
    return rows.map((row) => ({ name: row.name, schema: row.schema, isView: row.kind === 'v', columns: [] }));
  }

  async getMetadata(): Promise<DatabaseMetadata> {
    return { tables: await this.getTables() };
  }
}

export class CurrentSchemaPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new CurrentSchemaIntrospector(db);
  }
}
