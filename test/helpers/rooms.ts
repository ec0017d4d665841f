// Helpers for tests with several services on one PostgreSQL database: a camera the test controls, and direct reads.
import { chmod, copyFile, mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { FIXTURES } from './photo-server.ts';

/**
 * A webcam whose picture the test changes, for a service process: `env` puts a fake `fswebcam` first on its PATH that
 * copies whatever `show` last put in `folder`.
 */
export async function controlledWebcam(folder: string): Promise<{ env: Record<string, string>; show(frame: string): Promise<void> }> {
  const bin = path.join(folder, 'bin');
  await mkdir(bin, { recursive: true });
  const current = path.join(folder, 'current.jpg');
  await writeFile(path.join(bin, 'fswebcam'), `#!/bin/sh\nfor last; do :; done\ncp '${current}' "$last"\n`);
  await chmod(path.join(bin, 'fswebcam'), 0o755);
  const show = async (frame: string) => {
    const staged = path.join(folder, 'staged.jpg');
    await copyFile(path.join(FIXTURES, 'frames', frame), staged);
    await rename(staged, current);
  };
  await show('01-empty-room.jpg');
  return { env: { CAMERA: 'webcam', PATH: `${bin}${path.delimiter}${process.env.PATH}` }, show };
}

/** A folder of the given fixture frames, for `CAMERA=dir:<folder>`. */
export async function frameFolder(folder: string, frames: string[]): Promise<string> {
  await mkdir(folder, { recursive: true });
  await Promise.all(frames.map((frame, i) => copyFile(path.join(FIXTURES, 'frames', frame), path.join(folder, `${String(i).padStart(2, '0')}-${frame}`))));
  return folder;
}

/** One query against the database, from the test, to see what the services wrote. */
export async function queryDatabase<Row extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Row>(text, values)).rows;
  } finally {
    await client.end();
  }
}
