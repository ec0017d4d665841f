import { mkdir } from 'node:fs/promises';
import pino from 'pino';
import { loadConfig } from '../../src/config/config.ts';
import { buildRecognitionApp } from '../../src/recognition/app.ts';
import { JsonAttendanceStore } from '../../src/storage/json-attendance-store.ts';
import { JsonStudentStore } from '../../src/storage/json-student-store.ts';

/**
 * The recognition service built in this process over its own data folder, photos allowed from 127.0.0.1,
 * driven with `app.inject`. The worker thread, camera and inference behind it are real.
 */
export async function recognitionApp(dataDir: string, env: Record<string, string>) {
  await mkdir(dataDir, { recursive: true });
  const config = loadConfig({ DATA_DIR: dataDir, ALLOW_PRIVATE_URLS: '1', LOG_LEVEL: 'silent', ...env });
  const students = new JsonStudentStore(dataDir);
  const attendance = new JsonAttendanceStore(dataDir);
  const app = await buildRecognitionApp({ config, students, attendance, logger: pino({ level: 'silent' }) });
  const call = async (method: 'GET' | 'POST', url: string) => {
    const response = await app.inject({ method, url });
    return { status: response.statusCode, json: response.json() };
  };
  const status = async () => (await call('GET', '/status')).json;
  return { app, students, attendance, call, status };
}
