import type { CachedStudents, DescriptorStore } from './descriptor-store.ts';
import { lockKey, type Database } from './pg-database.ts';
import { rosterLookupIn } from './pg-student-store.ts';
import type { StillCurrent } from './student-store.ts';

interface PhotoRow {
  roll_no: string;
  url: string;
  sha256: string;
  descriptor: Buffer;
  background_faces: number;
}

/**
 * The descriptor cache in PostgreSQL: `descriptor_photos`, one row per photo, shared by every room. A photo one room
 * encoded is read by the next room's session start instead of being downloaded and encoded again.
 */
export class PgDescriptorStore implements DescriptorStore {
  constructor(private readonly database: Database) {}

  async list(model: string): Promise<CachedStudents> {
    const { rows } = await this.database.query<PhotoRow>(
      'SELECT roll_no, url, sha256, descriptor, background_faces FROM descriptor_photos WHERE model = $1 ORDER BY roll_no, position',
      [model],
    );
    const students = new Map<string, CachedStudents[string]>();
    for (const { roll_no: rollNo, url, sha256, descriptor, background_faces: backgroundFaces } of rows) {
      if (!students.has(rollNo)) students.set(rollNo, []);
      students.get(rollNo)!.push({ url, sha256, descriptor: descriptor.toString('base64'), ...(backgroundFaces > 0 && { backgroundFaces }) });
    }
    return Object.fromEntries(students);
  }

  recordMany(model: string, students: CachedStudents, stillCurrent: StillCurrent): Promise<void> {
    return this.database.transaction(async (sql) => {
      // Two rooms writing the cache at once would both replace the same photos: one after the other.
      await lockKey(sql, 'descriptor-cache');
      const allowed = await stillCurrent(Object.keys(students), rosterLookupIn(sql));
      const writable = Object.keys(students).filter((rollNo) => allowed.has(rollNo));
      if (writable.length === 0) return;
      const rows = writable.flatMap((rollNo) => students[rollNo]!.map((photo, position) => ({ roll_no: rollNo, position, ...photo })));
      await sql.query('DELETE FROM descriptor_photos WHERE model <> $1 OR roll_no = ANY($2::text[])', [model, writable]);
      await sql.query(
        `INSERT INTO descriptor_photos (roll_no, position, model, url, sha256, descriptor, background_faces)
         SELECT r.roll_no, r.position, $1, r.url, r.sha256, decode(r.descriptor, 'base64'), coalesce(r."backgroundFaces", 0)
         FROM jsonb_to_recordset($2::jsonb) AS r(roll_no text, position integer, url text, sha256 text, descriptor text, "backgroundFaces" integer)`,
        [model, JSON.stringify(rows)],
      );
    });
  }

  async remove(rollNo: string): Promise<boolean> {
    return ((await this.database.query('DELETE FROM descriptor_photos WHERE roll_no = $1', [rollNo])).rowCount ?? 0) > 0;
  }
}
