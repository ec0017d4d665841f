import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { describeCamera } from '../camera/open-frame-source.ts';
import type { Config } from '../config/config.ts';
import { giveFreedMemoryBack } from '../config/malloc-tuning.ts';
import { AttendanceError, DataFileCorruptError, DataFileNotWritableError, DatabaseUnavailableError, EnrollmentError, LockTimeoutError } from '../errors.ts';
import type { PhotoDownloadOptions } from '../photos/download-photo.ts';
import { recordOfMark, type AttendanceRecord, type AttendanceStore, type PhotoRecord } from '../storage/attendance-store.ts';
import { decodeDescriptor, encodeDescriptor, type DescriptorStore } from '../storage/descriptor-store.ts';
import type { EnrollmentOutcomes, EnrollmentStore } from '../storage/enrollment-store.ts';
import { DESCRIPTOR_MODEL_VERSION } from '../faces/face-engine.ts';
import { ownEntry, photoUrls, studentsOfClass, type RosterLookup, type Student, type StudentStore } from '../storage/student-store.ts';
import { dayIn, toTimestamp } from './attendance-clock.ts';
import { classPhotoBytes, type ClassPhotoSource } from './class-photo-bytes.ts';
import { otherClassDescriptors } from './other-class-descriptors.ts';
import { SessionEvents } from './session-events.ts';
import type { PhotoFace } from './worker/class-photo.ts';
import type { DescribedPhoto } from './worker/enroll-students.ts';
import type { ClassPhotoRequest, ControlMessage, EnrollmentProblem, SessionSettings, WorkerDiagnostics, WorkerMessage } from './worker/messages.ts';

type EnrolledMessage = Extract<WorkerMessage, { type: 'enrolled' }>;

const WORKER_URL = new URL('./worker/start-worker.mjs', import.meta.url);
const STOP_TIMEOUT_MS = 15_000;
const SNAPSHOT_WAIT_MS = 10_000;
const RETRY_QUEUED_MARKS_MS = 1_000;

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

/** The class photo could not be examined (not an image, too large, a URL refused or unreachable…). */
export class ClassPhotoError extends AttendanceError {}

export interface ClassPhotoResult {
  sessionId: string;
  width: number;
  height: number;
  faces: PhotoFace[];
  /** Students this photo marked present (they were not yet that day), each with `source: 'photo'`. */
  marked: PhotoRecord[];
  annotatedJpeg?: Buffer;
}

export interface Snapshot {
  jpeg: Buffer;
  takenAt: Date;
}

export interface RecognitionStatus {
  /** The ROOM this service's camera is in, when it has one. */
  room: string | null;
  /** The CLASS_ID whose students this service enrolls, when it has one. */
  classId: string | null;
  running: boolean;
  sessionId: string | null;
  startedAt: string | null;
  camera: string;
  backend: string | null;
  phase: 'idle' | 'enrolling' | 'watching' | 'source-ended' | 'stopping' | 'failed';
  framesProcessed: number;
  sourceEnded: boolean;
  enrolled: number;
  /** Students of other classes compared with every face and never marked (CLASS_ID); 0 without. */
  otherClassStudents: number;
  enrollmentErrors: EnrollmentProblem[];
  recognizedThisSession: number;
  /** Students the camera recognised but did not mark, because a person had removed their mark that day. */
  ignoredRecognitions: IgnoredRecognition[];
  /** Marks recognised while the database was unavailable, waiting to be written (oldest first). */
  queuedMarks: number;
  /** Marks not kept because the queue was full (MARK_QUEUE_LIMIT) during an outage: those students were not marked. */
  droppedMarks: number;
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

export interface IgnoredRecognition {
  rollNo: string;
  day: string;
  seenAt: string;
  reason: 'removed-by-person';
}

/** A recognition waiting for the store to take it again (the database back, the disk freed, the file repaired). */
interface QueuedMark {
  session: Session;
  rollNo: string;
  distance: number;
  seenAt: Date;
}

interface Session {
  id: string;
  day: string;
  /** What its marks say they came from: the camera, or the class photo the session examines. */
  source: 'camera' | 'photo';
  worker: Worker;
  exited: Promise<unknown>;
  /** The roster as this session read it at its start: what it writes is for students still registered so. */
  rosterAtStart: Map<string, Student>;
  pendingWrites: Set<Promise<void>>;
  /** Marks this session recorded (not those of students already present). */
  marked: AttendanceRecord[];
  status: RecognitionStatus;
  /** The `lastError` saying marks wait for the store, while it is the latest: cleared once they are written. */
  waitingMessage?: string;
}

export interface RecognitionSessionsOptions {
  config: Config;
  students: StudentStore;
  attendance: AttendanceStore;
  enrollments: EnrollmentStore;
  descriptors: DescriptorStore;
  /** Rejects when a session could not run or keep its marks (model files missing, data files not writable). */
  canStart?: () => Promise<void>;
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
  private readonly markQueue: QueuedMark[] = [];
  private droppedMarks = 0;
  /** Why the marks in the queue wait: the latest problem that sent one there. */
  private waitingFor = 'the store is unavailable';
  private retryTimer: NodeJS.Timeout | undefined;
  /** Set by `close()`: a flush that fails then does not schedule another against a closing pool. */
  private closing = false;
  private flushing: Promise<void> | undefined;

  constructor(private readonly options: RecognitionSessionsOptions) {
    this.now = options.now ?? (() => new Date());
    this.lastStatus = this.idleStatus();
  }

  status(): RecognitionStatus {
    const status = structuredClone(this.session?.status ?? this.lastStatus);
    status.diagnostics = this.diagnostics(this.session?.status.running ? status.diagnostics.worker : null);
    return { ...status, queuedMarks: this.markQueue.length, droppedMarks: this.droppedMarks };
  }

  start(): Promise<void> {
    return this.serialized(async () => {
      if (this.session?.status.running) throw new SessionAlreadyRunningError();
      await this.options.canStart?.();
      await this.dispose();
      this.session = await this.launch();
    });
  }

  /**
   * Takes the roll from one class photo: a session whose camera is the photo. The photo is fetched and checked first (a
   * refused one starts nothing); the session enrolls the roster as a start does, marks each student the photo
   * recognises, and ends. Refused while a camera session runs. Class photos are examined one at a time, the fetch
   * included, so that at most one is held in memory.
   */
  recognizePhoto({ photo, annotated }: { photo: ClassPhotoSource; annotated: boolean }): Promise<ClassPhotoResult> {
    return this.serialized(async () => {
      if (this.session?.status.running) throw new SessionAlreadyRunningError();
      await this.options.canStart?.();
      let bytes: Uint8Array;
      try {
        bytes = await classPhotoBytes(photo, photoDownloadOptions(this.options.config));
      } catch (error) {
        if (error instanceof EnrollmentError) throw new ClassPhotoError(error.code, error.message, { cause: error });
        throw error;
      }
      await this.dispose();
      const session = await this.launch({ bytes, annotated });
      this.session = session;
      const outcome = await new Promise<Extract<WorkerMessage, { type: 'class-photo' | 'class-photo-failed' }> | undefined>((resolve) => {
        session.worker.on('message', (message: WorkerMessage) => {
          if (message.type === 'class-photo' || message.type === 'class-photo-failed') resolve(message);
        });
        void session.exited.then(() => resolve(undefined));
      });
      await this.endSession();
      if (!outcome) throw new Error(`the class photo session failed: ${session.status.lastError ?? 'the worker stopped'}`);
      if (outcome.type === 'class-photo-failed') throw new ClassPhotoError(outcome.code, outcome.message);
      const { width, height, faces, annotatedJpeg } = outcome;
      return {
        sessionId: session.id,
        width,
        height,
        faces,
        marked: session.marked.filter((record) => record.source === 'photo'),
        annotatedJpeg: annotatedJpeg && Buffer.from(annotatedJpeg.buffer, annotatedJpeg.byteOffset, annotatedJpeg.byteLength),
      };
    });
  }

  /** Ends the running session, if any, once the camera is released; returns who is present today (a session left running past midnight: the new day). */
  stop(): Promise<AttendanceRecord[]> {
    return this.serialized(async () => {
      await this.endSession();
      return this.options.attendance.listDay(this.today());
    });
  }

  private serialized<T>(transition: () => Promise<T>): Promise<T> {
    const result = this.transitions.then(transition);
    this.transitions = result.catch(() => {});
    return result;
  }

  /** Ends the running session, if any, once the camera is released. */
  private async endSession(): Promise<void> {
    const session = this.session;
    if (session) {
      session.status.phase = 'stopping';
      session.worker.postMessage({ type: 'stop' } satisfies ControlMessage);
      await this.waitForWorker(session);
      await this.dispose();
    }
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
    // Not `stop()`: shutting down needs no day's list, and reading it fails while the database is unreachable, which is
    // exactly when the marks still waiting must be logged below.
    this.closing = true;
    await this.serialized(() => this.endSession());
    clearTimeout(this.retryTimer);
    await this.flushing;
    if (this.markQueue.length > 0) {
      this.options.logger.error({ rollNos: this.markQueue.map((queued) => queued.rollNo) }, 'shutting down with marks the store never took');
    }
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
      room: this.options.config.ROOM ?? null,
      classId: this.options.config.CLASS_ID ?? null,
      running: false,
      sessionId: null,
      startedAt: null,
      camera: describeCamera(this.options.config.CAMERA),
      backend: null,
      phase: 'idle',
      framesProcessed: 0,
      sourceEnded: false,
      enrolled: 0,
      otherClassStudents: 0,
      enrollmentErrors: [],
      recognizedThisSession: 0,
      ignoredRecognitions: [],
      queuedMarks: 0,
      droppedMarks: 0,
      lastError: null,
      diagnostics: this.diagnostics(null),
    };
  }

  private async launch(classPhoto?: ClassPhotoRequest): Promise<Session> {
    const { config, logger } = this.options;
    const startedAt = this.now();
    const day = dayIn(config.TIME_ZONE, startedAt);
    const [roster, present, cached] = await Promise.all([
      this.options.students.list(),
      this.options.attendance.listDay(day),
      this.options.descriptors.list(DESCRIPTOR_MODEL_VERSION),
    ]);
    // A room's camera enrolls its class only (faster, fewer students turned away by a near runner-up); the other
    // classes' students already encoded are compared too, never marked.
    const students = studentsOfClass(roster, config.CLASS_ID);
    const cachedPhotos = new Map(
      students.flatMap(({ rollNo }) => {
        const photos = ownEntry(cached, rollNo);
        return photos ? [[rollNo, photos.map((photo) => ({ ...photo, descriptor: decodeDescriptor(photo.descriptor), backgroundFaces: photo.backgroundFaces ?? 0 }))] as const] : [];
      }),
    );
    const settings: SessionSettings = {
      sessionId: randomUUID(),
      students: students.map(({ rollNo, url, urls }) => ({ rollNo, url, urls })),
      cachedPhotos,
      otherClasses: config.CLASS_ID === undefined ? [] : otherClassDescriptors(roster, students, cached),
      day,
      timeZone: config.TIME_ZONE,
      alreadyPresent: present.map((record) => record.rollNo),
      camera: config.CAMERA.kind === 'dir' ? config.CAMERA : { ...config.CAMERA, size: config.CAMERA_SIZE },
      modelsDir: config.MODELS_DIR,
      inferenceBackend: config.INFERENCE_BACKEND,
      inferenceThreads: config.INFERENCE_THREADS,
      matchRule: { threshold: config.MATCH_THRESHOLD, margin: config.MATCH_MARGIN },
      matchMinFrames: config.MATCH_MIN_FRAMES,
      enrollmentThreads: config.ENROLLMENT_THREADS,
      photoDownload: photoDownloadOptions(config),
      logLevel: config.LOG_LEVEL,
      classPhoto,
    };
    const worker = new Worker(WORKER_URL, { argv: ['./recognition-worker.ts'], workerData: settings });
    const session: Session = {
      id: settings.sessionId,
      day,
      source: classPhoto ? 'photo' : 'camera',
      worker,
      exited: new Promise((resolve) => worker.once('exit', resolve)),
      rosterAtStart: new Map(students.map((student) => [student.rollNo, student])),
      pendingWrites: new Set(),
      marked: [],
      status: {
        ...this.idleStatus(),
        ...(classPhoto && { camera: 'class photo' }),
        running: true,
        sessionId: settings.sessionId,
        startedAt: toTimestamp(startedAt),
        phase: 'enrolling',
        otherClassStudents: settings.otherClasses.length,
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
    this.events.publish({ type: 'session-started', sessionId: session.id, camera: session.status.camera, students: students.length, room: config.ROOM ?? null });
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
        this.recordEnrollment(session, message, log);
        this.recordDescriptors(session, message.cacheUpdates, log);
        break;
      case 'frame':
        status.framesProcessed = message.framesProcessed;
        status.diagnostics.worker = message.diagnostics;
        break;
      case 'recognized':
        this.record({ session, rollNo: message.rollNo, distance: message.distance, seenAt: new Date(message.seenAt) }, log);
        break;
      case 'source-ended':
        status.sourceEnded = true;
        if (status.phase === 'watching') status.phase = 'source-ended';
        break;
      case 'problem':
        status.lastError = message.message;
        this.events.publish({ type: 'camera-error', sessionId: session.id, code: message.code, message: message.message });
        break;
      case 'class-photo':
      case 'class-photo-failed':
      case 'stopped':
        break;
    }
  }

  /** Marks are written in the order they were seen: while some wait for the store, the new ones queue behind them. */
  private record(recognition: QueuedMark, log: Logger): void {
    if (this.markQueue.length > 0) return this.enqueue(recognition, log);
    const { session } = recognition;
    const mark = this.write(recognition, log)
      .catch((error: Error) => {
        if (mayPass(error)) return this.enqueue(recognition, log, error);
        session.status.lastError = `could not record attendance of ${recognition.rollNo}: ${error.message}`;
        log.error({ err: error, rollNo: recognition.rollNo }, 'could not record attendance');
      })
      .finally(() => session.pendingWrites.delete(mark));
    session.pendingWrites.add(mark);
  }

  private async write({ session, rollNo, distance, seenAt }: QueuedMark, log: Logger): Promise<void> {
    const day = dayIn(this.options.config.TIME_ZONE, seenAt);
    const timestamp = toTimestamp(seenAt);
    const room = this.options.config.ROOM;
    const mark = { rollNo, timestamp, source: session.source, sessionId: session.id, distance, ...(room !== undefined && { room }) };
    const outcome = await this.options.attendance.markPresent(day, mark, (rollNos, lookup) =>
      this.stillOnRoster(session, rollNos, sameRegistration, lookup),
    );
    if (outcome === 'marked') {
      session.status.recognizedThisSession += 1;
      session.marked.push(recordOfMark(mark));
      log.info({ rollNo, day, source: session.source }, 'student marked present');
      this.events.publish({ type: 'student-present', sessionId: session.id, rollNo, day, timestamp, source: session.source, distance, room: room ?? null });
    } else if (outcome === 'removed-by-person') {
      session.status.ignoredRecognitions.push({ rollNo, day, seenAt: timestamp, reason: outcome });
      log.info({ rollNo, day }, 'student recognised but not marked: a person removed their mark today');
      this.events.publish({ type: 'recognition-ignored', sessionId: session.id, rollNo, day, seenAt: timestamp, reason: outcome, room: room ?? null });
    }
  }

  /**
   * Keeps a mark the store could not take (`problem`, or the one that holds up the marks already waiting), to write it
   * when the store takes writes again. The queue is bounded (MARK_QUEUE_LIMIT): once full, a new mark is dropped,
   * counted in `droppedMarks` and logged with its rollNo.
   */
  private enqueue(recognition: QueuedMark, log: Logger, problem?: Error): void {
    const { session, rollNo } = recognition;
    if (problem !== undefined) this.waitingFor = waitReason(problem);
    if (this.markQueue.length >= this.options.config.MARK_QUEUE_LIMIT) {
      this.droppedMarks += 1;
      session.status.lastError = `${this.waitingFor} and ${this.markQueue.length} marks are already waiting: ${rollNo} was not marked`;
      log.error({ rollNo }, 'mark dropped: the queue of marks waiting for the store is full');
      return;
    }
    this.markQueue.push(recognition);
    this.reportWaiting(session, { replacing: session.status.lastError });
    if (this.markQueue.length === 1) log.warn({ err: problem }, `${this.waitingFor}: marks wait in memory until it can be written`);
    this.scheduleFlush(log);
  }

  /** Says in `lastError` that marks wait and why, unless it says something else (other than `replacing`) by now. */
  private reportWaiting(session: Session, { replacing = session.waitingMessage }: { replacing?: string | null } = {}): void {
    const replace = session.status.lastError === replacing;
    session.waitingMessage = `${this.waitingFor}: ${this.markQueue.length} mark(s) waiting to be written`;
    if (replace) session.status.lastError = session.waitingMessage;
  }

  private scheduleFlush(log: Logger): void {
    if (this.closing || this.retryTimer !== undefined || this.flushing !== undefined) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.flushing = this.flushQueue(log).finally(() => (this.flushing = undefined));
    }, RETRY_QUEUED_MARKS_MS);
  }

  private async flushQueue(log: Logger): Promise<void> {
    const waitedIn = new Set<Session>();
    while (this.markQueue.length > 0) {
      const next = this.markQueue[0]!;
      waitedIn.add(next.session);
      try {
        await this.write(next, log);
      } catch (error) {
        if (mayPass(error as Error)) {
          this.waitingFor = waitReason(error as Error);
          for (const session of waitedIn) this.reportWaiting(session);
          this.flushing = undefined;
          return this.scheduleFlush(log);
        }
        next.session.status.lastError = `could not record attendance of ${next.rollNo}: ${(error as Error).message}`;
        log.error({ err: error, rollNo: next.rollNo }, 'could not record attendance');
      }
      this.markQueue.shift();
    }
    // The wait is over: /status should not go on reporting it. A dropped mark (still counted in droppedMarks) or a
    // later problem keeps its message.
    for (const session of waitedIn) {
      if (session.status.lastError === session.waitingMessage) session.status.lastError = null;
    }
    log.info('every waiting mark was written');
  }

  /**
   * Keeps the verdict on each student's photos, so the registration service can tell which need replacing. A student
   * enrolled from one of several photos is usable (the camera recognises them); the photos that failed stay in
   * `/status` `enrollmentErrors` and the session's `enrollment-problem` events.
   */
  private recordEnrollment(session: Session, { enrolledRollNos, problems, backgroundFaces }: EnrolledMessage, log: Logger): void {
    const checkedAt = toTimestamp(this.now());
    const enrolled = new Set(enrolledRollNos);
    const outcomes: EnrollmentOutcomes = Object.fromEntries([
      ...enrolledRollNos.map((rollNo) => {
        const leftOut = backgroundFaces.get(rollNo);
        return [rollNo, { usable: true as const, url: session.rosterAtStart.get(rollNo)!.url, checkedAt, ...(leftOut && { backgroundFaces: leftOut }) }];
      }),
      ...problems
        .filter(({ rollNo }) => !enrolled.has(rollNo))
        .map(({ rollNo, code, message }) => [rollNo, { usable: false as const, url: session.rosterAtStart.get(rollNo)!.url, checkedAt, code, message }]),
    ]);
    const write = this.options.enrollments
      .recordMany(outcomes, (rollNos, lookup) => this.stillOnRoster(session, rollNos, samePhotos, lookup))
      .catch((error: Error) => {
        session.status.lastError = `could not record enrollment outcomes: ${error.message}`;
        log.error({ err: error }, 'could not record enrollment outcomes');
      })
      .finally(() => session.pendingWrites.delete(write));
    session.pendingWrites.add(write);
  }

  private recordDescriptors(session: Session, updates: Map<string, DescribedPhoto[]>, log: Logger): void {
    const encoded = Object.fromEntries(
      [...updates].map(([rollNo, photos]) => [
        rollNo,
        photos.map(({ backgroundFaces, ...photo }) => ({ ...photo, descriptor: encodeDescriptor(photo.descriptor), ...(backgroundFaces > 0 && { backgroundFaces }) })),
      ]),
    );
    const write = this.options.descriptors
      .recordMany(DESCRIPTOR_MODEL_VERSION, encoded, (rollNos, lookup) => this.stillOnRoster(session, rollNos, samePhotos, lookup))
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
  private async stillOnRoster(
    session: Session,
    rollNos: string[],
    same: (atStart: Student, now: Student) => boolean,
    lookup: RosterLookup = async () => this.options.students.list(),
  ): Promise<ReadonlySet<string>> {
    const roster = new Map((await lookup(rollNos)).map((student) => [student.rollNo, student]));
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
    giveFreedMemoryBack();
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

/** Student photos and class photos are fetched under the same rules. */
function photoDownloadOptions(config: Config): PhotoDownloadOptions {
  return {
    maxBytes: config.PHOTO_MAX_BYTES,
    timeoutMs: config.PHOTO_TIMEOUT_MS,
    maxRedirects: config.PHOTO_MAX_REDIRECTS,
    allowPrivateUrls: config.ALLOW_PRIVATE_URLS,
    privateHosts: config.PRIVATE_URL_HOSTS,
  };
}

/**
 * Problems that pass, after which the same mark can be written: the database is back, the disk has room again, the
 * lock's holder is done, a hand-edited file is repaired, or any error of the file system (I/O, too many open files).
 * Other errors (a bug) would fail again: the mark is reported and not kept.
 */
function mayPass(error: Error): boolean {
  return (
    error instanceof DatabaseUnavailableError ||
    error instanceof DataFileNotWritableError ||
    error instanceof LockTimeoutError ||
    error instanceof DataFileCorruptError ||
    typeof (error as NodeJS.ErrnoException).syscall === 'string'
  );
}

// `/status` may reach anyone who can reach the service: the data file's name, never the server's paths.
function waitReason(error: Error): string {
  if (error instanceof DatabaseUnavailableError) return 'the database is unavailable';
  const problem = error.message.replace(/(?:\/[^\s'"/]*)+\/([^\s'"/]+)/g, '$1').replace(/\.$/, '');
  return `attendance cannot be written (${problem})`;
}
