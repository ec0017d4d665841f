// npm run bench:postgres: the PostgreSQL section of the bench alone (TEST_DATABASE_URL must reach a server), written
// to bench/results/postgres.json.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadFaceEngine } from '../src/faces/face-engine.ts';
import { describeEnrollmentPhoto } from '../src/faces/find-faces.ts';
import { FIXTURES } from './bench-faces.ts';
import { postgresBench, printPostgres } from './postgres-bench.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const RESULTS = path.join(ROOT, 'bench/results/postgres.json');

if (!process.env.TEST_DATABASE_URL) {
  console.error('TEST_DATABASE_URL is not set: it must name an account that may create databases (see docs/many-classrooms.md)');
  process.exit(1);
}
const engine = await loadFaceEngine(path.join(ROOT, 'models'), 'auto');
const descriptors = await Promise.all(['obama.jpg', 'rick.jpg', 'biden.jpg'].map(async (name) => (await describeEnrollmentPhoto(await readFile(path.join(FIXTURES, 'photos', name)), engine)).descriptor));
const work = await mkdtemp(path.join(os.tmpdir(), 'attendance-bench-pg-'));
try {
  const measured = await postgresBench(work, descriptors, (message) => process.stderr.write(`bench: ${message}\n`));
  const results = { date: new Date().toISOString(), machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(os.totalmem() / 2 ** 30) }, ...measured };
  await writeFile(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  printPostgres(measured);
  console.log(`\nwritten to ${path.relative(process.cwd(), RESULTS)}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
