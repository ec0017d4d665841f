// The parts of `npm run bench` that run the real recognition service (src/recognition/server.ts as a child process,
// with its real worker thread and inference): time to mark, cold enrollment, warm start and the service's peak RSS.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DESCRIPTOR_MODEL_VERSION } from '../src/faces/face-engine.ts';
import { encodeDescriptor } from '../src/storage/descriptor-store.ts';
import { getJson, postJson, startServices, waitFor, type RunningServices } from '../test/helpers/service-process.ts';
import { FIXTURES } from './bench-faces.ts';
import { round } from './stream-throughput.ts';

const POLL_MS = 5;
const ENROLLMENT_STATUS_MS = 250;

/** Every rollNo with a record in an `attendance.json` (`{"days":{day:[records]},"changes":[…]}`), any day. */
export function markedIn(attendanceJson: string): string[] {
  const { days } = JSON.parse(attendanceJson) as { days: Record<string, { rollNo: string }[]> };
  return Object.values(days).flatMap((records) => records.map((record) => record.rollNo));
}

/** Peak resident set (VmHWM) of a process so far, in MB. */
export async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return round(kb / 1024, 1);
}

/** CPU seconds (user + system) the process has used so far. */
async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100 on Linux)
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

// The bench picks the backend (and threads) in its own environment; service processes get only the settings given.
const INFERENCE_SETTINGS = ['INFERENCE_BACKEND', 'INFERENCE_THREADS', 'ENROLLMENT_THREADS'] as const;

export async function startRecognition(dataDir: string, camera: string, env: Record<string, string> = {}): Promise<RunningServices> {
  const inference = Object.fromEntries(INFERENCE_SETTINGS.flatMap((name) => (process.env[name] ? [[name, process.env[name]!]] : [])));
  // The bench polls /status every 5 ms: the rate limit (300/min by default) would answer 429 and stall the measurement.
  return startServices({ DATA_DIR: dataDir, CAMERA: `dir:${camera}`, ALLOW_PRIVATE_URLS: '1', RATE_LIMIT_PER_MINUTE: '1000000', ...inference, ...env }, 'recognition');
}

async function pollUntil<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 600_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** A tiny photo host on 127.0.0.1 serving the given bodies by path. */
export async function servePhotos(bodies: Map<string, Buffer>) {
  const server = createServer((request, response) => {
    const body = bodies.get(request.url ?? '');
    if (!body) return void response.writeHead(404).end('not found');
    response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) };
}

// Door camera: each enrolled student is in view for 2 or 3 consecutive frames between empty-room frames;
// a stranger too. MATCH_MIN_FRAMES (2) means a student is marked on the 2nd frame of their track.
const EMPTY = 'frames/01-empty-room.jpg';
const APPEARANCES = [
  { rollNo: 'obama', photo: 'obama.jpg', frames: ['track-frames/01-obama.jpg', 'track-frames/02-obama.jpg', 'track-frames/03-obama.jpg'] },
  { rollNo: 'rick', photo: 'rick.jpg', frames: ['track-frames/07-rick.jpg', 'track-frames/08-rick.jpg', 'track-frames/09-rick.jpg'] },
  { rollNo: undefined, photo: undefined, frames: ['track-frames/13-stranger.jpg', 'track-frames/14-stranger.jpg'] },
  { rollNo: 'daryl', photo: 'daryl-1.jpg', frames: ['track-frames/10-daryl.jpg', 'track-frames/11-daryl.jpg', 'track-frames/12-daryl.jpg'] },
];

export interface TimeToMark {
  rounds: number;
  appearances: number;
  marked: number;
  samplesMs: number[];
  medianMs: number;
  p95Ms: number;
  peakRssMb: number;
}

/**
 * Time to mark, over `rounds` fresh service processes (fresh data folder each, so every student can be marked again):
 * from the read of the first frame a student appears in (the worker's debug `frame read` line) to the moment their
 * record is in `attendance.json` (polled every 5 ms). Frames are replayed from a folder as fast as the worker takes them.
 */
export async function timeToMark(work: string, rounds: number, progress: (message: string) => void): Promise<TimeToMark> {
  const folder = path.join(work, 'door-frames');
  await mkdir(folder, { recursive: true });
  const sequence: string[] = [EMPTY, EMPTY];
  const firstFrame = new Map<string, number>();
  for (const appearance of APPEARANCES) {
    if (appearance.rollNo) firstFrame.set(appearance.rollNo, sequence.length + 1);
    sequence.push(...appearance.frames, EMPTY, EMPTY);
  }
  await Promise.all(sequence.map((file, index) => copyFile(path.join(FIXTURES, file), path.join(folder, `${String(index + 1).padStart(3, '0')}.jpg`))));
  const photos = new Map(await Promise.all(APPEARANCES.filter((a) => a.photo).map(async (a) => [`/${a.photo}`, await readFile(path.join(FIXTURES, 'photos', a.photo!))] as const)));
  const host = await servePhotos(photos);
  const samples: number[] = [];
  let peak = 0;
  try {
    for (let roundNo = 1; roundNo <= rounds; roundNo += 1) {
      progress(`time to mark: round ${roundNo}/${rounds}`);
      const dataDir = path.join(work, `mark-${roundNo}`);
      await mkdir(dataDir, { recursive: true });
      const students = APPEARANCES.filter((a) => a.rollNo).map((a) => ({ rollNo: a.rollNo!, url: `${host.origin}/${a.photo}` }));
      await writeFile(path.join(dataDir, 'students_data.json'), JSON.stringify(students));
      const service = await startRecognition(dataDir, folder, { LOG_LEVEL: 'debug' });
      try {
        const markedAt = new Map<string, number>();
        let polling = true;
        const poller = (async () => {
          while (polling) {
            const text = await readFile(path.join(dataDir, 'attendance.json'), 'utf8').catch(() => undefined);
            const now = Date.now();
            if (text) {
              try {
                for (const rollNo of markedIn(text)) if (!markedAt.has(rollNo)) markedAt.set(rollNo, now);
              } catch {
                // caught mid-write is impossible (atomic rename), but never let the poller die
              }
            }
            await new Promise((resolve) => setTimeout(resolve, POLL_MS));
          }
        })();
        const started = await postJson(`${service.recognition}/start-recognition`);
        if (started.status !== 200) throw new Error(`start-recognition: ${JSON.stringify(started.json)}`);
        const ended = await waitFor(async () => {
          const { json } = await getJson(`${service.recognition}/status`);
          return json.sourceEnded ? json : undefined;
        }, 'the door frames to be processed', 120_000);
        const asked = process.env.INFERENCE_BACKEND;
        if (asked && asked !== 'auto' && ended.backend !== asked) throw new Error(`the service ran ${ended.backend}, not INFERENCE_BACKEND=${asked}`);
        await new Promise((resolve) => setTimeout(resolve, 300)); // the last record's write
        polling = false;
        await poller;
        peak = Math.max(peak, await peakRssMb(service.child.pid!));
        const readAt = new Map<number, number>();
        for (const record of service.logs) if (record.msg === 'frame read') readAt.set(record.frame as number, record.seenAt as number);
        for (const [rollNo, frame] of firstFrame) {
          const read = readAt.get(frame);
          const marked = markedAt.get(rollNo);
          if (read === undefined) throw new Error(`no 'frame read' debug line for frame ${frame}`);
          if (marked !== undefined) samples.push(marked - read);
          else progress(`time to mark: ${rollNo} was not marked in round ${roundNo}`);
        }
      } finally {
        await service.stop();
      }
    }
  } finally {
    await host.close();
  }
  const appearances = rounds * firstFrame.size;
  return { rounds, appearances, marked: samples.length, samplesMs: samples, medianMs: percentile(samples, 50), p95Ms: percentile(samples, 95), peakRssMb: peak };
}

// One-face portraits; each student gets one of them with a unique JPEG comment, so neither the URL nor the SHA-256
// of the bytes repeats and every student's photo is really downloaded, decoded and encoded.
const PORTRAITS = ['obama.jpg', 'biden.jpg', 'kit_harington.jpg', 'rick.jpg', 'daryl-1.jpg', 'daryl-2.jpg', 'obama-3.jpg', 'rick-1.jpg', 'zy.jpg', 'zy-2.jpg'];

function withComment(jpeg: Buffer, comment: string): Buffer {
  const text = Buffer.from(comment);
  const segment = Buffer.alloc(4);
  segment.writeUInt16BE(0xfffe, 0);
  segment.writeUInt16BE(text.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), segment, text, jpeg.subarray(2)]); // right after SOI
}

export interface Enrollment {
  students: number;
  enrolled: number;
  errors: number;
  /** POST /start-recognition until GET /status says framesProcessed >= 1. */
  startToFirstFrameMs: number;
  /** The worker's own `enrollment finished` time (downloads + decoding + descriptors, or cache reads). */
  enrollmentMs: number | null;
  studentsPerSecond?: number;
  /** CPU seconds of the service process / wall seconds from start-recognition to first frame: 2 = both cores busy. */
  coresUsed: number;
  peakRssMb: number;
}

export async function oneFrameFolder(work: string): Promise<string> {
  const folder = path.join(work, 'one-frame');
  await mkdir(folder, { recursive: true });
  await copyFile(path.join(FIXTURES, EMPTY), path.join(folder, '1.jpg'));
  return folder;
}

export async function measureStart(dataDir: string, camera: string, students: number, env: Record<string, string> = {}): Promise<Enrollment> {
  const service = await startRecognition(dataDir, camera, env);
  try {
    const pid = service.child.pid!;
    const cpuBefore = await cpuSeconds(pid);
    const t0 = Date.now();
    const started = await postJson(`${service.recognition}/start-recognition`);
    if (started.status !== 200) throw new Error(`start-recognition: ${JSON.stringify(started.json)}`);
    // Until enrollment is over, its log line is watched every 5 ms and /status asked four times a second (for a failed
    // start): asked every 5 ms, /status took the cores the enrollment being measured needs (100 cold students 12.5 ->
    // 14.1 students/s). Then every 5 ms for the first frame.
    let lastAsked = Date.now();
    await pollUntil(async () => {
      if (service.logs.some((record) => record.msg === 'enrollment finished')) return true;
      if (Date.now() - lastAsked < ENROLLMENT_STATUS_MS) return undefined;
      lastAsked = Date.now();
      const { json } = await getJson(`${service.recognition}/status`);
      return json.framesProcessed >= 1 || json.sourceEnded || json.lastError ? true : undefined;
    }, 'the end of enrollment');
    const status = await pollUntil(async () => {
      const { status: code, json } = await getJson(`${service.recognition}/status`);
      if (code !== 200) throw new Error(`GET /status answered ${code}: ${JSON.stringify(json)}`);
      return json.framesProcessed >= 1 || json.sourceEnded || json.lastError ? json : undefined;
    }, 'the first processed frame');
    const wall = Date.now() - t0;
    const cpu = (await cpuSeconds(pid)) - cpuBefore;
    if (status.framesProcessed < 1) throw new Error(`no frame processed: ${JSON.stringify(status)}`);
    const finished = service.logs.find((record) => record.msg === 'enrollment finished');
    return {
      students,
      enrolled: status.enrolled,
      errors: status.enrollmentErrors.length,
      startToFirstFrameMs: wall,
      enrollmentMs: typeof finished?.ms === 'number' ? finished.ms : null,
      coresUsed: round(cpu / (wall / 1000), 2),
      peakRssMb: await peakRssMb(pid),
    };
  } finally {
    await service.stop();
  }
}

/** Cold enrollment: `count` students, photos served over HTTP from 127.0.0.1, empty descriptor cache. */
export async function coldEnrollment(work: string, count: number): Promise<Enrollment> {
  const originals = await Promise.all(PORTRAITS.map((name) => readFile(path.join(FIXTURES, 'photos', name))));
  const bodies = new Map<string, Buffer>();
  for (let i = 0; i < count; i += 1) bodies.set(`/p/${i}/${PORTRAITS[i % PORTRAITS.length]}`, withComment(originals[i % PORTRAITS.length]!, `bench student ${i}`));
  const host = await servePhotos(bodies);
  try {
    const dataDir = path.join(work, `cold-${count}`);
    await mkdir(dataDir, { recursive: true });
    const students = [...bodies.keys()].map((url, i) => ({ rollNo: `s${i}`, url: `${host.origin}${url}` }));
    await writeFile(path.join(dataDir, 'students_data.json'), JSON.stringify(students));
    const result = await measureStart(dataDir, await oneFrameFolder(work), count);
    if (result.enrollmentMs) result.studentsPerSecond = round(result.enrolled / (result.enrollmentMs / 1000), 1);
    return result;
  } finally {
    await host.close();
  }
}

/** Warm start: `count` students whose descriptors are all in `descriptors.json` (nothing to download; the URLs lead nowhere). */
export async function warmStart(work: string, count: number, realDescriptors: Float32Array[]): Promise<Enrollment> {
  const dataDir = path.join(work, `warm-${count}`);
  await mkdir(dataDir, { recursive: true });
  const students = Array.from({ length: count }, (_, i) => ({ rollNo: `s${i}`, url: `http://127.0.0.1:9/p/${i}.jpg` }));
  const cache: Record<string, { url: string; sha256: string; descriptor: string }[]> = {};
  students.forEach(({ rollNo, url }, i) => {
    const base = realDescriptors[i % realDescriptors.length]!;
    const jittered = base.map((value) => value + (Math.random() - 0.5) * 0.02);
    cache[rollNo] = [{ url, sha256: randomBytes(32).toString('hex'), descriptor: encodeDescriptor(jittered) }];
  });
  await writeFile(path.join(dataDir, 'students_data.json'), JSON.stringify(students));
  await writeFile(path.join(dataDir, 'descriptors.json'), JSON.stringify({ model: DESCRIPTOR_MODEL_VERSION, students: cache }));
  return measureStart(dataDir, await oneFrameFolder(work), count);
}


export interface RegistrationLoad {
  students: number;
  requests: number;
  peakRssMb: number;
}

/**
 * The registration service's peak RSS while it registers `count` students, 100 per POST /add-student, each request
 * rewriting students_data.json (registration only validates and stores: it never fetches photos).
 */
export async function registrationLoad(work: string, count: number): Promise<RegistrationLoad> {
  const dataDir = path.join(work, `registration-${count}`);
  await mkdir(dataDir, { recursive: true });
  const service = await startServices({ DATA_DIR: dataDir, RATE_LIMIT_PER_MINUTE: '1000000' }, 'registration');
  try {
    let requests = 0;
    for (let first = 0; first < count; first += 100) {
      const classStudents = Array.from({ length: Math.min(100, count - first) }, (_, i) => ({ rollNo: `r${first + i}`, url: `https://photos.example.invalid/${first + i}.jpg` }));
      const reply = await postJson(`${service.registration}/add-student`, { classStudents });
      if (reply.status !== 200) throw new Error(`add-student: ${JSON.stringify(reply.json)}`);
      requests += 1;
    }
    return { students: count, requests, peakRssMb: await peakRssMb(service.child.pid!) };
  } finally {
    await service.stop();
  }
}
