import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { describeCamera } from '../camera/open-frame-source.ts';
import type { Config } from '../config/config.ts';
import { AttendanceError } from '../errors.ts';
import type { AttendanceRecord, AttendanceStore } from '../storage/attendance-store.ts';
import { decodeDescriptor, encodeDescriptor, type DescriptorStore } from '../storage/descriptor-store.ts';
import type { EnrollmentOutcomes, EnrollmentStore } from '../storage/enrollment-store.ts';
import { DESCRIPTOR_MODEL_VERSION } from '../faces/face-engine.ts';
import { photoUrls, type Student, type StudentStore } from '../storage/student-store.ts';
import { dayIn, toTimestamp } from './attendance-clock.ts';
import { SessionEvents } from './session-events.ts';
import type { ControlMessage, EnrollmentProblem, SessionSettings, WorkerDiagnostics, WorkerMessage } from './worker/messages.ts';

const WORKER_URL = new URL('./worker/start-worker.mjs', import.meta.url);
const STOP_TIMEOUT_MS = 15_000;
const SNAPSHOT_WAIT_MS = 10_000;

export class SessionAlreadyRunningError extends AttendanceError {
  constructor() {
    super('SESSION_ALREADY_RUNNING', 'A face recognition session is already running. Stop it with POST /stop-recognition first.');
  }
}

/** Why there is no camera frame to show right now. */
export class NoSnapshotError extends AttendanceError {
  constructor(message: string) {
    super('NO_SNAPSHOT', message);
  }
}

export interface Snapshot {
  jpeg: Buffer;
  takenAt: Date;
}

export interface RecognitionStatus {
  running: boolean;
  sessionId: string | null;
  startedAt: string | null;
  camera: string;
  backend: string | null;
  phase: 'idle' | 'enrolling' | 'watching' | 'source-ended' | 'stopping' | 'failed';
  framesProcessed: number;
  sourceEnded: boolean;
  enrolled: number;
  enrollmentErrors: EnrollmentProblem[];
  recognizedThisSession: number;
  lastError: string | null;
  diagnostics: Diagnostics;
}

/** Memory and the counters that must stay level for the service to run all day (README, "Running all day"). */
export interface Diagnostics {
  /** This process: resident memory, the main thread's JavaScript heap, memory held outside it, open file descriptors (null where unknown). */
  process: { rssBytes: number; heapUsedBytes: number; externalBytes: number; arrayBuffersBytes: number; openFiles: number | null };
  /** Attendance, enrollment and descriptor writes of the session not finished yet. */
  pendingWrites: number;
  /** Clients following `GET /events`, and the events kept for them to catch up. */
  eventClients: number;
  keptEvents: number;
  /** The recognition worker's counters as of its latest frame; null before its first frame and when no session runs. */
  worker: WorkerDiagnostics | null;
}

interface Session {
  id: string;
  day: string;
  worker: Worker;
  exited: Promise<unknown>;
  /** The roster as this session read it at its start: what it writes is for students still registered so. */
  rosterAtStart: Map<string, Student>;
  pendingWrites: Set<Promise<void>>;
  status: RecognitionStatus;
}

export interface RecognitionSessionsOptions {
  config: Config;
  students: StudentStore;
  attendance: AttendanceStore;
  enrollments: EnrollmentStore;
  descriptors: DescriptorStore;
  logger: Logger;
  now?: () => Date;
}

/**
 * Runs at most one recognition session at a time. The worker thread does the camera and inference;
 * this side owns the stores: it reads the roster, records each recognition, and answers for the day.
 */
export class RecognitionSessions {
  readonly events = new SessionEvents();
  private session: Session | undefined;
  private lastStatus: RecognitionStatus;
  /** Starts and stops run one at a time, in arrival order: never two workers, never a stop that misses a start. */
  private transitions: Promise<unknown> = Promise.resolve();
  private readonly now: () => Date;

  constructor(private readonly options: RecognitionSessionsOptions) {
    this.now = options.now ?? (() => new Date());
    this.lastStatus = this.idleStatus();
  }

  status(): RecognitionStatus {
    const status = structuredClone(this.session?.status ?? this.lastStatus);
    status.diagnostics = this.diagnostics(this.session?.status.running ? status.diagnostics.worker : null);
    return status;
  }

  start(): Promise<void> {
    return this.serialized(async () => {
      if (this.session?.status.running) throw new SessionAlreadyRunningError();
      await this.dispose();
      this.session = await this.launch();
    });
  }

  /** Ends the running session, if any, once the camera is released; returns who was present on the session's day. */
  stop(): Promise<AttendanceRecord[]> {
    return this.serialized(() => this.stopNow());
  }

  private serialized<T>(transition: () => Promise<T>): Promise<T> {
    const result = this.transitions.then(transition);
    this.transitions = result.catch(() => {});
    return result;
  }

  private async stopNow(): Promise<AttendanceRecord[]> {
    const session = this.session;
    const day = session?.day ?? this.today();
    if (session) {
      session.status.phase = 'stopping';
      session.worker.postMessage({ type: 'stop' } satisfies ControlMessage);
      await this.waitForWorker(session);
      await this.dispose();
    }
    return this.options.attendance.listDay(day);
  }

  /**
   * The next frame the worker processes, with its faces boxed and labelled. The worker draws frames only for a few
   * seconds after each request, and neither side keeps one once it has been answered.
   */
  snapshot(): Promise<Snapshot> {
    const session = this.session;
    if (!session?.status.running) return Promise.reject(new NoSnapshotError('No recognition session is running: start one with POST /start-recognition.'));
    if (session.status.phase !== 'watching') {
      return Promise.reject(new NoSnapshotError(`The recognition session is ${session.status.phase}, not watching the camera.`));
    }
    const { worker } = session;
    return new Promise((resolve, reject) => {
      const finish = (outcome: () => void) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        outcome();
      };
      const onMessage = (message: WorkerMessage) => {
        if (message.type !== 'snapshot') return;
        const jpeg = Buffer.from(message.jpeg.buffer, message.jpeg.byteOffset, message.jpeg.byteLength);
        finish(() => resolve({ jpeg, takenAt: new Date(message.takenAt) }));
      };
      const onExit = () => finish(() => reject(new NoSnapshotError('The recognition session ended before a frame was processed.')));
      const timer = setTimeout(
        () => finish(() => reject(new NoSnapshotError(`No frame was processed within ${SNAPSHOT_WAIT_MS / 1000} s; see lastError in /status.`))),
        SNAPSHOT_WAIT_MS,
      );
      worker.on('message', onMessage);
      worker.once('exit', onExit);
      worker.postMessage({ type: 'snapshot-wanted' } satisfies ControlMessage);
    });
  }

  async close(): Promise<void> {
    if (this.session) await this.stop();
  }

  private diagnostics(worker: WorkerDiagnostics | null): Diagnostics {
    const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
    return {
      process: { rssBytes: rss, heapUsedBytes: heapUsed, externalBytes: external, arrayBuffersBytes: arrayBuffers, openFiles: openFileCount() },
      pendingWrites: this.session?.pendingWrites.size ?? 0,
      eventClients: this.events.listenerCount,
      keptEvents: this.events.keptCount,
      worker,
    };
  }

  private today(): string {
    return dayIn(this.options.config.TIME_ZONE, this.now());
  }

  private idleStatus(): RecognitionStatus {
    return {
      running: false,
      sessionId: null,
      startedAt: null,
      camera: describeCamera(this.options.config.CAMERA),
      backend: null,
      phase: 'idle',
      framesProcessed: 0,
      sourceEnded: false,
      enrolled: 0,
      enrollmentErrors: [],
      recognizedThisSession: 0,
      lastError: null,
      diagnostics: this.diagnostics(null),
    };
  }

  private async launch(): Promise<Session> {
    const { config, logger } = this.options;
    const startedAt = this.now();
    const day = dayIn(config.TIME_ZONE, startedAt);
    const [students, present, cached] = await Promise.all([
      this.options.students.list(),
      this.options.attendance.listDay(day),
      this.options.descriptors.list(DESCRIPTOR_MODEL_VERSION),
    ]);
    const cachedPhotos = Object.fromEntries(
      students.flatMap(({ rollNo }) => {
        const photos = cached[rollNo];
        return photos ? [[rollNo, photos.map((photo) => ({ ...photo, descriptor: decodeDescriptor(photo.descriptor) }))]] : [];
      }),
    );
    const settings: SessionSettings = {
      sessionId: randomUUID(),
      students: students.map(({ rollNo, url, urls }) => ({ rollNo, url, urls })),
      cachedPhotos,
      alreadyPresent: present.map((record) => record.rollNo),
      camera: config.CAMERA,
      modelsDir: config.MODELS_DIR,
      matchRule: { threshold: config.MATCH_THRESHOLD, margin: config.MATCH_MARGIN },
      matchMinFrames: config.MATCH_MIN_FRAMES,
      enrollmentThreads: config.ENROLLMENT_THREADS,
      photoDownload: {
        maxBytes: config.PHOTO_MAX_BYTES,
        timeoutMs: config.PHOTO_TIMEOUT_MS,
        maxRedirects: config.PHOTO_MAX_REDIRECTS,
        allowPrivateUrls: config.ALLOW_PRIVATE_URLS,
        privateHosts: config.PRIVATE_URL_HOSTS,
      },
      logLevel: config.LOG_LEVEL,
    };
    const worker = new Worker(WORKER_URL, { argv: ['./recognition-worker.ts'], workerData: settings });
    const session: Session = {
      id: settings.sessionId,
      day,
      worker,
      exited: new Promise((resolve) => worker.once('exit', resolve)),
      rosterAtStart: new Map(students.map((student) => [student.rollNo, student])),
      pendingWrites: new Set(),
      status: {
        ...this.idleStatus(),
        running: true,
        sessionId: settings.sessionId,
        startedAt: toTimestamp(startedAt),
        phase: 'enrolling',
      },
    };
    const log = logger.child({ sessionId: session.id });
    worker.on('message', (message: WorkerMessage) => this.handle(session, message, log));
    worker.on('error', (error) => {
      session.status.lastError = `recognition worker failed: ${error.message}`;
      log.error({ err: error }, 'recognition worker failed');
    });
    worker.on('exit', () => {
      if (session.status.phase !== 'stopping') {
        session.status.phase = 'failed';
        this.events.publish({ type: 'session-stopped', sessionId: session.id, reason: 'failed', recognizedThisSession: session.status.recognizedThisSession });
      }
      session.status.running = false;
    });
    log.info({ students: students.length, alreadyPresent: present.length, camera: session.status.camera }, 'recognition session started');
    this.events.publish({ type: 'session-started', sessionId: session.id, camera: session.status.camera, students: students.length });
    return session;
  }

  private handle(session: Session, message: WorkerMessage, log: Logger): void {
    const status = session.status;
    switch (message.type) {
      case 'enrolled':
        status.backend = message.backend;
        status.enrolled = message.enrolled;
        status.enrollmentErrors = message.problems;
        if (status.phase === 'enrolling') status.phase = 'watching';
        for (const { rollNo, code, message: problem } of message.problems) {
          this.events.publish({ type: 'enrollment-problem', sessionId: session.id, rollNo, code, message: problem });
        }
        this.recordEnrollment(session, message.enrolledRollNos, message.problems, log);
        this.recordDescriptors(session, message.cacheUpdates, log);
        break;
      case 'frame':
        status.framesProcessed = message.framesProcessed;
        status.diagnostics.worker = message.diagnostics;
        break;
      case 'recognized':
        this.record(session, message.rollNo, new Date(message.seenAt), log);
        break;
      case 'source-ended':
        status.sourceEnded = true;
        if (status.phase === 'watching') status.phase = 'source-ended';
        break;
      case 'problem':
        status.lastError = message.message;
        this.events.publish({ type: 'camera-error', sessionId: session.id, code: message.code, message: message.message });
        break;
      case 'stopped':
        break;
    }
  }

  private record(session: Session, rollNo: string, seenAt: Date, log: Logger): void {
    const day = dayIn(this.options.config.TIME_ZONE, seenAt);
    const mark = this.options.attendance
      .markPresent(day, { rollNo, timestamp: toTimestamp(seenAt) }, (rollNos) => this.stillOnRoster(session, rollNos, sameRegistration))
      .then((isNew) => {
        if (!isNew) return;
        session.status.recognizedThisSession += 1;
        log.info({ rollNo, day }, 'student marked present');
        this.events.publish({ type: 'student-present', sessionId: session.id, rollNo, day, timestamp: toTimestamp(seenAt) });
      })
      .catch((error: Error) => {
        session.status.lastError = `could not record attendance of ${rollNo}: ${error.message}`;
        log.error({ err: error, rollNo }, 'could not record attendance');
      })
      .finally(() => session.pendingWrites.delete(mark));
    session.pendingWrites.add(mark);
  }

  /** Keeps the verdict on each photo tried, so the registration service can tell which photos need replacing. */
  private recordEnrollment(session: Session, enrolledRollNos: string[], problems: EnrollmentProblem[], log: Logger): void {
    const checkedAt = toTimestamp(this.now());
    const outcomes: EnrollmentOutcomes = {};
    for (const rollNo of enrolledRollNos) outcomes[rollNo] = { usable: true, url: session.rosterAtStart.get(rollNo)!.url, checkedAt };
    for (const { rollNo, code, message } of problems) outcomes[rollNo] = { usable: false, url: session.rosterAtStart.get(rollNo)!.url, checkedAt, code, message };
    const write = this.options.enrollments
      .recordMany(outcomes, (rollNos) => this.stillOnRoster(session, rollNos, samePhotos))
      .catch((error: Error) => {
        session.status.lastError = `could not record enrollment outcomes: ${error.message}`;
        log.error({ err: error }, 'could not record enrollment outcomes');
      })
      .finally(() => session.pendingWrites.delete(write));
    session.pendingWrites.add(write);
  }

  private recordDescriptors(session: Session, updates: Record<string, { url: string; sha256: string; descriptor: Float32Array }[]>, log: Logger): void {
    const encoded = Object.fromEntries(
      Object.entries(updates).map(([rollNo, photos]) => [rollNo, photos.map((photo) => ({ ...photo, descriptor: encodeDescriptor(photo.descriptor) }))]),
    );
    const write = this.options.descriptors
      .recordMany(DESCRIPTOR_MODEL_VERSION, encoded, (rollNos) => this.stillOnRoster(session, rollNos, samePhotos))
      .catch((error: Error) => {
        session.status.lastError = `could not record the descriptor cache: ${error.message}`;
        log.error({ err: error }, 'could not record the descriptor cache');
      })
      .finally(() => session.pendingWrites.delete(write));
    session.pendingWrites.add(write);
  }

  /**
   * Which of `rollNos` are still registered as this session read them (`same`). A student removed (or re-photographed)
   * meanwhile must not be marked or get a verdict or descriptors back: the stores ask this while holding off their
   * `remove`, and the registration service removes the roster entry before what was derived from it.
   */
  private async stillOnRoster(session: Session, rollNos: string[], same: (atStart: Student, now: Student) => boolean): Promise<ReadonlySet<string>> {
    const roster = new Map((await this.options.students.list()).map((student) => [student.rollNo, student]));
    return new Set(
      rollNos.filter((rollNo) => {
        const atStart = session.rosterAtStart.get(rollNo);
        const now = roster.get(rollNo);
        return atStart !== undefined && now !== undefined && same(atStart, now);
      }),
    );
  }

  private async waitForWorker(session: Session): Promise<void> {
    const stopped = new Promise<void>((resolve) => {
      session.worker.on('message', (message: WorkerMessage) => message.type === 'stopped' && resolve());
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        session.status.lastError = `recognition worker did not stop within ${STOP_TIMEOUT_MS / 1000} s; it was terminated`;
        resolve();
      }, STOP_TIMEOUT_MS);
    });
    await Promise.race([stopped, session.exited, timedOut]);
    clearTimeout(timer);
  }

  /** Terminates the worker of a finished session and keeps its final status for `/status`. */
  private async dispose(): Promise<void> {
    const session = this.session;
    if (!session) return;
    await session.worker.terminate();
    await session.exited;
    while (session.pendingWrites.size > 0) await Promise.all(session.pendingWrites);
    session.status.running = false;
    if (session.status.phase === 'stopping') {
      session.status.phase = 'idle';
      this.events.publish({ type: 'session-stopped', sessionId: session.id, reason: 'stopped', recognizedThisSession: session.status.recognizedThisSession });
    }
    this.lastStatus = session.status;
    this.session = undefined;
  }
}

/** Open file descriptors of this process (Linux's /proc), or null where they cannot be counted. */
function openFileCount(): number | null {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return null;
  }
}

/** Not removed (and registered again) since. */
function sameRegistration(atStart: Student, now: Student): boolean {
  return atStart.registeredAt === now.registeredAt;
}

/** Not removed, and not given other photos (even under the same URL) since. */
function samePhotos(atStart: Student, now: Student): boolean {
  return sameRegistration(atStart, now) && atStart.photoReplacedAt === now.photoReplacedAt && photoUrls(atStart).join('\n') === photoUrls(now).join('\n');
}
