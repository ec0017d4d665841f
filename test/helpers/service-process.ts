import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { MALLOC_TUNING } from '../../src/config/malloc-tuning.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** tsx's loader by absolute URL: the services run from a working directory that is not the repository. */
const TSX = import.meta.resolve('tsx');

export interface RunningServices {
  registration: string;
  recognition: string;
  child: ChildProcess;
  logs: Record<string, unknown>[];
  /** The process's working directory: empty but for what the test put there (never the repository's `.env`). */
  workDir: string;
  /** Resolves with the first log record (past or future) that `matches`, as soon as the process prints it. */
  logged(matches: (record: Record<string, unknown>) => boolean, what: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

const ENTRIES = {
  both: { file: 'src/server.ts', services: ['registration', 'recognition'] },
  registration: { file: 'src/registration/server.ts', services: ['registration'] },
  recognition: { file: 'src/recognition/server.ts', services: ['recognition'] },
};
export type ServiceEntry = keyof typeof ENTRIES;

/** All a service process takes from the test's environment: where programs are, and a home and temp folder. */
const INHERITED = ['PATH', 'HOME', 'TMPDIR'] as const;

/**
 * The whole environment of a service process: `settings` over a few defaults, and nothing else from the developer's
 * shell (an API_KEY, TZ or DATA_DIR there must not change what a test sees).
 */
function serviceEnvironment(settings: Record<string, string>): Record<string, string> {
  const inherited = Object.fromEntries(INHERITED.flatMap((name) => (process.env[name] ? [[name, process.env[name]!]] : [])));
  return {
    ...inherited,
    REGISTRATION_PORT: '0',
    RECOGNITION_PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    MODELS_DIR: path.join(ROOT, 'models'),
    ...MALLOC_TUNING,
    ...settings,
  };
}

/** A fresh, empty working directory for a service process, so no `.env` file is loaded unless a test writes one. */
export function makeWorkDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'attendance-cwd-'));
}

/** Runs a service entry point (`src/server.ts`…) as `npm start` does, in `workDir`, with exactly `serviceEnvironment(settings)`. */
export function spawnService(entry: ServiceEntry, settings: Record<string, string>, workDir: string): ChildProcess {
  return spawn(process.execPath, ['--import', TSX, path.join(ROOT, ENTRIES[entry].file)], {
    cwd: workDir,
    env: serviceEnvironment(settings),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * Starts the services the way `npm start` (or `npm run start:<service>`) does, as a real process on free ports,
 * and resolves with their base URLs once they listen. `options.workDir` runs it in a given folder (to test `.env`).
 */
export async function startServices(settings: Record<string, string>, which: ServiceEntry = 'both', options: { workDir?: string } = {}): Promise<RunningServices> {
  const ownWorkDir = options.workDir === undefined;
  const workDir = options.workDir ?? (await makeWorkDir());
  const child = spawnService(which, settings, workDir);
  const cleanUp = () => (ownWorkDir ? rm(workDir, { recursive: true, force: true }) : Promise.resolve());
  const logs: Record<string, unknown>[] = [];
  const watchers = new Set<(record: Record<string, unknown>) => void>();
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const addresses: Record<string, string> = {};
  let timer: NodeJS.Timeout | undefined;
  const listening = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const record = JSON.parse(line) as Record<string, unknown>;
        logs.push(record);
        for (const watcher of watchers) watcher(record);
        const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(String(record.msg));
        if (match && typeof record.service === 'string') addresses[record.service] = match[1]!;
        if (ENTRIES[which].services.every((service) => addresses[service])) resolve();
      } catch {
        // not a log line
      }
    });
    child.once('exit', (code) => reject(new Error(`services exited with code ${code}: ${stderr}${logs.map((record) => `\n${record.msg}`).join('')}`)));
    timer = setTimeout(() => reject(new Error(`services did not report listening within 60 s (LOG_LEVEL must be info or lower): ${stderr}`)), 60_000);
  });
  try {
    await listening;
  } catch (error) {
    child.kill('SIGKILL');
    await exitOf(child);
    await cleanUp();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    registration: addresses.registration!,
    recognition: addresses.recognition!,
    child,
    logs,
    workDir,
    logged(matches, what, timeoutMs = 60_000) {
      const earlier = logs.find(matches);
      if (earlier) return Promise.resolve(earlier);
      let watcher: ((record: Record<string, unknown>) => void) | undefined;
      const found = new Promise<Record<string, unknown>>((resolve) => {
        watcher = (record) => matches(record) && resolve(record);
        watchers.add(watcher);
      });
      return withDeadline(found, timeoutMs, what).finally(() => watchers.delete(watcher!));
    },
    async stop() {
      const exited = exitOf(child);
      child.kill('SIGTERM');
      await withDeadline(exited, 30_000, 'the services to exit after SIGTERM').catch(async (error) => {
        child.kill('SIGKILL');
        await exitOf(child);
        throw error;
      });
      await cleanUp();
    },
  };
}

/** Resolves with the exit code (or signal) once `child` has exited, including when it already has. */
export function exitOf(child: ChildProcess): Promise<number | NodeJS.Signals> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode!);
  return once(child, 'exit').then(([code, signal]) => code ?? signal);
}

/** `promise`, or an error naming `what` once `ms` have passed without it settling. */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** No single request of a test may hang it: a stop waits for the camera (15 s at most), enrollment for photos. */
const REQUEST_DEADLINE_MS = 60_000;

export async function postJson(url: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_DEADLINE_MS),
  });
  return { status: response.status, json: await response.json() };
}

export async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(REQUEST_DEADLINE_MS) });
  return { status: response.status, json: await response.json() };
}

export async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
