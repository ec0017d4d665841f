// npm run bench:soak: does the recognition service run all day? See README, "Running all day".
// The real service as a child process (src/recognition/server.ts, its worker thread, real inference) watching a
// looped ffmpeg stream for SOAK_MINUTES per stream, with an /events client connected, a snapshot each minute and
// /status polled; then ten start/stop cycles. Per minute: RSS, JS heaps, the inference heap, tensors, open fds.
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ffmpegBinary } from '../src/camera/ffmpeg-source.ts';
import { loadFaceEngine } from '../src/faces/face-engine.ts';
import { openEventStream } from '../test/helpers/event-stream.ts';
import { getJson, postJson, startServices, waitFor, type RunningServices } from '../test/helpers/service-process.ts';
import { FIXTURES, makeFaceTiles, PEOPLE, TILE_SIZE } from './bench-faces.ts';
import { makeStream, STREAM_FPS } from './make-stream.ts';
import { round } from './stream-throughput.ts';
import { servePhotos } from './service-bench.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const MINUTES = Number(process.env.SOAK_MINUTES ?? 30);
const WARM_UP_MINUTES = Math.min(5, Math.max(0, MINUTES - 2));
const MINUTE_MS = Number(process.env.SOAK_MINUTE_MS ?? 60_000);
const CYCLES = Number(process.env.SOAK_CYCLES ?? 10);
const BACKEND = process.env.SOAK_BACKEND ?? 'auto';
// SOAK_REALTIME=1: the camera delivers the clip's 15 frames/s as a webcam would, whatever the service's speed, so the
// load (and with it the memory in flight) stays the same while other work on the machine comes and goes.
const REALTIME = process.env.SOAK_REALTIME === '1';
const STATUS_POLL_MS = 2_000;
// Each start/stop cycle watches this many frames: models loaded, the inference heap at its peak, tracks formed.
const CYCLE_FRAMES = 10;
const STOP_SETTLE_MS = 2_000;
const CLIP_SECONDS = 60;
// 4 students seen in the stream (enrolled from another photo of them) and 37 more who are not, as the school had.
const ROSTER_EXTRA = 37;
const PORTRAITS = ['obama.jpg', 'biden.jpg', 'kit_harington.jpg', 'rick.jpg', 'daryl-1.jpg', 'daryl-2.jpg', 'obama-3.jpg', 'rick-1.jpg', 'zy.jpg', 'zy-2.jpg'];

// The classroom's faces are larger in pixels, as a camera framing a room at 1280x720 sees them: the cheap detector works
// on the frame scaled to 416 px, where the door stream's 112 px tiles would shrink below the faces it finds.
const STREAMS = {
  door: { width: 640, height: 480, tileSize: TILE_SIZE, faces: 5 },
  classroom: { width: 1280, height: 720, tileSize: 192, faces: 12 },
  'classroom-1080p': { width: 1920, height: 1080, tileSize: 288, faces: 12 },
} as const;
type StreamName = keyof typeof STREAMS;
const chosen = (process.env.SOAK_STREAMS ?? 'door,classroom').split(',').map((name) => name.trim()) as StreamName[];
for (const name of chosen) if (!(name in STREAMS)) throw new Error(`SOAK_STREAMS: unknown stream ${name} (${Object.keys(STREAMS).join(', ')})`);

const progress = (message: string) => process.stderr.write(`soak: ${message}\n`);
const mb = (bytes: number | null | undefined) => (bytes == null ? null : round(bytes / 2 ** 20, 1));

interface Sample {
  minute: number;
  framesProcessed: number;
  framesPerSecond: number;
  rssMb: number;
  /** RSS read every 2 s through the minute: one reading swings ±15 MB as the worker's heap is collected. */
  rssMedianMb: number;
  rssMinMb: number;
  rssMaxMb: number;
  mainHeapMb: number;
  workerHeapMb: number | null;
  inferenceHeapMb: number | null;
  tensors: number | null;
  tensorMb: number | null;
  openFiles: number;
  tracks: number | null;
  queuedFrames: number | null;
  pendingWrites: number;
  eventClients: number;
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return round(Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024, 1);
}

/** Open file descriptors other than sockets: the HTTP clients' connections come and go, a leaked file or pipe stays. */
async function openFiles(pid: number): Promise<number> {
  const fds = await readdir(`/proc/${pid}/fd`);
  const targets = await Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => 'gone')));
  return targets.filter((target) => !target.startsWith('socket:') && target !== 'gone').length;
}

/** Least-squares slope of `value` over `minute`, per minute. */
function slope(points: { minute: number; value: number }[]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, p) => s + p.minute, 0) / n;
  const my = points.reduce((s, p) => s + p.value, 0) / n;
  const num = points.reduce((s, p) => s + (p.minute - mx) * (p.value - my), 0);
  const den = points.reduce((s, p) => s + (p.minute - mx) ** 2, 0);
  return num / den;
}

function withComment(jpeg: Buffer, comment: string): Buffer {
  const text = Buffer.from(comment);
  const segment = Buffer.alloc(4);
  segment.writeUInt16BE(0xfffe, 0);
  segment.writeUInt16BE(text.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), segment, text, jpeg.subarray(2)]);
}

/** The roster: the enrolled people of the stream, and strangers to it (unique bytes each, so each is really encoded). */
async function rosterPhotos(): Promise<Map<string, Buffer>> {
  const bodies = new Map<string, Buffer>();
  for (const person of PEOPLE) if (person.rollNo && person.enrollPhoto) bodies.set(`/${person.rollNo}.jpg`, await readFile(path.join(FIXTURES, person.enrollPhoto)));
  for (let i = 0; i < ROSTER_EXTRA; i += 1) {
    const portrait = await readFile(path.join(FIXTURES, 'photos', PORTRAITS[i % PORTRAITS.length]!));
    bodies.set(`/extra-${i}.jpg`, withComment(portrait, `soak roster ${i}`));
  }
  return bodies;
}

/**
 * An ffmpeg that loops its input for ever (`-stream_loop -1` goes before the one input): a short clip becomes a
 * camera that never ends. Read at the pace of analysis like any video file, so every frame is analysed; or, with
 * SOAK_REALTIME=1, at the clip's own frame rate (`-re`), as a live camera delivers it.
 */
async function loopingFfmpeg(work: string): Promise<string> {
  const script = path.join(work, 'ffmpeg-looping');
  const inputOptions = REALTIME ? '-re -stream_loop -1' : '-stream_loop -1';
  await writeFile(script, `#!/bin/sh\nexec '${ffmpegBinary().replaceAll("'", "'\\''")}' ${inputOptions} "$@"\n`, { mode: 0o755 });
  return script;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function sample(service: RunningServices, minute: number, framesBefore: number, elapsedMs: number, rssReadings: number[]): Promise<Sample> {
  const pid = service.child.pid!;
  const rss = await rssMb(pid);
  const readings = [...rssReadings, rss];
  const { json } = await getJson(`${service.recognition}/status`);
  const { diagnostics } = json;
  const worker = diagnostics.worker;
  return {
    minute,
    framesProcessed: json.framesProcessed,
    framesPerSecond: round((json.framesProcessed - framesBefore) / (elapsedMs / 1000), 1),
    rssMb: rss,
    rssMedianMb: round(median(readings), 1),
    rssMinMb: Math.min(...readings),
    rssMaxMb: Math.max(...readings),
    mainHeapMb: mb(diagnostics.process.heapUsedBytes)!,
    workerHeapMb: mb(worker?.heapUsedBytes),
    inferenceHeapMb: mb(worker?.inferenceHeapBytes),
    tensors: worker?.tensors ?? null,
    tensorMb: mb(worker?.tensorBytes),
    openFiles: await openFiles(pid),
    tracks: worker?.tracks ?? null,
    queuedFrames: worker?.queuedFrames ?? null,
    pendingWrites: diagnostics.pendingWrites,
    eventClients: diagnostics.eventClients,
  };
}

async function startSession(service: RunningServices): Promise<void> {
  const started = await postJson(`${service.recognition}/start-recognition`);
  if (started.status !== 200) throw new Error(`start-recognition: ${JSON.stringify(started.json)}`);
  await waitFor(async () => {
    const { json } = await getJson(`${service.recognition}/status`);
    if (json.phase === 'failed' || json.sourceEnded) throw new Error(`session ended: ${JSON.stringify(json)}`);
    return json.framesProcessed >= 1 ? true : undefined;
  }, 'the first frame', 600_000);
}

async function soak(name: StreamName, work: string, tiles: (size: number) => Promise<string[]>, photos: { origin: string; bodies: Map<string, Buffer> }, ffmpeg: string) {
  const { width, height, tileSize, faces } = STREAMS[name];
  progress(`${name}: encoding a ${CLIP_SECONDS} s ${width}x${height} clip with ${faces} faces`);
  const sized = await tiles(tileSize);
  const faceTiles = Array.from({ length: faces }, (_, i) => sized[i % sized.length]!);
  const clip = await makeStream(faceTiles, CLIP_SECONDS, path.join(work, `${name}.avi`), { width, height, tileSize });
  const dataDir = path.join(work, `data-${name}`);
  await mkdir(dataDir, { recursive: true });
  await writeFile(path.join(dataDir, 'students_data.json'), JSON.stringify([...photos.bodies.keys()].map((url) => ({ rollNo: path.basename(url, '.jpg'), url: `${photos.origin}${url}` }))));
  const service = await startServices(
    { DATA_DIR: dataDir, CAMERA: `ffmpeg:${clip}`, FFMPEG_PATH: ffmpeg, ALLOW_PRIVATE_URLS: '1', RATE_LIMIT_PER_MINUTE: '1000000', INFERENCE_BACKEND: BACKEND },
    'recognition',
  );
  const events = await openEventStream(`${service.recognition}/events`);
  let polling = true;
  let rssReadings: number[] = [];
  const poller = (async () => {
    while (polling) {
      await getJson(`${service.recognition}/status`);
      rssReadings.push(await rssMb(service.child.pid!));
      await new Promise((resolve) => setTimeout(resolve, STATUS_POLL_MS));
    }
  })();
  try {
    progress(`${name}: enrolling ${photos.bodies.size} students`);
    await startSession(service);
    const samples: Sample[] = [await sample(service, 0, 0, 1, [])];
    const { json: status } = await getJson(`${service.recognition}/status`);
    const backend: string = status.backend ?? BACKEND;
    rssReadings = [];
    let snapshots = 0;
    const started = Date.now();
    for (let minute = 1; minute <= MINUTES; minute += 1) {
      const snapshot = await fetch(`${service.recognition}/snapshot.jpg`);
      if (snapshot.status === 200 && (await snapshot.arrayBuffer()).byteLength > 0) snapshots += 1;
      await new Promise((resolve) => setTimeout(resolve, started + minute * MINUTE_MS - Date.now()));
      const previous = samples.at(-1)!;
      samples.push(await sample(service, minute, previous.framesProcessed, MINUTE_MS, rssReadings));
      rssReadings = [];
      const last = samples.at(-1)!;
      progress(`${name} minute ${minute}/${MINUTES}: ${last.framesPerSecond} frames/s, RSS ${last.rssMedianMb} MB (${last.rssMinMb}–${last.rssMaxMb}), worker heap ${last.workerHeapMb} MB, inference heap ${last.inferenceHeapMb} MB, ${last.tensors} tensors, ${last.openFiles} fds, ${last.tracks} tracks`);
    }
    const watched = samples.filter((s) => s.minute >= WARM_UP_MINUTES);
    const first = watched[0]!;
    const last = samples.at(-1)!;
    const beforeCycles = { rssMb: await rssMb(service.child.pid!), openFiles: await openFiles(service.child.pid!) };
    await postJson(`${service.recognition}/stop-recognition`);
    const afterFirstStop = { rssMb: await rssMb(service.child.pid!), openFiles: await openFiles(service.child.pid!) };
    const cycles: { cycle: number; rssWatchingMb: number; rssStoppedMb: number; mainHeapStoppedMb: number; openFilesStopped: number }[] = [];
    for (let cycle = 1; cycle <= CYCLES; cycle += 1) {
      await startSession(service);
      await waitFor(async () => ((await getJson(`${service.recognition}/status`)).json.framesProcessed >= CYCLE_FRAMES ? true : undefined), 'frames', 600_000);
      const rssWatchingMb = await rssMb(service.child.pid!);
      const stopped = await postJson(`${service.recognition}/stop-recognition`);
      if (stopped.status !== 200) throw new Error(`stop-recognition: ${JSON.stringify(stopped.json)}`);
      // The worker's thread and isolate are torn down after the stop is answered.
      await new Promise((resolve) => setTimeout(resolve, STOP_SETTLE_MS));
      const { diagnostics } = (await getJson(`${service.recognition}/status`)).json;
      const mainHeapStoppedMb = mb(diagnostics.process.heapUsedBytes)!;
      cycles.push({ cycle, rssWatchingMb, rssStoppedMb: await rssMb(service.child.pid!), mainHeapStoppedMb, openFilesStopped: await openFiles(service.child.pid!) });
      progress(`${name} start/stop cycle ${cycle}/${CYCLES}: RSS ${rssWatchingMb} MB watching, ${cycles.at(-1)!.rssStoppedMb} MB stopped, main heap ${mainHeapStoppedMb} MB`);
    }
    const summary = {
      warmUpMinutes: WARM_UP_MINUTES,
      rssGrowthAfterWarmUpMb: round(last.rssMedianMb - first.rssMedianMb, 1),
      rssSlopeMbPerMinute: round(slope(watched.map((s) => ({ minute: s.minute, value: s.rssMedianMb }))), 2),
      workerHeapSlopeMbPerMinute: round(slope(watched.map((s) => ({ minute: s.minute, value: s.workerHeapMb ?? NaN }))), 2),
      mainHeapSlopeMbPerMinute: round(slope(watched.map((s) => ({ minute: s.minute, value: s.mainHeapMb }))), 2),
      inferenceHeapMb: [...new Set(watched.map((s) => s.inferenceHeapMb))],
      tensors: [...new Set(watched.map((s) => s.tensors))],
      openFiles: [...new Set(watched.map((s) => s.openFiles))],
      maxTracks: Math.max(...watched.map((s) => s.tracks ?? 0)),
      maxQueuedFrames: Math.max(...watched.map((s) => s.queuedFrames ?? 0)),
      meanFramesPerSecond: round((last.framesProcessed - samples[0]!.framesProcessed) / ((MINUTES * MINUTE_MS) / 1000), 1),
      snapshots,
      eventsReceived: events.events.length,
      startStop: {
        rssBeforeMb: beforeCycles.rssMb,
        rssAfterFirstStopMb: afterFirstStop.rssMb,
        rssAfterFirstCycleMb: cycles[0]?.rssStoppedMb ?? null,
        rssAfterCyclesMb: cycles.at(-1)?.rssStoppedMb ?? null,
        // glibc's arenas settle over the first cycles; a leak keeps climbing in the later ones as well.
        rssSlopeOverLaterHalfMbPerCycle: round(slope(cycles.slice(Math.floor(cycles.length / 2)).map((c) => ({ minute: c.cycle, value: c.rssStoppedMb }))), 2),
        openFilesBefore: beforeCycles.openFiles,
        openFilesAfterCycles: cycles.at(-1)?.openFilesStopped ?? null,
      },
      flat: false,
    };
    // Cycles return memory when the last one leaves the process where the first one did (a session's worker and its
    // inference heap go with it; what stays is the service's own).
    summary.flat =
      summary.rssGrowthAfterWarmUpMb <= 10 && summary.tensors.length === 1 && summary.openFiles.length === 1 &&
      (summary.startStop.rssAfterCyclesMb ?? Infinity) <= (cycles[0]?.rssStoppedMb ?? -Infinity) + 10;
    return { backend, stream: { name, width, height, tileSize, faces, clipSeconds: CLIP_SECONDS, looped: true, cameraFramesPerSecond: REALTIME ? STREAM_FPS : 'as fast as analysed' }, roster: photos.bodies.size, minutes: MINUTES, samples, cycles, summary };
  } finally {
    polling = false;
    await poller;
    events.close();
    await service.stop();
  }
}

const work = await mkdtemp(path.join(os.tmpdir(), 'attendance-soak-'));
try {
  progress('cutting face tiles from the fixtures');
  const engine = await loadFaceEngine(path.join(ROOT, 'models'), 'auto');
  const tiles = (size: number) => makeFaceTiles(engine, path.join(work, `tiles-${size}`), size);
  const bodies = await rosterPhotos();
  const host = await servePhotos(bodies);
  const ffmpeg = await loopingFfmpeg(work);
  try {
    for (const name of chosen) {
      const result = await soak(name, work, tiles, { origin: host.origin, bodies }, ffmpeg);
      const machine = { cores: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', loadAverage: os.loadavg().map((load) => round(load, 2)) };
      const file = path.join(ROOT, `bench/results/soak-${name}-${result.backend}.json`);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, `${JSON.stringify({ date: new Date().toISOString(), machine, ...result }, null, 2)}\n`);
      const s = result.summary;
      console.log(
        `${name} on ${result.backend} (${result.stream.width}x${result.stream.height}, ${result.stream.faces} faces, ${MINUTES} min at ${s.meanFramesPerSecond} frames/s): ` +
          `RSS +${s.rssGrowthAfterWarmUpMb} MB after minute ${s.warmUpMinutes} (slope ${s.rssSlopeMbPerMinute} MB/min), ` +
          `inference heap ${s.inferenceHeapMb.join('/')} MB, tensors ${s.tensors.join('/')}, fds ${s.openFiles.join('/')}; ` +
          `stopped: RSS ${s.startStop.rssAfterFirstStopMb} MB, after the first of ${CYCLES} start/stop cycles ${s.startStop.rssAfterFirstCycleMb} MB, after the last ${s.startStop.rssAfterCyclesMb} MB (${s.startStop.rssSlopeOverLaterHalfMbPerCycle} MB a cycle over the later half); ${s.flat ? 'flat' : 'NOT flat'} (${path.relative(ROOT, file)})`,
      );
    }
  } finally {
    await host.close();
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
