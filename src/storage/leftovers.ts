import { randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';

// Files a writer creates beside a data file carry its pid, so what a killed writer left behind can be told apart
// from what a live one is using.

/** Where `writeFileAtomic` writes before renaming over `file`. */
export function temporaryFileFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Where a lock file is written before being linked into place. */
export function draftFor(lockFile: string): string {
  return `${lockFile}.${process.pid}.${randomBytes(4).toString('hex')}`;
}

/** Removes the temporary files and lock drafts of `file` left by processes that no longer run. */
export async function removeLeftoversOfDeadProcesses(file: string): Promise<void> {
  const base = path.basename(file);
  const temporary = new RegExp(`^\\.${escape(base)}\\.(\\d+)\\.[0-9a-f]+\\.tmp$`);
  const draft = new RegExp(`^${escape(base)}\\.lock\\.(\\d+)\\.[0-9a-f]+$`);
  for (const name of await readdir(path.dirname(file))) {
    const pid = Number((temporary.exec(name) ?? draft.exec(name))?.[1]);
    if (pid && !isRunning(pid)) await rm(path.join(path.dirname(file), name), { force: true });
  }
}

export function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
