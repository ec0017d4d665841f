import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ConfigSchema } from '../config/config.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const START_TIMEOUT_MS = 60_000;

export interface ServicesProcess {
  registration: string;
  recognition: string;
  stop(): Promise<void>;
}

/**
 * Runs both services as `npm start` does, in a child process on free loopback ports, with exactly the settings
 * given: every other setting is blanked, so neither the caller's environment nor a `.env` file changes the run.
 * The services' JSON log lines go to `logFile`.
 */
export async function startServicesProcess(settings: Record<string, string>, logFile: string): Promise<ServicesProcess> {
  const blank = Object.fromEntries(Object.keys(ConfigSchema.shape).map((key) => [key, '']));
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), path.join(ROOT, 'src/server.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...blank, HOST: '127.0.0.1', REGISTRATION_PORT: '0', RECOGNITION_PORT: '0', ...settings },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile);
  child.stderr!.pipe(log, { end: false });
  const addresses: Record<string, string> = {};
  let timer: NodeJS.Timeout | undefined;
  const listening = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      log.write(`${line}\n`);
      const record = parseLogLine(line);
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(String(record?.msg));
      if (match && typeof record?.service === 'string') addresses[record.service] = match[1]!;
      if (addresses.registration && addresses.recognition) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the services exited with code ${code} before listening; see ${logFile}`)));
    timer = setTimeout(() => reject(new Error(`the services did not start within ${START_TIMEOUT_MS / 1000} s; see ${logFile}`)), START_TIMEOUT_MS);
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    await new Promise((resolve) => log.end(resolve));
  };
  try {
    await listening;
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return { registration: addresses.registration!, recognition: addresses.recognition!, stop };
}

function parseLogLine(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
