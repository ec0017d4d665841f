import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface RunningServices {
  registration: string;
  recognition: string;
  child: ChildProcess;
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

const ENTRIES = {
  both: { file: 'src/server.ts', services: ['registration', 'recognition'] },
  registration: { file: 'src/registration/server.ts', services: ['registration'] },
  recognition: { file: 'src/recognition/server.ts', services: ['recognition'] },
};

/**
 * Starts the services the way `npm start` (or `npm run start:<service>`) does, as a real process on free ports,
 * and resolves with their base URLs once they listen.
 */
export async function startServices(env: Record<string, string>, which: keyof typeof ENTRIES = 'both'): Promise<RunningServices> {
  const entry = ENTRIES[which];
  const child = spawn(process.execPath, ['--import', 'tsx', entry.file], {
    cwd: ROOT,
    env: { ...process.env, REGISTRATION_PORT: '0', RECOGNITION_PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const addresses: Record<string, string> = {};
  const listening = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const record = JSON.parse(line) as Record<string, unknown>;
        logs.push(record);
        const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(String(record.msg));
        if (match && typeof record.service === 'string') addresses[record.service] = match[1]!;
        if (entry.services.every((service) => addresses[service])) resolve();
      } catch {
        // not a log line
      }
    });
    child.once('exit', (code) => reject(new Error(`services exited with code ${code}: ${stderr}`)));
    setTimeout(() => reject(new Error(`services did not report listening within 30 s (LOG_LEVEL must be info or lower): ${stderr}`)), 30_000).unref();
  });
  await listening;
  return {
    registration: addresses.registration!,
    recognition: addresses.recognition!,
    child,
    logs,
    async stop() {
      const exited = exitOf(child);
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Resolves with the exit code (or signal) once `child` has exited, including when it already has. */
export function exitOf(child: ChildProcess): Promise<number | NodeJS.Signals> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode!);
  return once(child, 'exit').then(([code, signal]) => code ?? signal);
}

export async function postJson(url: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

export async function getJson(url: string): Promise<{ status: number; json: any }> {
  const response = await fetch(url);
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
