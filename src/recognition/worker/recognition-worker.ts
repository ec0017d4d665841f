import { parentPort, workerData } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeCamera, openFrameSource } from '../../camera/open-frame-source.ts';
import type { FrameSource } from '../../camera/frame-source.ts';
import { AttendanceError } from '../../errors.ts';
import { loadFaceEngine, type FaceEngine } from '../../faces/face-engine.ts';
import { FaceMatcher } from '../../faces/face-matcher.ts';
import { decodeImage } from '../../faces/decode-image.ts';
import { FRAME_MAX_SIDE } from '../../faces/find-faces.ts';
import { createLogger } from '../../logger.ts';
import { PhotoDownloader } from '../../photos/download-photo.ts';
import { dayIn } from '../attendance-clock.ts';
import { drawSnapshot } from './draw-snapshot.ts';
import { DailyReports } from './daily-reports.ts';
import { DescriberPool } from './describer-pool.ts';
import { describeWith, enrollStudents, uncachedPhotoCount } from './enroll-students.ts';
import { FaceTracks } from './face-tracks.ts';
import { FrameRecognizer } from './frame-recognizer.ts';
import { recognizeClassPhoto } from './class-photo.ts';
import type { ClassPhotoRequest, ControlMessage, SessionSettings, WorkerDiagnostics, WorkerMessage } from './messages.ts';

const CAMERA_RETRY_MAX_MS = 30_000;
const SNAPSHOT_INTEREST_MS = 5_000;
const MIN_PHOTOS_FOR_EXTRA_THREADS = 8;
const TRACK_MAX_GAP_FRAMES = 2;
/** A 12-megapixel phone photo (4032x3024) is examined at its full size: the back row's faces need every pixel. */
const CLASS_PHOTO_MAX_SIDE = 4096;

const settings = workerData as SessionSettings;
const port = parentPort!;
const log = createLogger(settings.logLevel, { sessionId: settings.sessionId, thread: 'recognition-worker' });
const stopping = new AbortController();
let source: FrameSource | undefined;

const send = (message: WorkerMessage) => port.postMessage(message);

// Frames are only drawn and encoded while someone has asked for a snapshot recently.
let snapshotWantedUntil = 0;

port.on('message', (message: ControlMessage) => {
  if (message.type === 'snapshot-wanted') snapshotWantedUntil = Date.now() + SNAPSHOT_INTEREST_MS;
  if (message.type !== 'stop') return;
  stopping.abort();
  // Wakes a frame source that is waiting for the camera, so stopping never waits for the next frame.
  void source?.close();
});

async function run(): Promise<void> {
  const engine = await loadFaceEngine(settings.modelsDir, settings.inferenceBackend, settings.inferenceThreads);
  try {
    const matcher = await enroll(engine);
    if (!stopping.signal.aborted) {
      if (settings.classPhoto) await examineClassPhoto(engine, matcher, settings.classPhoto);
      else await watch(engine, matcher);
    }
  } finally {
    await engine.release();
  }
  await waitForStop();
  send({ type: 'stopped' });
}

async function enroll(engine: FaceEngine): Promise<FaceMatcher> {
  const downloader = new PhotoDownloader(settings.photoDownload);
  // Extra inference threads pay for their model loading only when there are enough photos to encode.
  // A native engine spreads each inference over INFERENCE_THREADS cores instead, and holds this thread while it runs:
  // two photos at a time, so the next one is decoded (on sharp's threads) while the other is inferred (in-process,
  // 100 photos: 62.6-64.4 -> 60.6-60.9 ms a photo). More would only wait, holding their decoded images.
  const enoughPhotos = uncachedPhotoCount(settings.students, settings.cachedPhotos) >= MIN_PHOTOS_FOR_EXTRA_THREADS;
  const extraThreads = enoughPhotos && !engine.nativeThreads ? settings.enrollmentThreads - 1 : 0;
  const localLanes = engine.nativeThreads ? 2 : 1;
  const describer = await DescriberPool.start(describeWith(engine), localLanes, extraThreads, { modelsDir: settings.modelsDir, backend: settings.inferenceBackend });
  try {
    const started = Date.now();
    const { enrolled, problems, backgroundFaces, cacheUpdates } = await enrollStudents(settings.students, settings.cachedPhotos, describer.describe, downloader, stopping.signal);
    log.info({ enrolled: enrolled.length, otherClassStudents: settings.otherClasses.length, problems: problems.length, studentsWithBackgroundFaces: backgroundFaces.size, ms: Date.now() - started, threads: extraThreads + 1, photosAtOnce: localLanes + extraThreads, backend: engine.backend }, 'enrollment finished');
    for (const problem of problems) log.warn(problem, 'student photo unusable');
    // A student enrolled with several photos has several entries: count students, not photos.
    const enrolledRollNos = [...new Set(enrolled.map((face) => face.rollNo))];
    send({ type: 'enrolled', backend: engine.backend, enrolled: enrolledRollNos.length, enrolledRollNos, problems, backgroundFaces, cacheUpdates });
    const otherClasses = settings.otherClasses.flatMap((photos, student) => photos.map((descriptor) => ({ rollNo: `other-class-${student}`, descriptor })));
    return new FaceMatcher(enrolled, settings.matchRule, otherClasses);
  } finally {
    await Promise.all([downloader.close(), describer.close()]);
  }
}

async function watch(engine: FaceEngine, matcher: FaceMatcher): Promise<void> {
  const reports = new DailyReports(settings.day, settings.alreadyPresent);
  let framesProcessed = 0;
  let failures = 0;
  const tracks = new FaceTracks({ minFrames: settings.matchMinFrames, maxGapFrames: TRACK_MAX_GAP_FRAMES });
  const recognizer = new FrameRecognizer(engine, matcher, tracks, settings.matchMinFrames);
  source = openFrameSource(settings.camera);
  log.info({ camera: describeCamera(settings.camera) }, 'watching camera');
  try {
    while (!stopping.signal.aborted) {
      let frame: Buffer | undefined;
      try {
        frame = await source.nextFrame();
        failures = 0;
      } catch (error) {
        if (stopping.signal.aborted) break;
        failures += 1;
        const retryMs = Math.min(1000 * 2 ** (failures - 1), CAMERA_RETRY_MAX_MS);
        reportProblem(error, `retrying in ${retryMs / 1000} s`);
        await source.close();
        await sleep(retryMs, undefined, { signal: stopping.signal }).catch(() => {});
        source = openFrameSource(settings.camera);
        continue;
      }
      if (frame === undefined) {
        if (!stopping.signal.aborted) {
          log.info({ framesProcessed }, 'frame source has no more frames');
          send({ type: 'source-ended' });
        }
        break;
      }
      const seenAt = Date.now();
      // Timing hook for `npm run bench` (time to mark): when each frame was read, at LOG_LEVEL=debug only.
      log.debug({ frame: framesProcessed + 1, seenAt }, 'frame read');
      try {
        const image = await decodeImage(frame, { maxSide: FRAME_MAX_SIDE });
        const { faces, confirmed } = await recognizer.recognize(image, seenAt);
        const day = dayIn(settings.timeZone, new Date(seenAt));
        for (const match of confirmed) {
          if (!reports.take(match.rollNo, day)) continue;
          send({ type: 'recognized', rollNo: match.rollNo, distance: match.distance, seenAt });
        }
        if (Date.now() < snapshotWantedUntil) {
          const labelled = faces.map(({ box, match }) => ({ box, label: match?.rollNo ?? 'unknown' }));
          send({ type: 'snapshot', jpeg: await drawSnapshot(image, labelled), takenAt: seenAt });
        }
      } catch (error) {
        reportProblem(error, 'frame skipped');
      }
      framesProcessed += 1;
      send({ type: 'frame', framesProcessed, diagnostics: diagnostics(engine, tracks, source) });
    }
  } finally {
    await source.close();
    log.info({ framesProcessed }, 'camera released');
  }
}

/** A session over one class photo: every face with its verdict, and the students it recognised reported as marks. */
async function examineClassPhoto(engine: FaceEngine, matcher: FaceMatcher, request: ClassPhotoRequest): Promise<void> {
  try {
    const image = await decodeImage(request.bytes, { maxSide: CLASS_PHOTO_MAX_SIDE });
    const seenAt = Date.now();
    const faces = await recognizeClassPhoto(engine, matcher, image);
    for (const face of faces) {
      if (face.verdict === 'recognized') send({ type: 'recognized', rollNo: face.rollNo!, distance: face.distance!, seenAt });
    }
    const labelled = faces.map(({ box, verdict, rollNo }) => ({ box, label: verdict === 'recognized' ? rollNo! : 'unknown' }));
    const annotatedJpeg = request.annotated ? await drawSnapshot(image, labelled) : undefined;
    log.info({ faces: faces.length, recognized: labelled.filter((face) => face.label !== 'unknown').length, ms: Date.now() - seenAt }, 'class photo examined');
    send({ type: 'class-photo', width: image.width, height: image.height, faces, annotatedJpeg });
  } catch (error) {
    if (!(error instanceof AttendanceError)) throw error;
    send({ type: 'class-photo-failed', code: error.code, message: error.message });
  }
}

function diagnostics(engine: FaceEngine, tracks: FaceTracks, source: FrameSource): WorkerDiagnostics {
  const { heapUsed, external, arrayBuffers } = process.memoryUsage();
  const inference = engine.memory();
  return {
    tracks: tracks.size,
    queuedFrames: source.queuedFrames,
    heapUsedBytes: heapUsed,
    externalBytes: external,
    arrayBuffersBytes: arrayBuffers,
    tensors: inference.tensors,
    tensorBytes: inference.tensorBytes,
    inferenceHeapBytes: inference.heapBytes,
  };
}

function reportProblem(error: unknown, consequence: string): void {
  const code = error instanceof AttendanceError ? error.code : 'UNEXPECTED';
  const message = `${error instanceof Error ? error.message : String(error)} (${consequence})`;
  log.warn({ code }, message);
  send({ type: 'problem', code, message });
}

function waitForStop(): Promise<void> {
  if (stopping.signal.aborted) return Promise.resolve();
  return new Promise((resolve) => stopping.signal.addEventListener('abort', () => resolve(), { once: true }));
}

await run();
