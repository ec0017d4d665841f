import path from 'node:path';
import { JsonDocument } from './json-document.ts';
import { currentEntries, ownEntry, type StillCurrent } from './student-store.ts';
import { EnrollmentOutcomesSchema, type EnrollmentOutcome, type EnrollmentOutcomes, type EnrollmentStore } from './enrollment-store.ts';

export const ENROLLMENT_FILE = 'enrollment.json';

/** `enrollment.json`: `{ "<rollNo>": { "usable", "url", "checkedAt", "code"?, "message"? } }`. */
export class JsonEnrollmentStore implements EnrollmentStore {
  private readonly document: JsonDocument<typeof EnrollmentOutcomesSchema>;

  constructor(dataDir: string) {
    this.document = new JsonDocument(path.join(dataDir, ENROLLMENT_FILE), EnrollmentOutcomesSchema, () => ({}));
  }

  get file(): string {
    return this.document.file;
  }

  recordMany(outcomes: EnrollmentOutcomes, stillCurrent?: StillCurrent): Promise<void> {
    return this.document.update(async (current) => {
      const written = await currentEntries(outcomes, stillCurrent);
      return { next: written.length > 0 ? { ...current, ...Object.fromEntries(written) } : undefined, result: undefined };
    });
  }

  list(): Promise<EnrollmentOutcomes> {
    return this.document.read();
  }

  async get(rollNo: string): Promise<EnrollmentOutcome | undefined> {
    return ownEntry(await this.document.read(), rollNo);
  }

  remove(rollNo: string): Promise<boolean> {
    return this.document.update((current) => {
      if (!Object.hasOwn(current, rollNo)) return { next: undefined, result: false };
      const { [rollNo]: _removed, ...rest } = current;
      return { next: rest, result: true };
    });
  }
}
