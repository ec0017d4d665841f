import path from 'node:path';

/**
 * Every error the system raises on purpose carries a stable `code` that clients and logs can rely on;
 * the message is for people and may change.
 */
export class AttendanceError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export class ConfigError extends AttendanceError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
  }
}

export class DataFileCorruptError extends AttendanceError {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(
      'DATA_FILE_CORRUPT',
      `${file} is not a valid data file (${problem}). It was left untouched: fix or move it away, then retry.`,
    );
  }
}

/** A data file (or its folder) that cannot be written: its name and why, never the server's path. */
export class DataFileNotWritableError extends AttendanceError {
  constructor(
    readonly file: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super('DATA_NOT_WRITABLE', `${path.basename(file)} cannot be written: ${reason}.`, options);
  }
}

/** The face-api weights a session needs are not in MODELS_DIR. */
export class ModelFilesMissingError extends AttendanceError {
  constructor(missing: readonly string[]) {
    super('MODEL_FILES_MISSING', `model files missing: ${missing.join(', ')} (run npm install or set MODELS_DIR)`);
  }
}

export class LockTimeoutError extends AttendanceError {
  constructor(
    readonly lockFile: string,
    waitedMs: number,
  ) {
    super('DATA_LOCK_TIMEOUT', `Could not lock ${path.basename(lockFile)} within ${waitedMs} ms: another process holds it.`);
  }
}

/**
 * The database cannot be reached or refused the connection. The message never carries the connection string; `advice`
 * replaces "try again" where waiting will not help (a wrong password, a database that does not exist).
 */
export class DatabaseUnavailableError extends AttendanceError {
  constructor(problem: string, { advice, ...options }: ErrorOptions & { advice?: string } = {}) {
    super('DATABASE_UNAVAILABLE', `The database is unavailable (${problem}). ${advice ?? 'Try again when it is back.'}`, options);
  }
}

/** Why a student's photo could not be turned into a face descriptor. */
export const ENROLLMENT_ERROR_CODES = [
  'PHOTO_URL_FORBIDDEN',
  'PHOTO_DOWNLOAD_FAILED',
  'PHOTO_TOO_LARGE',
  'PHOTO_TIMEOUT',
  'PHOTO_NOT_AN_IMAGE',
  'NO_FACE_FOUND',
  'SEVERAL_FACES',
  'SAME_PHOTO_AS_ANOTHER_STUDENT',
] as const;
export type EnrollmentErrorCode = (typeof ENROLLMENT_ERROR_CODES)[number];

export class EnrollmentError extends AttendanceError {
  declare readonly code: EnrollmentErrorCode;

  constructor(code: EnrollmentErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

/**
 * An erasure over separate stores (the JSON files) that stopped after removing part of what a student left: `removed`
 * says what went, `cause` what stopped it. Repeating the erasure finishes it.
 */
export class PartialErasureError extends AttendanceError {
  constructor(
    readonly rollNo: string,
    readonly removed: string[],
    readonly left: string[],
    problem: string,
    options: ErrorOptions,
  ) {
    super(
      'ERASURE_INCOMPLETE',
      `${rollNo} was only partly removed: ${removed.join(', ')} removed, but not yet ${left.join(', ')} (${problem}). ` +
        `Repeat DELETE /students/${encodeURIComponent(rollNo)} (with the same query) once that is fixed to finish the removal.`,
      options,
    );
  }
}

export class CameraError extends AttendanceError {
  constructor(code: 'CAMERA_UNAVAILABLE' | 'CAMERA_FAILED', message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}
