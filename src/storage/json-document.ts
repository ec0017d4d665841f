import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { DataFileCorruptError } from '../errors.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { withFileLock } from './file-lock.ts';
import { asWriteRefusal } from './writable.ts';

type Changed<Schema extends z.ZodType, Result> = { next: z.infer<Schema> | undefined; result: Result };

/**
 * One JSON file validated by a zod schema. Reads never lock (writes are atomic renames);
 * updates are locked read-modify-write cycles. A file that exists but does not parse or validate
 * is reported and never overwritten.
 */
export class JsonDocument<Schema extends z.ZodType> {
  constructor(
    readonly file: string,
    private readonly schema: Schema,
    private readonly empty: () => z.infer<Schema>,
  ) {}

  async read(): Promise<z.infer<Schema>> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return this.empty();
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new DataFileCorruptError(this.file, `invalid JSON: ${(error as Error).message}`);
    }
    const parsed = this.schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
      throw new DataFileCorruptError(this.file, `${issue?.message ?? 'unexpected content'}${where}`);
    }
    return parsed.data;
  }

  /**
   * `change` receives the current content and returns the new content (or `undefined` to write nothing) and a result.
   * The file stays locked until it has settled, so it may consult other stores first.
   */
  update<Result>(
    change: (current: z.infer<Schema>) => Changed<Schema, Result> | Promise<Changed<Schema, Result>>,
  ): Promise<Result> {
    return withFileLock(this.file, async () => {
      const { next, result } = await change(await this.read());
      if (next !== undefined) await writeFileAtomic(this.file, `${JSON.stringify(next, null, 2)}\n`);
      return result;
    }).catch((error: unknown) => {
      throw asWriteRefusal(this.file, error);
    });
  }
}
