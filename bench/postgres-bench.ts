// The PostgreSQL part of `npm run bench` (also alone: `npm run bench:postgres`), on the
// database server TEST_DATABASE_URL reaches (an account that may create databases; `.ci/run` makes one):
// - warm start of a recognition service process with 10 000 students whose descriptors are all cached in the database;
// - marks per second with 20 rooms marking at once through the real store (PgAttendanceStore.markPresent with the
//   roster check in its transaction, as a session does), each room with its own connection pool, and the p50/p99 of one mark.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { DESCRIPTOR_MODEL_VERSION } from '../src/faces/face-engine.ts';
import { encodeDescriptor } from '../src/storage/descriptor-store.ts';
import { PgAttendanceStore } from '../src/storage/pg-attendance-store.ts';
import { Database } from '../src/storage/pg-database.ts';
import { postgresStores } from '../src/storage/open-stores.ts';
import type { StillCurrent } from '../src/storage/student-store.ts';
import { dropTemplate, freshDatabase } from '../test/helpers/postgres.ts';
import { measureStart, oneFrameFolder, percentile, warmStart, type Enrollment } from './service-bench.ts';
import { round } from './stream-throughput.ts';


export interface RoomsMarking {
  rooms: number;
  students: number;
  attempts: number;
  marked: number;
  alreadyPresent: number;
  seconds: number;
  marksPerSecond: number;
  attemptsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export interface PostgresBench {
  warmStart: Enrollment;
  /** The same warm start on the JSON files, measured in the same run for comparison. */
  jsonWarmStart: Enrollment;
  rooms: RoomsMarking;
}

async function fillRoster(url: string, count: number, descriptors: Float32Array[]): Promise<void> {
  const database = new Database(url);
  const stores = postgresStores(database);
  try {
    for (let first = 0; first < count; first += 1_000) {
      const students = Array.from({ length: Math.min(1_000, count - first) }, (_, i) => ({ rollNo: `s${first + i}`, url: `http://127.0.0.1:9/p/${first + i}.jpg` }));
      await stores.students.addMany(students, new Date().toISOString(), `class-${Math.floor(first / 1_000)}`);
      const cache = Object.fromEntries(
        students.map(({ rollNo, url }, i) => {
          const jittered = descriptors[(first + i) % descriptors.length]!.map((value) => value + (Math.random() - 0.5) * 0.02);
          return [rollNo, [{ url, sha256: randomBytes(32).toString('hex'), descriptor: encodeDescriptor(jittered) }]];
        }),
      );
      await stores.descriptors.recordMany(DESCRIPTOR_MODEL_VERSION, cache, async (rollNos) => new Set(rollNos));
    }
  } finally {
    await database.close();
  }
}

/** `rooms` rooms, each marking `perRoom` students one after the other; neighbouring rooms see 20 % of the same students. */
async function roomsMarking(url: string, rooms: number, perRoom: number, students: number): Promise<RoomsMarking> {
  const databases = Array.from({ length: rooms }, () => new Database(url));
  const day = '2026-01-05';
  const latencies: number[] = [];
  let marked = 0;
  let alreadyPresent = 0;
  // The session's check: still registered as at the session start (here: registered at all), read in the transaction.
  const stillCurrent: StillCurrent = async (rollNos, lookup) => new Set((await lookup!(rollNos)).map((student) => student.rollNo));
  try {
    const t0 = performance.now();
    await Promise.all(
      databases.map(async (database, room) => {
        const store = new PgAttendanceStore(database);
        for (let i = 0; i < perRoom; i += 1) {
          const rollNo = `s${(room * Math.floor(perRoom * 0.8) + i) % students}`;
          const started = performance.now();
          const outcome = await store.markPresent(day, { rollNo, timestamp: new Date().toISOString().slice(0, 19) + 'Z', sessionId: `room-${room}`, distance: 0.4, room: `room-${room}` }, stillCurrent);
          latencies.push(performance.now() - started);
          if (outcome === 'marked') marked += 1;
          else if (outcome === 'already-present') alreadyPresent += 1;
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    return {
      rooms,
      students,
      attempts: latencies.length,
      marked,
      alreadyPresent,
      seconds: round(seconds, 2),
      marksPerSecond: round(marked / seconds, 0),
      attemptsPerSecond: round(latencies.length / seconds, 0),
      p50Ms: round(percentile(latencies, 50), 2),
      p99Ms: round(percentile(latencies, 99), 2),
    };
  } finally {
    await Promise.all(databases.map((database) => database.close()));
  }
}

export async function postgresBench(work: string, descriptors: Float32Array[], progress: (message: string) => void): Promise<PostgresBench> {
  const fresh = await freshDatabase();
  try {
    progress('PostgreSQL: a roster of 10 000 students with cached descriptors');
    await fillRoster(fresh.url, 10_000, descriptors);
    progress('PostgreSQL: warm start with 10 000 students (recognition service process)');
    const dataDir = path.join(work, 'postgres-warm');
    await mkdir(dataDir, { recursive: true });
    const postgresWarmStart = await measureStart(dataDir, await oneFrameFolder(work), 10_000, { DATABASE_URL: fresh.url });
    progress('JSON files: the same warm start, for comparison');
    const jsonWarmStart = await warmStart(work, 10_000, descriptors);
    progress('PostgreSQL: 20 rooms marking at once');
    const rooms = await roomsMarking(fresh.url, 20, 500, 10_000);
    return { warmStart: postgresWarmStart, jsonWarmStart, rooms };
  } finally {
    await fresh.drop();
    await dropTemplate();
  }
}

export function printPostgres({ warmStart, jsonWarmStart, rooms }: PostgresBench): void {
  for (const [store, run] of [['PostgreSQL', warmStart], ['JSON files', jsonWarmStart]] as const) {
    console.log(`${store}: warm start with ${run.students} students: start -> first frame ${run.startToFirstFrameMs} ms (worker enrollment ${run.enrollmentMs} ms), peak RSS ${run.peakRssMb} MB`);
  }
  console.log(
    `PostgreSQL: ${rooms.rooms} rooms marking at once: ${rooms.attempts} marks tried in ${rooms.seconds} s = ${rooms.attemptsPerSecond}/s ` +
      `(${rooms.marked} new, ${rooms.alreadyPresent} already present: ${rooms.marksPerSecond} new marks/s); one mark p50 ${rooms.p50Ms} ms, p99 ${rooms.p99Ms} ms`,
  );
}
