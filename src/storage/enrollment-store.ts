import { z } from 'zod';
import { ENROLLMENT_ERROR_CODES } from '../errors.ts';
import { RollNoSchema, type StillCurrent } from './student-store.ts';

/**
 * What the recognition service found the last time it tried a student's photo: whether it gave a usable face, and
 * why not. `url` is the photo that was tried, so an outcome for a photo that has since been replaced is recognisable.
 * No descriptor or image is kept: only this verdict.
 */
export const EnrollmentOutcomeSchema = z.discriminatedUnion('usable', [
  z.object({
    usable: z.literal(true),
    url: z.string(),
    checkedAt: z.string(),
    /** Smaller faces in the student's photos that were left out (people in the background); absent when none were. */
    backgroundFaces: z.number().int().positive().optional(),
  }),
  z.object({
    usable: z.literal(false),
    url: z.string(),
    checkedAt: z.string(),
    code: z.enum(ENROLLMENT_ERROR_CODES),
    message: z.string(),
  }),
]);
export type EnrollmentOutcome = z.infer<typeof EnrollmentOutcomeSchema>;

export const EnrollmentOutcomesSchema = z.record(RollNoSchema, EnrollmentOutcomeSchema);
export type EnrollmentOutcomes = z.infer<typeof EnrollmentOutcomesSchema>;

/** Where the latest enrollment outcome of each student lives. The JSON file is the embedded default. */
export interface EnrollmentStore {
  /** Records these outcomes (those `stillCurrent` allows, when given), replacing earlier ones of the same students, atomically. */
  recordMany(outcomes: EnrollmentOutcomes, stillCurrent?: StillCurrent): Promise<void>;
  list(): Promise<EnrollmentOutcomes>;
  get(rollNo: string): Promise<EnrollmentOutcome | undefined>;
  /** Forgets the student's outcome. Resolves whether there was one. */
  remove(rollNo: string): Promise<boolean>;
}
