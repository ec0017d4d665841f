import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

export const PhotoRoleSchema = z.enum(['identity', 'unknown', 'group', 'noface']);

export const LabelledPhotoSchema = z.object({
  /** Path relative to the set's root. */
  path: z.string(),
  role: PhotoRoleSchema,
  /** Who it shows (`canonical_id`), for `identity` photos. */
  person: z.string().optional(),
  /** A resized, cropped or rotated copy of another photo: never paired with its original. */
  derived: z.boolean(),
  width: z.number().optional(),
  height: z.number().optional(),
  /** Faces a group photo shows, when the set says. */
  faceCount: z.number().optional(),
  notes: z.string(),
});
export type LabelledPhoto = z.infer<typeof LabelledPhotoSchema>;

export interface LabelledSet {
  root: string;
  photos: LabelledPhoto[];
}

const IMAGE = /\.(jpe?g|png|webp|gif|tiff?|avif)$/i;

/**
 * Reads a labelled set: a MANIFEST.tsv (columns path, category, canonical_id, width, height, notes; `../shared/faces`
 * format), or a folder of `<person>/<photo>` where a folder named `unknown` holds strangers.
 */
export async function loadLabelledSet(location: string): Promise<LabelledSet> {
  const isManifest = (await stat(location)).isFile();
  return isManifest ? loadManifest(location) : loadFolder(location);
}

async function loadManifest(file: string): Promise<LabelledSet> {
  const [header, ...rows] = (await readFile(file, 'utf8')).split('\n').filter((line) => line.trim() !== '');
  const columns = header!.split('\t');
  const photos = rows.map((line) => {
    const cells = Object.fromEntries(line.split('\t').map((cell, i) => [columns[i], cell]));
    const notes = cells.notes ?? '';
    const count = /^(\d+) faces?\b/.exec(notes);
    return LabelledPhotoSchema.parse({
      path: cells.path,
      role: cells.category,
      person: cells.canonical_id || undefined,
      derived: /^DERIVED/.test(notes),
      width: cells.width ? Number(cells.width) : undefined,
      height: cells.height ? Number(cells.height) : undefined,
      faceCount: count ? Number(count[1]) : undefined,
      notes,
    });
  });
  return { root: path.dirname(file), photos };
}

async function loadFolder(root: string): Promise<LabelledSet> {
  const photos: LabelledPhoto[] = [];
  for (const folder of (await readdir(root, { withFileTypes: true })).filter((entry) => entry.isDirectory())) {
    const files = (await readdir(path.join(root, folder.name))).filter((name) => IMAGE.test(name)).sort();
    for (const name of files) {
      const stranger = folder.name === 'unknown';
      photos.push({
        path: `${folder.name}/${name}`,
        role: stranger ? 'unknown' : 'identity',
        person: stranger ? undefined : folder.name,
        derived: false,
        notes: '',
      });
    }
  }
  return { root, photos };
}
