// One contract suite per store interface, run against both implementations: the JSON files (always) and PostgreSQL
// (when TEST_DATABASE_URL is set; `.ci/run` sets it and makes a skip a failure).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { jsonStores, postgresStores } from '../src/storage/open-stores.ts';
import { Database } from '../src/storage/pg-database.ts';
import { attendanceStoreContract } from './contracts/attendance-store-contract.ts';
import { descriptorStoreContract, enrollmentStoreContract, erasureContract, studentStoreContract, type StoresUnderTest } from './contracts/roster-store-contracts.ts';
import { dropTemplate, freshDatabase, postgresSkipReason } from './helpers/postgres.ts';

async function jsonStoresUnderTest(): Promise<StoresUnderTest> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'store-contract-'));
  return { ...jsonStores(dataDir), dispose: () => rm(dataDir, { recursive: true, force: true }) };
}

async function postgresStoresUnderTest(): Promise<StoresUnderTest> {
  const fresh = await freshDatabase();
  const database = new Database(fresh.url);
  return {
    ...postgresStores(database),
    dispose: async () => {
      await database.close();
      await fresh.drop();
    },
  };
}

const contracts = [studentStoreContract, enrollmentStoreContract, descriptorStoreContract, erasureContract];

for (const contract of contracts) contract('JSON files', jsonStoresUnderTest);

const skipPostgres = postgresSkipReason();
if (skipPostgres) {
  test('the stores keep their contracts on PostgreSQL', { skip: skipPostgres }, () => {});
} else {
  for (const contract of contracts) contract('PostgreSQL', postgresStoresUnderTest);
  attendanceStoreContract('PgAttendanceStore', async () => {
    const stores = await postgresStoresUnderTest();
    return { store: stores.attendance, dispose: stores.dispose };
  });
  after(dropTemplate);
}
