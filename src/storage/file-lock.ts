import { link, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LockTimeoutError } from '../errors.ts';
import { draftFor, isRunning, OWN_RUN, removeLeftoversOfDeadProcesses } from './leftovers.ts';

export interface FileLockOptions {
  timeoutMs?: number;
  /** A lock older than this whose owner cannot be checked is considered abandoned. */
  staleMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_STALE_MS = 30_000;

const inProcessQueues = new Map<string, Promise<unknown>>();
const sweptFiles = new Set<string>();

/**
 * Runs `task` while holding an exclusive lock on `file`, against other async tasks of this process
 * (a promise queue) and against other processes (a `<file>.lock` created with O_EXCL).
 * A lock left behind by a process that died (SIGKILL) is detected by its owner's pid and run (see leftovers.ts) and taken over, and the first time a
 * process locks a file it removes what dead writers left beside it (temporary files, lock drafts).
 */
export function withFileLock<T>(file: string, task: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const previous = inProcessQueues.get(file) ?? Promise.resolve();
  const run = previous.catch(() => {}).then(() => withLockFile(`${file}.lock`, () => sweepOnce(file).then(task), options));
  const tail = run.catch(() => {});
  inProcessQueues.set(file, tail);
  void tail.then(() => {
    if (inProcessQueues.get(file) === tail) inProcessQueues.delete(file);
  });
  return run;
}

async function withLockFile<T>(lockFile: string, task: () => Promise<T>, options: FileLockOptions): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      await createWithOwner(lockFile);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (await isAbandoned(lockFile, staleMs)) {
        await rm(lockFile, { force: true });
        continue;
      }
      if (Date.now() - started > timeoutMs) throw new LockTimeoutError(lockFile, timeoutMs);
      await sleep(Math.min(5 * 2 ** attempt, 50));
    }
  }
  try {
    return await task();
  } finally {
    await rm(lockFile, { force: true });
  }
}

async function sweepOnce(file: string): Promise<void> {
  if (sweptFiles.has(file)) return;
  sweptFiles.add(file);
  // Tidying only: a leftover that cannot be removed must not fail the write that found it.
  await removeLeftoversOfDeadProcesses(file).catch(() => {});
}

// Written aside, then hard-linked into place: the lock never exists without its owner in it.
async function createWithOwner(lockFile: string): Promise<void> {
  const draft = draftFor(lockFile);
  await writeFile(draft, `${OWN_RUN.pid} ${OWN_RUN.run}\n`, { mode: 0o600 });
  try {
    await link(draft, lockFile);
  } finally {
    await rm(draft, { force: true });
  }
}

async function isAbandoned(lockFile: string, staleMs: number): Promise<boolean> {
  let contents: string;
  try {
    contents = await readFile(lockFile, 'utf8');
  } catch {
    return false;
  }
  const [pidText, run] = contents.trim().split(' ');
  const pid = Number(pidText);
  if (Number.isInteger(pid) && pid > 0) return !isRunning({ pid, run });
  // Unreadable owner (written by something else): only an old lock is abandoned.
  try {
    return Date.now() - (await stat(lockFile)).mtimeMs > staleMs;
  } catch {
    return false;
  }
}

/**
 * Rejects when a live process has held the lock of `file` for longer than a write waits for it (every write fails
 * meanwhile). A lock whose holder has ended is fine: the next write takes it over.
 */
export async function checkNotLockedTooLong(file: string, waitMs = DEFAULT_TIMEOUT_MS): Promise<void> {
  const lockFile = `${file}.lock`;
  if (await isAbandoned(lockFile, DEFAULT_STALE_MS)) return;
  const [contents, stats] = await Promise.all([readFile(lockFile, 'utf8'), stat(lockFile)]).catch(() => []);
  if (contents === undefined || stats === undefined) return;
  const heldMs = Date.now() - stats.mtimeMs;
  if (heldMs <= waitMs) return;
  const holder = Number.parseInt(contents, 10);
  const who = Number.isInteger(holder) ? `process ${holder}` : 'another program';
  throw new Error(`${path.basename(file)} is locked by ${who} for ${Math.round(heldMs / 1000)} s: writes to it fail until that lock is released`);
}
