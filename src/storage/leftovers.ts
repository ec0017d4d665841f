import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';

// Files a writer creates beside a data file carry its pid and the identity of that process's run, so what a killed
// writer left behind can be told apart from what a live one is using. The pid alone cannot: in a container the
// service is pid 1 after every restart, and after a reboot pids are handed out again from the start.

/** A process's run: its pid and a stamp that differs between two processes that had the same pid. */
export interface ProcessRun {
  pid: number;
  /** Boot id and start time of the process (from /proc), or a random token where /proc is not available. */
  run: string;
}

const hasProc = procStartOf(process.pid) !== undefined;
const BOOT_ID = bootId();

/** This process's run. */
export const OWN_RUN: ProcessRun = { pid: process.pid, run: runOf(process.pid) ?? randomBytes(8).toString('hex') };

/** Where `writeFileAtomic` writes before renaming over `file`. */
export function temporaryFileFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${OWN_RUN.pid}.${OWN_RUN.run}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Where a lock file is written before being linked into place. */
export function draftFor(lockFile: string): string {
  return `${lockFile}.${OWN_RUN.pid}.${OWN_RUN.run}.${randomBytes(4).toString('hex')}`;
}

/** Removes the temporary files and lock drafts of `file` left by processes that no longer run. */
export async function removeLeftoversOfDeadProcesses(file: string): Promise<void> {
  const base = path.basename(file);
  // The run is absent in the names older versions wrote.
  const temporary = new RegExp(`^\\.${escape(base)}\\.(\\d+)\\.(?:([0-9a-f]{16})\\.)?[0-9a-f]+\\.tmp$`);
  const draft = new RegExp(`^${escape(base)}\\.lock\\.(\\d+)\\.(?:([0-9a-f]{16})\\.)?[0-9a-f]+$`);
  for (const name of await readdir(path.dirname(file))) {
    const match = temporary.exec(name) ?? draft.exec(name);
    if (match && !isRunning({ pid: Number(match[1]), run: match[2] })) await rm(path.join(path.dirname(file), name), { force: true });
  }
}

/**
 * Whether the process run that wrote `owner` still runs. Without a run (written by an older version) only the pid can
 * be checked, and our own pid is then someone else's: this process never writes such a name.
 */
export function isRunning(owner: { pid: number; run?: string | undefined }): boolean {
  if (owner.pid === OWN_RUN.pid) return owner.run === OWN_RUN.run;
  if (owner.run !== undefined && hasProc) return runOf(owner.pid) === owner.run;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Hash of the boot id and the start time of `pid` (both from /proc, Linux), or undefined when it cannot be read. */
function runOf(pid: number): string | undefined {
  const start = procStartOf(pid);
  if (start === undefined) return undefined;
  return createHash('sha256').update(`${BOOT_ID} ${start}`).digest('hex').slice(0, 16);
}

// Field 22 of /proc/<pid>/stat, counted after the command name, which is in parentheses and may itself hold spaces.
function procStartOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
