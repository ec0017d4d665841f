// `npm run demo`: the whole system on this machine, without a webcam or network. Both services start on free
// loopback ports over a fresh temporary data folder; bundled photos are registered over HTTP from a local photo
// server; a session runs over the bundled frames; the report is printed next to what the frames show.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { compare, formatTable, framesShowing, holdEachStill } from './expectations.ts';
import { servePhotos, type PhotoServer } from './photo-server.ts';
import { ProgressLine } from './progress-line.ts';
import { startServicesProcess, type ServicesProcess } from './services-process.ts';
import { DESCRIPTOR_CACHE_FILE } from '../storage/json-descriptor-store.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../test/fixtures');
const STILLS = path.join(FIXTURES, 'frames');
const FRAMES_PER_STILL = 3;
/** Registered students, named after the person in their photo; biden never appears in the frames. */
const STUDENTS = ['obama', 'kit_harington', 'rick', 'biden'];
const SESSION_TIMEOUT_MS = 180_000;
const POLL_MS = 250;

interface Status {
  phase: string;
  framesProcessed: number;
  sourceEnded: boolean;
  enrolled: number;
  enrollmentErrors: { rollNo: string; code: string; message: string }[];
  recognizedThisSession: number;
  lastError: string | null;
}

async function call<T>(method: 'GET' | 'POST', url: string, body?: unknown): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const json = (await response.json()) as T & { message?: string };
  if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}: ${json.message ?? JSON.stringify(json)}`);
  return json;
}

function describeProgress(status: Status, frames: number): string {
  if (status.phase === 'enrolling') return `  enrolling ${STUDENTS.length} photos (downloading, finding each face)…`;
  return `  frame ${status.framesProcessed}/${frames} · ${status.enrolled} enrolled · ${status.recognizedThisSession} marked present`;
}

async function watchSession(recognition: string, frames: number): Promise<Status> {
  const progress = new ProgressLine();
  const deadline = Date.now() + SESSION_TIMEOUT_MS;
  try {
    for (;;) {
      const status = await call<Status>('GET', `${recognition}/status`);
      progress.update(describeProgress(status, frames));
      if (status.sourceEnded) return status;
      if (status.phase === 'failed') throw new Error(`the recognition session failed: ${status.lastError}`);
      if (Date.now() > deadline) throw new Error(`the session did not get through the frames within ${SESSION_TIMEOUT_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    progress.done();
  }
}

async function runDemo(dataDir: string, track: { photos?: PhotoServer; services?: ServicesProcess }): Promise<boolean> {
  const framesDir = path.join(dataDir, 'frames');
  await holdEachStill(STILLS, framesDir, FRAMES_PER_STILL);
  const { frames, shown } = await framesShowing(framesDir);
  console.log('Face-attendance demo: no webcam, nothing leaves this machine.\n');
  console.log(`Data folder (a fresh temporary DATA_DIR): ${dataDir}`);

  const photos = (track.photos = await servePhotos(path.join(FIXTURES, 'photos'), STUDENTS.map((name) => `${name}.jpg`)));
  console.log(`Photo server:         ${photos.origin} (serving ${STUDENTS.map((name) => `${name}.jpg`).join(', ')})`);

  const services = (track.services = await startServicesProcess(
    {
      DATA_DIR: dataDir,
      CAMERA: `dir:${framesDir}`,
      // The photos come from the loopback photo server above, which photo URLs may not reach by default.
      PRIVATE_URL_HOSTS: '127.0.0.1',
      LOG_LEVEL: 'info',
    },
    path.join(dataDir, 'services.log'),
  ));
  console.log(`Registration service: ${services.registration}`);
  console.log(`Recognition service:  ${services.recognition}\n`);

  const added = await call<{ message: string }>('POST', `${services.registration}/add-student`, {
    classStudents: STUDENTS.map((rollNo) => ({ rollNo, url: `${photos.origin}/${rollNo}.jpg` })),
  });
  console.log(`POST /add-student: ${added.message}`);

  await call('POST', `${services.recognition}/start-recognition`);
  console.log(
    `POST /start-recognition: a session over ${frames.length} frames: each still of ${path.relative(process.cwd(), STILLS) || STILLS} held for ${FRAMES_PER_STILL} frames`,
  );
  const ended = await watchSession(services.recognition, frames.length);
  const { recognizedStudents } = await call<{ recognizedStudents: { rollNo: string; timestamp: string }[] }>(
    'POST',
    `${services.recognition}/stop-recognition`,
  );
  console.log(`POST /stop-recognition: ${recognizedStudents.length} present\n`);

  for (const problem of ended.enrollmentErrors) console.log(`Photo problem: ${problem.rollNo}: ${problem.code} (${problem.message})`);
  if (ended.lastError) console.log(`Last problem reported: ${ended.lastError}`);

  const verdicts = compare(STUDENTS, shown, recognizedStudents);
  console.log(formatTable(verdicts));
  console.log(`  (the other frames: ${shown.get('stranger') ?? 0} strangers, ${shown.get('empty-room') ?? 0} empty room)`);
  const asExpected = verdicts.every((v) => v.expected === v.actual);
  console.log(asExpected ? '\nEverything as expected.' : '\nNOT as expected: see the rows marked UNEXPECTED above.');
  return asExpected;
}

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'attendance-demo-'));
const track: { photos?: PhotoServer; services?: ServicesProcess } = {};
const cleanUp = async () => {
  await track.services?.stop();
  await track.photos?.close();
};
process.once('SIGINT', () => void cleanUp().then(() => process.exit(130)));

let ok = false;
try {
  ok = await runDemo(dataDir, track);
} catch (error) {
  console.error(`\nThe demo failed: ${(error as Error).message}`);
} finally {
  await cleanUp();
}
// The descriptor cache is biometric data about the bundled people; a demo leaves none behind.
await rm(path.join(dataDir, DESCRIPTOR_CACHE_FILE), { force: true });
const files = await readdir(dataDir);
console.log(`\nBoth services have stopped. Their files are in ${dataDir}: ${files.sort().join(', ')}`);
console.log(`Look at attendance.json there, or remove the folder: rm -r ${dataDir}`);
process.exit(ok ? 0 : 1);
