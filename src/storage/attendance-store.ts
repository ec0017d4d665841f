import { z } from 'zod';
import { RollNoSchema, type StillCurrent } from './student-store.ts';

/** A calendar day, `YYYY-MM-DD`, in the site's time zone. */
export const DaySchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD');

/** UTC, whole seconds, `Z` suffix: `2025-09-06T13:30:10Z`. */
export const TimestampSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, 'expected YYYY-MM-DDTHH:MM:SSZ');

export const CameraRecordSchema = z.object({
  rollNo: RollNoSchema,
  timestamp: TimestampSchema,
  source: z.literal('camera').describe('Marked by the recognition camera'),
  sessionId: z.string().nullable().describe('The recognition session that marked the student; null for marks made before sources were recorded'),
  distance: z.number().nullable().describe('Face-descriptor distance of the match; null for marks made before sources were recorded'),
  room: z.string().optional().describe("The recognition service's ROOM, when it has one"),
});
export type CameraRecord = z.infer<typeof CameraRecordSchema>;

export const PhotoRecordSchema = CameraRecordSchema.extend({
  source: z.literal('photo').describe('Marked from a class photo (POST /recognize-photo)'),
  sessionId: z.string().describe('The class-photo session (POST /recognize-photo) that marked the student'),
  distance: z.number().describe('Face-descriptor distance of the match'),
}).describe('A mark made from a class photo');
export type PhotoRecord = z.infer<typeof PhotoRecordSchema>;

export const ManualRecordSchema = z.object({
  rollNo: RollNoSchema,
  timestamp: TimestampSchema.describe('When the person marked the student'),
  source: z.literal('manual').describe('Marked by a person (PUT /attendance/{date}/{rollNo})'),
  by: z.string().nullable(),
  reason: z.string().nullable(),
});
export type ManualRecord = z.infer<typeof ManualRecordSchema>;

export const AttendanceRecordSchema = z
  .discriminatedUnion('source', [CameraRecordSchema, PhotoRecordSchema, ManualRecordSchema])
  .describe('One student present on one day, and where that came from (`source`: camera, photo or manual; it may gain values, so accept ones you do not know)');
export type AttendanceRecord = z.infer<typeof AttendanceRecordSchema>;

/** A mark made or removed by a person: the attendance's audit trail. */
export const AttendanceChangeSchema = z.object({
  at: TimestampSchema.describe('When the change was made'),
  date: DaySchema.describe('The day of attendance that was changed'),
  rollNo: RollNoSchema,
  action: z.enum(['marked', 'removed']),
  by: z.string().nullable(),
  reason: z.string().nullable(),
  before: AttendanceRecordSchema.nullable().describe('The record as it was before the change; null when the student was not present'),
});
export type AttendanceChange = z.infer<typeof AttendanceChangeSchema>;

/**
 * What recognition saw, in a camera's frames or in a class photo. A camera mark may leave out `source` and, only when
 * the caller has none (tools, imports), `sessionId` and `distance`; a photo mark always has them.
 */
export type RecognitionMark =
  | (Pick<CameraRecord, 'rollNo' | 'timestamp'> & Partial<Pick<CameraRecord, 'source' | 'sessionId' | 'distance' | 'room'>>)
  | PhotoRecord;

/** The record a recognition mark is kept as. */
export function recordOfMark(mark: RecognitionMark): CameraRecord | PhotoRecord {
  const { rollNo, timestamp, room } = mark;
  const where = room !== undefined ? { room } : {};
  if (mark.source === 'photo') return { rollNo, timestamp, source: 'photo', sessionId: mark.sessionId, distance: mark.distance, ...where };
  return { rollNo, timestamp, source: 'camera', sessionId: mark.sessionId ?? null, distance: mark.distance ?? null, ...where };
}

/** A person's decision: who (`rollNo`), when it was made (`at`), by whom and why. */
export interface Correction {
  rollNo: string;
  at: string;
  by: string | null;
  reason: string | null;
}

/**
 * - `marked`: recorded.
 * - `already-present`: the student was present that day; nothing changed.
 * - `removed-by-person`: a person removed the student's mark that day; neither the camera nor a class photo overrules them.
 * - `not-current`: `stillCurrent` no longer allows the student (removed from the roster meanwhile).
 */
export type RecognitionMarkOutcome = 'marked' | 'already-present' | 'removed-by-person' | 'not-current';

export type ManualMarkOutcome =
  | { outcome: 'marked'; record: ManualRecord; change: AttendanceChange }
  | { outcome: 'already-present'; record: AttendanceRecord }
  | { outcome: 'not-current' };

/**
 * Where attendance lives. The JSON file is the embedded default; a database implements the same contract and must pass
 * `test/contracts/attendance-store-contract.ts`. A correction and the change entry that records it are one write:
 * no reader, and no crash, ever sees one without the other.
 */
export interface AttendanceStore {
  /**
   * The camera or a class photo saw a student: records the mark for `day` (as `recordOfMark` makes it) unless the student
   * is already present that day (whoever marked them), a person removed their mark that day (and has not marked them
   * again since), or `stillCurrent` (when given) no longer allows them.
   */
  markPresent(day: string, mark: RecognitionMark, stillCurrent?: StillCurrent): Promise<RecognitionMarkOutcome>;
  /**
   * A person marks a student present on `day`, with a change entry, unless `stillCurrent` (when given) no longer allows
   * them (even if a kept record shows them present) or they are already present (then nothing changes).
   */
  markManually(day: string, correction: Correction, stillCurrent?: StillCurrent): Promise<ManualMarkOutcome>;
  /** A person removes the student's mark on `day`, with a change entry. Resolves that entry, or `undefined` when there was no mark. */
  removeMark(day: string, correction: Correction): Promise<AttendanceChange | undefined>;
  /** The students present on `day`, in the order they were marked. */
  listDay(day: string): Promise<AttendanceRecord[]>;
  /** Every day from `from` to `to` (inclusive) with at least one student present, in calendar order. */
  listRange(from: string, to: string): Promise<{ day: string; records: AttendanceRecord[] }[]>;
  /** The changes to the days from `from` to `to` (inclusive), in the order they were made. */
  listChanges(from: string, to: string): Promise<AttendanceChange[]>;
  /** Erases the student's attendance on every day and every change entry about them. Resolves how many of each were removed. */
  removeStudent(rollNo: string): Promise<{ records: number; changes: number }>;
}
