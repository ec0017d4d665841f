// Small helpers the regression tests share (not a test file: `npm test` runs test/regressions/*.test.ts only).
import { execFile, spawn } from 'node:child_process';
import { chmod, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export function scratchFolder(name: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `attendance-${name}-`));
}

/** How each folder was made unwritable, to undo it the same way. */
const unwritable = new Map<string, 'immutable' | 'read-only-mount' | 'mode'>();

/**
 * Makes `dir` refuse new files, for real, whoever runs the test: root ignores file modes, so as root the folder is made
 * immutable (`chattr +i`, which binds root too) or, where the file system has no such flag, mounted read-only over
 * itself; otherwise its mode becomes 0555. Throws (the test fails, never skips) when nothing works. Undo with
 * `makeWritable`.
 */
export async function makeUnwritable(dir: string): Promise<void> {
  if (process.getuid?.() !== 0) {
    await chmod(dir, 0o555);
    unwritable.set(dir, 'mode');
    return;
  }
  try {
    await execFileAsync('chattr', ['+i', dir]);
    unwritable.set(dir, 'immutable');
    return;
  } catch (chattrError) {
    try {
      await execFileAsync('mount', ['--bind', dir, dir]);
      unwritable.set(dir, 'read-only-mount');
      await execFileAsync('mount', ['-o', 'remount,bind,ro', dir]);
    } catch (mountError) {
      throw new Error(
        `running as root, no way to make ${dir} unwritable: chattr +i failed (${(chattrError as Error).message.trim()}) and so did a read-only bind mount (${(mountError as Error).message.trim()})`,
      );
    }
  }
}

export async function makeWritable(dir: string): Promise<void> {
  const how = unwritable.get(dir);
  unwritable.delete(dir);
  if (how === 'immutable') await execFileAsync('chattr', ['-i', dir]).catch(() => {});
  if (how === 'read-only-mount') await execFileAsync('umount', [dir]).catch(() => {});
  if (how === 'mode') await chmod(dir, 0o755).catch(() => {});
}

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Runs `npm start`'s entry (src/server.ts) with `env` until it exits; resolves its exit code and everything it printed. */
export function runServerUntilExit(env: Record<string, string>, timeoutMs = 60_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: ROOT,
      env: { ...process.env, REGISTRATION_PORT: '0', RECOGNITION_PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', API_KEY: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server did not exit within ${timeoutMs} ms: ${output}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

export interface RunningServer {
  registration: string;
  recognition: string;
  stop(): Promise<void>;
}

/** Runs `npm start`'s entry (src/server.ts) with `env` on free ports of 127.0.0.1; resolves once both services listen. */
export function startServer(env: Record<string, string>): Promise<RunningServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { ...process.env, REGISTRATION_PORT: '0', RECOGNITION_PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', API_KEY: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  const addresses: Record<string, string> = {};
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the services did not listen within 30 s: ${output}`)), 30_000);
    child.stderr.on('data', (chunk) => (output += chunk));
    child.stdout.on('data', (chunk) => {
      output += chunk;
      for (const match of output.matchAll(/"service":"(\w+)"[^\n]*Server listening at (http:\/\/127\.0\.0\.1:\d+)/g)) addresses[match[1]!] = match[2]!;
      if (addresses.registration && addresses.recognition) {
        clearTimeout(timer);
        resolve({
          registration: addresses.registration,
          recognition: addresses.recognition,
          stop: async () => {
            child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the services exited with ${code}: ${output}`));
    });
  });
}
