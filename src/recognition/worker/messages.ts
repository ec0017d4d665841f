import type { CameraSetting, InferenceBackend } from '../../config/config.ts';
import type { EnrollmentErrorCode } from '../../errors.ts';
import type { MatchRule } from '../../faces/face-matcher.ts';
import type { PhotoDownloadOptions } from '../../photos/download-photo.ts';
import type { NewStudent } from '../../storage/student-store.ts';
import type { PhotoFace } from './class-photo.ts';
import type { DescribedPhoto } from './enroll-students.ts';

/** Everything a recognition worker needs, passed as `workerData` when the session starts. */
export interface SessionSettings {
  sessionId: string;
  students: NewStudent[];
  /** Descriptors cached from earlier sessions (same model version), by rollNo. */
  cachedPhotos: Map<string, DescribedPhoto[]>;
  /** The cached descriptors of each student of another class (a session with CLASS_ID): compared, never marked. */
  otherClasses: Float32Array[][];
  /** The day the session started (in `timeZone`) and the students already marked present that day: the worker does not report them again that day. */
  day: string;
  timeZone: string;
  alreadyPresent: string[];
  camera: CameraSetting;
  modelsDir: string;
  inferenceBackend: InferenceBackend;
  /** Cores one onnx inference is spread over. */
  inferenceThreads: number;
  matchRule: MatchRule;
  /** Frames of one face track on which a student must win, or whose mean descriptor must match them, to be marked. */
  matchMinFrames: number;
  /** Threads that encode enrollment photos, this one included. */
  enrollmentThreads: number;
  photoDownload: PhotoDownloadOptions;
  logLevel: string;
  /** A session of one class photo instead of the camera. */
  classPhoto?: ClassPhotoRequest;
}

export interface ClassPhotoRequest {
  /** The photo, already fetched and checked to decode (`classPhotoBytes`). */
  bytes: Uint8Array;
  /** Also draw the faces, boxed and labelled, onto the photo. */
  annotated: boolean;
}

export interface EnrollmentProblem {
  rollNo: string;
  code: EnrollmentErrorCode;
  message: string;
}

/** The worker's own counters, as of its latest frame: each stays level in a session that can run all day. */
export interface WorkerDiagnostics {
  /** Face tracks alive. */
  tracks: number;
  /** Frames read from the camera and not yet analysed. */
  queuedFrames: number;
  /** The worker thread's JavaScript heap and the memory its objects hold outside it. */
  heapUsedBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
  /** Tensors alive and their bytes, and the inference heap (WebAssembly memory; null on a backend without one). */
  tensors: number;
  tensorBytes: number;
  inferenceHeapBytes: number | null;
}

export type WorkerMessage =
  | {
      type: 'enrolled';
      backend: string;
      enrolled: number;
      enrolledRollNos: string[];
      problems: EnrollmentProblem[];
      /** Smaller faces left out of each enrolled student's photos, for those who had any. */
      backgroundFaces: Map<string, number>;
      cacheUpdates: Map<string, DescribedPhoto[]>;
    }
  | { type: 'frame'; framesProcessed: number; diagnostics: WorkerDiagnostics }
  | { type: 'recognized'; rollNo: string; distance: number; seenAt: number }
  | { type: 'source-ended' }
  | { type: 'problem'; code: string; message: string }
  | { type: 'snapshot'; jpeg: Uint8Array; takenAt: number }
  | { type: 'class-photo'; width: number; height: number; faces: PhotoFace[]; annotatedJpeg?: Uint8Array }
  | { type: 'class-photo-failed'; code: string; message: string }
  | { type: 'stopped' };

/** `snapshot-wanted`: someone is looking; draw and send processed frames for the next few seconds. */
export type ControlMessage = { type: 'stop' } | { type: 'snapshot-wanted' };
