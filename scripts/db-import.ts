// `npm run db:import -- <DATA_DIR>`: copies a JSON data folder into the database DATABASE_URL names. Running it
// again adds nothing: rows the database already has are left as they are. A student erased in the database since is
// not a row it has, so importing the same folder again brings them back: the output says so.
import path from 'node:path';
import { checkDataFolder, importJsonData } from '../src/storage/import-json-data.ts';
import { Database, migrate } from '../src/storage/pg-database.ts';
import { databaseScriptConfig } from './database-script-config.ts';

const [dataDir] = process.argv.slice(2);
const { DATABASE_URL } = databaseScriptConfig('db:import');
if (dataDir === undefined || DATABASE_URL === undefined) {
  console.error('usage: DATABASE_URL=postgres://… npm run db:import -- <DATA_DIR>');
  process.exit(1);
}
const database = new Database(DATABASE_URL);
try {
  // Before the database: a wrong path is told as such, without waiting for a connection.
  await checkDataFolder(path.resolve(dataDir));
  await migrate(database);
  const counts = await importJsonData(database, path.resolve(dataDir));
  console.log(`db:import: new rows ${JSON.stringify(counts)}`);
  console.log('db:import: import a folder once. Students erased in the database since would come back with it: move the folder away.');
} catch (error) {
  console.error(`db:import failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await database.close();
}
