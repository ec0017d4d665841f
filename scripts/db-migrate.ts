// `npm run db:migrate`: creates or upgrades the schema of the database DATABASE_URL names (the services do it at start too).
import { Database, migrate } from '../src/storage/pg-database.ts';
import { databaseScriptConfig } from './database-script-config.ts';

const { DATABASE_URL } = databaseScriptConfig('db:migrate');
if (DATABASE_URL === undefined) {
  console.error('DATABASE_URL is not set: nothing to migrate (the JSON files in DATA_DIR need no migration).');
  process.exit(1);
}
const database = new Database(DATABASE_URL);
try {
  const applied = await migrate(database);
  console.log(applied.length === 0 ? 'db:migrate: the schema is up to date' : `db:migrate: applied migration(s) ${applied.join(', ')}`);
} catch (error) {
  console.error(`db:migrate failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await database.close();
}
