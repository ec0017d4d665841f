import { createHash, randomBytes } from 'node:crypto';
import { link, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
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
/** The owner lines of the locks this process holds or is taking: a lock naming this process's run and none of them is left over. */
const ownLocks = new Set<string>();

/**
 * Runs `task` while holding an exclusive lock on `file`, against other async tasks of this process
 * (a promise queue) and against other processes (a `<file>.lock` created with O_EXCL).
 * A lock left behind by a process that died (SIGKILL) is detected by its owner's pid and run (see leftovers.ts) and
 * taken over, and the first time a process locks a file it removes what dead writers left beside it (temporary files,
 * lock drafts).
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
  // Each hold of the lock is told apart from every other, so that only its holder removes it.
  const owner = `${OWN_RUN.pid} ${OWN_RUN.run} ${randomBytes(8).toString('hex')}\n`;
  ownLocks.add(owner);
  try {
    await acquire(lockFile, owner, timeoutMs, staleMs);
    try {
      return await task();
    } finally {
      await releaseIfOwn(lockFile, owner);
    }
  } finally {
    ownLocks.delete(owner);
  }
}

async function acquire(lockFile: string, owner: string, timeoutMs: number, staleMs: number): Promise<void> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await createWithOwner(lockFile, owner);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const found = await readLock(lockFile);
    if (found === undefined) continue; // released meanwhile
    if (isAbandoned(found, staleMs) && (await takeOver(lockFile, found, owner, staleMs))) return;
    if (Date.now() - started > timeoutMs) throw new LockTimeoutError(lockFile, timeoutMs);
    await sleep(Math.min(5 * 2 ** attempt, 50));
  }
}

async function sweepOnce(file: string): Promise<void> {
  if (sweptFiles.has(file)) return;
  sweptFiles.add(file);
  // Tidying only: a leftover that cannot be removed must not fail the write that found it.
  await removeLeftoversOfDeadProcesses(file).catch(() => {});
}

// Written aside, then hard-linked into place: the lock never exists without its owner in it.
async function createWithOwner(lockFile: string, owner: string): Promise<void> {
  const draft = draftFor(lockFile);
  await writeFile(draft, owner, { mode: 0o600 });
  try {
    await link(draft, lockFile);
  } finally {
    await rm(draft, { force: true });
  }
}

interface FoundLock {
  contents: string;
  modifiedMs: number;
  /** Names this very lock file: its inode and contents (which hold a random token per hold). */
  key: string;
}

async function readLock(file: string): Promise<FoundLock | undefined> {
  try {
    const [contents, stats] = await Promise.all([readFile(file, 'utf8'), stat(file, { bigint: true })]);
    const key = createHash('sha256').update(`${stats.ino}\n${contents}`).digest('hex').slice(0, 16);
    return { contents, modifiedMs: Number(stats.mtimeMs), key };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function isAbandoned(lock: FoundLock, staleMs: number): boolean {
  const [pidText, run] = lock.contents.trim().split(' ');
  const pid = Number(pidText);
  // Ours, but from a hold that ended without removing it (its removal failed).
  if (pid === OWN_RUN.pid && run === OWN_RUN.run) return !ownLocks.has(lock.contents);
  if (Number.isInteger(pid) && pid > 0) return !isRunning({ pid, run });
  // Unreadable owner (written by something else): only an old lock is abandoned.
  return Date.now() - lock.modifiedMs > staleMs;
}

/**
 * Replaces the abandoned lock `found` with our own, unless another process takes it over first; true when we hold the
 * lock. Several processes may find the same abandoned lock at once: each tries to claim it by hard-linking the lock
 * file to a name derived from `found` (only one link succeeds), and the one that succeeds checks that it linked the
 * lock it judged abandoned (not a fresh lock another taker put in its place meanwhile). Only the claimant of a lock
 * replaces it, so it is still there when the claimant renames its own lock over it in one step.
 */
async function takeOver(lockFile: string, found: FoundLock, owner: string, staleMs: number): Promise<boolean> {
  const claim = `${lockFile}.takeover-${found.key}`;
  try {
    await link(lockFile, claim);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    if (code !== 'EEXIST') throw error;
    await removeAbandonedClaim(claim, staleMs);
    return false;
  }
  try {
    if ((await readLock(claim))?.key !== found.key) return false;
    const draft = draftFor(lockFile);
    await writeFile(draft, owner, { mode: 0o600 });
    try {
      await rename(draft, lockFile);
    } catch (error) {
      await rm(draft, { force: true });
      throw error;
    }
    return true;
  } finally {
    await rm(claim, { force: true });
  }
}

// A claim lives for the few milliseconds of a takeover; one much older was left by a taker that died in them. (Two
// processes removing the same dead claim at once could let two takers in: that needs a second crash, inside a takeover.)
async function removeAbandonedClaim(claim: string, staleMs: number): Promise<void> {
  try {
    const stats = await stat(claim);
    // Linking sets the change time: it is when the claim was made.
    if (Date.now() - stats.ctimeMs > staleMs) await rm(claim, { force: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

// Only our own lock: a lock that is no longer ours was taken over, and its new holder is still working.
async function releaseIfOwn(lockFile: string, owner: string): Promise<void> {
  const contents = await readFile(lockFile, 'utf8').catch(() => undefined);
  if (contents === owner) await rm(lockFile, { force: true });
}

/**
 * Rejects when a live process has held the lock of `file` for longer than a write waits for it (every write fails
 * meanwhile). A lock whose holder has ended is fine: the next write takes it over.
 */
export async function checkNotLockedTooLong(file: string, waitMs = DEFAULT_TIMEOUT_MS): Promise<void> {
  const lock = await readLock(`${file}.lock`);
  if (lock === undefined || isAbandoned(lock, DEFAULT_STALE_MS)) return;
  const heldMs = Date.now() - lock.modifiedMs;
  if (heldMs <= waitMs) return;
  const holder = Number.parseInt(lock.contents, 10);
  const who = Number.isInteger(holder) ? `process ${holder}` : 'another program';
  throw new Error(`${path.basename(file)} is locked by ${who} for ${Math.round(heldMs / 1000)} s: writes to it fail until that lock is released`);
}
