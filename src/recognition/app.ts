import { access } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { DESCRIPTOR_MODEL_VERSION, MODEL_FILES } from '../faces/face-engine.ts';
import { createApp } from '../http/create-app.ts';
import { readyRoute } from '../http/ready-route.ts';
import type { AttendanceStore } from '../storage/attendance-store.ts';
import type { EnrollmentStore } from '../storage/enrollment-store.ts';
import type { DescriptorStore } from '../storage/descriptor-store.ts';
import { JsonDescriptorStore } from '../storage/json-descriptor-store.ts';
import { JsonEnrollmentStore } from '../storage/json-enrollment-store.ts';
import type { StudentStore } from '../storage/student-store.ts';
import { attendanceRoute } from './attendance-route.ts';
import { eventsRoute } from './events-route.ts';
import { RecognitionSessions } from './recognition-sessions.ts';
import { rollCallPageRoute } from './roll-call-page-route.ts';
import { rosterRoute } from './roster-route.ts';
import { sessionRoutes } from './session-routes.ts';
import { snapshotRoute } from './snapshot-route.ts';

export interface RecognitionAppOptions {
  config: Config;
  students: StudentStore;
  attendance: AttendanceStore;
  logger: Logger;
  /** Defaults to the JSON file in `DATA_DIR`. */
  enrollments?: EnrollmentStore;
  /** Defaults to the JSON file in `DATA_DIR`. */
  descriptors?: DescriptorStore;
}

async function checkModelFiles(modelsDir: string): Promise<void> {
  const missing: string[] = [];
  for (const file of MODEL_FILES) await access(path.join(modelsDir, file)).catch(() => missing.push(file));
  if (missing.length > 0) throw new Error(`model files missing: ${missing.join(', ')} (run npm install or set MODELS_DIR)`);
}

export async function buildRecognitionApp({
  config,
  students,
  attendance,
  logger,
  enrollments = new JsonEnrollmentStore(config.DATA_DIR),
  descriptors = new JsonDescriptorStore(config.DATA_DIR),
}: RecognitionAppOptions): Promise<FastifyInstance> {
  const app = await createApp('recognition', config, logger, {
    title: 'Recognition service',
    description: 'Roll call by camera: start and stop sessions, read attendance, follow events live, see what the camera sees.',
  });
  const sessions = new RecognitionSessions({ config, students, attendance, enrollments, descriptors, logger: app.log as Logger });
  app.addHook('onClose', () => sessions.close());
  await app.register(sessionRoutes, { sessions });
  await app.register(attendanceRoute, { config, students, attendance });
  await app.register(eventsRoute, { events: sessions.events });
  await app.register(snapshotRoute, { sessions });
  await app.register(rosterRoute, { config, students, attendance, enrollments });
  await app.register(rollCallPageRoute);
  await app.register(readyRoute, {
    checks: [
      { name: 'models', check: () => checkModelFiles(config.MODELS_DIR) },
      { name: 'students', check: async () => void (await students.list()) },
      { name: 'attendance', check: async () => void (await attendance.listDay('0000-00-00')) },
      { name: 'enrollment', check: async () => void (await enrollments.list()) },
      { name: 'descriptors', check: async () => void (await descriptors.list(DESCRIPTOR_MODEL_VERSION)) },
    ],
  });
  return app;
}
