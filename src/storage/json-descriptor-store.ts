import path from 'node:path';
import { z } from 'zod';
import { CachedStudentsSchema, type CachedStudents, type DescriptorStore } from './descriptor-store.ts';
import { JsonDocument } from './json-document.ts';
import { currentEntries, type StillCurrent } from './student-store.ts';

export const DESCRIPTOR_CACHE_FILE = 'descriptors.json';

const DescriptorFileSchema = z.object({
  /** The networks the descriptors came from (DESCRIPTOR_MODEL_VERSION); another version makes every entry stale. */
  model: z.string(),
  students: CachedStudentsSchema,
});

/** `descriptors.json`: `{ "model": "<version>", "students": { "<rollNo>": [{ "url", "sha256", "descriptor" }] } }`. */
export class JsonDescriptorStore implements DescriptorStore {
  private readonly document: JsonDocument<typeof DescriptorFileSchema>;

  constructor(dataDir: string) {
    this.document = new JsonDocument(path.join(dataDir, DESCRIPTOR_CACHE_FILE), DescriptorFileSchema, () => ({ model: '', students: {} }));
  }

  get file(): string {
    return this.document.file;
  }

  async list(model: string): Promise<CachedStudents> {
    const cache = await this.document.read();
    return cache.model === model ? cache.students : {};
  }

  recordMany(model: string, students: CachedStudents, stillCurrent: StillCurrent): Promise<void> {
    return this.document.update(async (current) => {
      const writable = await currentEntries(students, stillCurrent);
      if (writable.length === 0) return { next: undefined, result: undefined };
      const kept = current.model === model ? current.students : {};
      return { next: { model, students: { ...kept, ...Object.fromEntries(writable) } }, result: undefined };
    });
  }

  remove(rollNo: string): Promise<boolean> {
    return this.document.update((current) => {
      if (!Object.hasOwn(current.students, rollNo)) return { next: undefined, result: false };
      const { [rollNo]: _removed, ...rest } = current.students;
      return { next: { ...current, students: rest }, result: true };
    });
  }
}
