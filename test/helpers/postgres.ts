// PostgreSQL for tests. TEST_DATABASE_URL is an account that may create databases (`.ci/run` makes one); each test gets
// a database of its own, copied from a migrated template, and drops it afterwards. Without TEST_DATABASE_URL the
// PostgreSQL tests are skipped, saying why, unless REQUIRE_POSTGRES_TESTS=1 (CI), which makes that a failure instead.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Database, migrate } from '../../src/storage/pg-database.ts';

const ADMIN_URL = process.env.TEST_DATABASE_URL;

/** Why the PostgreSQL tests cannot run here, or `false` when they can. Throws where they must run (CI). */
export function postgresSkipReason(): string | false {
  if (ADMIN_URL) return false;
  if (process.env.REQUIRE_POSTGRES_TESTS === '1') {
    throw new Error('REQUIRE_POSTGRES_TESTS=1 but TEST_DATABASE_URL is not set: the PostgreSQL tests would be skipped');
  }
  return 'PostgreSQL tests skipped: TEST_DATABASE_URL is not set (see docs/many-classrooms.md, "Running the tests")';
}

function urlOf(database: string): string {
  const url = new URL(ADMIN_URL!);
  url.pathname = `/${database}`;
  return url.toString();
}

async function asAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: urlOf('postgres') });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const uniqueName = (prefix: string) => `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
// Identifiers cannot be parameters; these names are made here from a fixed prefix, a pid and hex digits.
const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

let template: Promise<string> | undefined;

/** A migrated database that fresh databases are copied from (one per test process). */
function migratedTemplate(): Promise<string> {
  template ??= (async () => {
    const name = uniqueName('attendance_template');
    await asAdmin((client) => client.query(`CREATE DATABASE ${quoted(name)}`));
    const database = new Database(urlOf(name));
    await migrate(database);
    await database.close();
    return name;
  })();
  return template;
}

export interface FreshDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** An empty, migrated database of its own; `migrated: false` leaves it without the schema. */
export async function freshDatabase({ migrated = true }: { migrated?: boolean } = {}): Promise<FreshDatabase> {
  const name = uniqueName('attendance_test');
  const from = migrated ? ` TEMPLATE ${quoted(await migratedTemplate())}` : '';
  await asAdmin((client) => client.query(`CREATE DATABASE ${quoted(name)}${from}`));
  return { url: urlOf(name), name, drop: () => dropDatabase(name) };
}

/** Drops the template of this test process, if one was made: call it in `after`. */
export async function dropTemplate(): Promise<void> {
  if (template) await dropDatabase(await template);
  template = undefined;
}

function dropDatabase(name: string): Promise<void> {
  return asAdmin(async (client) => void (await client.query(`DROP DATABASE IF EXISTS ${quoted(name)} WITH (FORCE)`)));
}
