import { z } from 'zod';
import { RollNoSchema, type StillCurrent } from './student-store.ts';

export const CachedPhotoSchema = z.object({
  url: z.string(),
  /** SHA-256 of the photo's bytes: the same content under another URL reuses the descriptor. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** The face descriptor (face-descriptor.ts: 1152 float32 values), little-endian, base64. */
  descriptor: z.string(),
  /** Smaller faces the photo showed beside the enrolled one, so a session start from the cache reports them too; absent when none. */
  backgroundFaces: z.number().int().positive().optional(),
});

export const CachedStudentsSchema = z.record(RollNoSchema, z.array(CachedPhotoSchema));
export type CachedStudents = z.infer<typeof CachedStudentsSchema>;

export const encodeDescriptor = (descriptor: Float32Array) => Buffer.from(descriptor.buffer, descriptor.byteOffset, descriptor.byteLength).toString('base64');

export function decodeDescriptor(encoded: string): Float32Array {
  const bytes = Buffer.from(encoded, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/**
 * Where the descriptor computed from each enrolled photo is kept, so a session start neither downloads nor re-encodes
 * a photo it has seen. Biometric data: removing a student (or replacing their photo) removes their entry. The JSON
 * file is the embedded default.
 */
export interface DescriptorStore {
  /** Every student's cached photos, or none when they were computed by another model version. */
  list(model: string): Promise<CachedStudents>;
  /**
   * Sets these students' cached photos (replacing what they had) for those `stillCurrent` allows; entries of another
   * model version are dropped. One removed or re-photographed since their photos were encoded must not get descriptors
   * back after `remove` has run.
   */
  recordMany(model: string, students: CachedStudents, stillCurrent: StillCurrent): Promise<void>;
  /** Forgets the student's descriptors. Resolves whether there were any. */
  remove(rollNo: string): Promise<boolean>;
}
