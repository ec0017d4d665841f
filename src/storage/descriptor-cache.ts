import path from 'node:path';
import { z } from 'zod';
import { JsonDocument } from './json-document.ts';
import { RollNoSchema } from './student-store.ts';

export const DESCRIPTOR_CACHE_FILE = 'descriptors.json';

const CachedPhotoSchema = z.object({
  url: z.string(),
  /** SHA-256 of the photo's bytes: the same content under another URL reuses the descriptor. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** 128 float32 values, little-endian, base64. */
  descriptor: z.string(),
});
export type CachedPhoto = z.infer<typeof CachedPhotoSchema>;

const DescriptorCacheSchema = z.object({
  /** The networks the descriptors came from (DESCRIPTOR_MODEL_VERSION); another version makes every entry stale. */
  model: z.string(),
  students: z.record(RollNoSchema, z.array(CachedPhotoSchema)),
});

export const encodeDescriptor = (descriptor: Float32Array) => Buffer.from(descriptor.buffer, descriptor.byteOffset, descriptor.byteLength).toString('base64');

export function decodeDescriptor(encoded: string): Float32Array {
  const bytes = Buffer.from(encoded, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/**
 * `descriptors.json`: the descriptor computed from each enrolled photo, so a session start neither downloads nor
 * re-encodes a photo it has seen. Biometric data: removing a student (or replacing their photo) removes their entry.
 */
export class DescriptorCache {
  private readonly document: JsonDocument<typeof DescriptorCacheSchema>;

  constructor(dataDir: string) {
    this.document = new JsonDocument(path.join(dataDir, DESCRIPTOR_CACHE_FILE), DescriptorCacheSchema, () => ({ model: '', students: {} }));
  }

  get file(): string {
    return this.document.file;
  }

  /** Every student's cached photos, or none when they were computed by another model version. */
  async list(model: string): Promise<Record<string, CachedPhoto[]>> {
    const cache = await this.document.read();
    return cache.model === model ? cache.students : {};
  }

  /** Sets these students' cached photos (replacing what they had); entries of another model version are dropped. */
  recordMany(model: string, students: Record<string, CachedPhoto[]>): Promise<void> {
    return this.document.update((current) => {
      if (Object.keys(students).length === 0) return { next: undefined, result: undefined };
      const kept = current.model === model ? current.students : {};
      return { next: { model, students: { ...kept, ...students } }, result: undefined };
    });
  }

  /** Forgets the student's descriptors. Resolves whether there were any. */
  remove(rollNo: string): Promise<boolean> {
    return this.document.update((current) => {
      if (!(rollNo in current.students)) return { next: undefined, result: false };
      const { [rollNo]: _removed, ...rest } = current.students;
      return { next: { ...current, students: rest }, result: true };
    });
  }
}
