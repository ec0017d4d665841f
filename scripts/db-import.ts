// `npm run db:import -- <DATA_DIR>`: copies a JSON data folder into the database DATABASE_URL names. Running it
// again adds nothing: rows the database already has are left as they are.
import path from 'node:path';
import { loadConfig } from '../src/config/config.ts';
import { importJsonData } from '../src/storage/import-json-data.ts';
import { Database, migrate } from '../src/storage/pg-database.ts';

try {
  process.loadEnvFile();
} catch {
  // no .env file: the environment alone says where the database is
}
const [dataDir] = process.argv.slice(2);
const { DATABASE_URL } = loadConfig();
if (dataDir === undefined || DATABASE_URL === undefined) {
  console.error('usage: DATABASE_URL=postgres://… npm run db:import -- <DATA_DIR>');
  process.exit(1);
}
const database = new Database(DATABASE_URL);
try {
  await migrate(database);
  const counts = await importJsonData(database, path.resolve(dataDir));
  console.log(`db:import: new rows ${JSON.stringify(counts)}`);
} catch (error) {
  console.error(`db:import failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await database.close();
}
