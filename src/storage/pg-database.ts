import { readdir, readFile } from 'node:fs/promises';
import pg from 'pg';
import { DatabaseUnavailableError } from '../errors.ts';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
// Any constant shared by every service of the school: only one of them migrates at a time.
const MIGRATION_LOCK_KEY = 1_207_401_012;
/**
 * How long a statement may go unanswered. A server that stops answering without closing the connection (a network
 * partition, a frozen host) would otherwise hold each request until TCP gives up, many minutes later; after this the
 * connection is dropped and the request answered 503.
 */
export const QUERY_TIMEOUT_MS = 10_000;
// A migration may rebuild a large table, or wait while another service migrates.
const MIGRATION_STATEMENT_TIMEOUT_MS = 15 * 60_000;

const NETWORK_PROBLEMS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection lost',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
};

// A standby promoted too late, a failover to the wrong server, or a database set read-only for maintenance: reachable,
// but not for writes, which is an outage for a roll call.
const READ_ONLY = 'the database is read-only (a standby, or set read-only for maintenance)';

// SQLSTATEs that say the server is not there for us, as opposed to "this statement is wrong".
const SERVER_PROBLEMS: Record<string, string> = {
  '57P01': 'the server is shutting down',
  '57P02': 'the server is shutting down',
  '57P03': 'the server is starting up',
  '53300': 'too many connections',
  '28P01': 'authentication failed',
  '28000': 'authentication failed',
  '3D000': 'the database does not exist',
  '25006': READ_ONLY,
  '53100': "the database server's disk is full",
};

// Of those, the ones waiting will not cure: the setting or the server's set-up is wrong.
const SETUP_PROBLEMS = new Set(['28P01', '28000', '3D000']);

/**
 * The database's own words for an outage, reduced to a short phrase that never carries the connection string, or
 * `undefined` when the error is not about reaching the database.
 */
export function outageOf(error: unknown): string | undefined {
  if (error instanceof DatabaseUnavailableError) return error.message;
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (Object.hasOwn(NETWORK_PROBLEMS, code)) return NETWORK_PROBLEMS[code];
    if (Object.hasOwn(SERVER_PROBLEMS, code)) return SERVER_PROBLEMS[code];
    if (code.startsWith('08')) return 'connection failure';
  }
  if (/timeout exceeded when trying to connect/i.test(error.message)) return 'connection timed out';
  if (/Query read timeout/i.test(error.message)) return 'no answer in time';
  if (/Connection terminated|not queryable|connection error|Client was closed/i.test(error.message)) return 'connection lost';
  return undefined;
}

function translated(error: unknown): unknown {
  const outage = outageOf(error);
  if (outage === undefined || error instanceof DatabaseUnavailableError) return error;
  const setup = SETUP_PROBLEMS.has(String((error as { code?: unknown }).code));
  return new DatabaseUnavailableError(outage, { cause: error, advice: setup ? 'Check DATABASE_URL and the database (docs/many-classrooms.md).' : undefined });
}

/** Rejects with a DatabaseUnavailableError when the database cannot be reached or would refuse writes. */
export async function checkDatabaseTakesWrites(database: Database): Promise<void> {
  const { rows } = await database.query<{ read_only: string }>("SELECT current_setting('transaction_read_only') AS read_only");
  if (rows[0]?.read_only === 'on') throw new DatabaseUnavailableError(READ_ONLY);
}

export type Sql = Pick<pg.PoolClient, 'query'>;

/**
 * One PostgreSQL database shared by every service of the school. Every statement is parameterised; an outage comes
 * out as a `DatabaseUnavailableError` (503, code DATABASE_UNAVAILABLE), never as the driver's error.
 */
export class Database {
  private readonly pool: pg.Pool;

  constructor(connectionString: string, onIdleError: (problem: string) => void = () => {}, queryTimeoutMs = QUERY_TIMEOUT_MS) {
    this.pool = new pg.Pool({
      connectionString,
      max: 10,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 10_000,
      query_timeout: queryTimeoutMs,
      // Notices a peer gone silent on an idle pooled connection too, not only when a statement waits on it.
      keepAlive: true,
    });
    // A pooled connection the server drops while idle must not crash the process.
    this.pool.on('error', (error) => onIdleError(outageOf(error) ?? 'connection error'));
  }

  async query<Row extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<Row>> {
    try {
      return await this.pool.query<Row>(text, values);
    } catch (error) {
      throw translated(error);
    }
  }

  /** Runs `work` in one transaction (READ COMMITTED): committed when it resolves, rolled back when it throws. */
  async transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw translated(error);
    }
    let broken: Error | undefined;
    // A checked-out connection the server drops between two statements emits 'error' on the client, not on the pool
    // (whose listener covers idle ones only); unheard, it would end the process.
    const onDropped = (error: Error) => (broken ??= error);
    client.on('error', onDropped);
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      if (outageOf(error) !== undefined) broken = error as Error;
      else await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
      throw translated(error);
    } finally {
      client.off('error', onDropped);
      client.release(broken);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATION_FILE = /^(\d+)-([a-z0-9-]+)\.sql$/;

/**
 * `src/storage/migrations/NNN-name.sql`, in version order. Branches add migrations independently, so a file the runner
 * would not apply, or two files with one version, stop it with their names rather than being skipped.
 */
export async function readMigrations(directory: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(directory)).filter((file) => file.endsWith('.sql'));
  const migrations = await Promise.all(
    files.map(async (file) => {
      const [, version, name] = MIGRATION_FILE.exec(file) ?? [];
      if (version === undefined || name === undefined) throw new Error(`migration ${file} is not named NNN-name.sql (digits, a dash, lowercase letters, digits and dashes)`);
      return { version: Number(version), name, sql: await readFile(new URL(file, directory), 'utf8'), file };
    }),
  );
  migrations.sort((a, b) => a.version - b.version);
  migrations.forEach((migration, index) => {
    const before = migrations[index - 1];
    if (before?.version === migration.version) throw new Error(`migrations ${before.file} and ${migration.file} have the same version: renumber one`);
  });
  return migrations.map(({ version, name, sql }) => ({ version, name, sql }));
}

/**
 * Brings the schema to the latest version; resolves the versions it applied. Services starting together all call it:
 * a transaction-scoped advisory lock lets one migrate while the others wait, then find nothing left to do. Every
 * migration not yet recorded is applied, in version order, even one numbered below a version already applied (two
 * branches each adding one, merged in either order).
 */
export async function migrate(database: Database): Promise<number[]> {
  const migrations = await readMigrations();
  return database.transaction(async (sql) => {
    const slow = (text: string, values: unknown[] = []) => sql.query({ text, values, query_timeout: MIGRATION_STATEMENT_TIMEOUT_MS } as pg.QueryConfig);
    await slow('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await sql.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    const applied = new Set((await sql.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((row) => row.version));
    const done: number[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      await slow(migration.sql);
      await sql.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      done.push(migration.version);
    }
    return done;
  });
}

/** Holds off, until the transaction ends, every other writer of the same key (a student's day, say). */
export async function lockKey(sql: Sql, key: string): Promise<void> {
  await sql.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]);
}
