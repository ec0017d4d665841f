import { access } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { ModelFilesMissingError } from '../errors.ts';
import { MODEL_FILES } from '../faces/face-engine.ts';
import { createApp } from '../http/create-app.ts';
import { checkInTime, readyRoute, type ReadinessCheck } from '../http/ready-route.ts';
import type { AttendanceStore } from '../storage/attendance-store.ts';
import type { EnrollmentStore } from '../storage/enrollment-store.ts';
import type { DescriptorStore } from '../storage/descriptor-store.ts';
import { ATTENDANCE_FILE } from '../storage/json-attendance-store.ts';
import { DESCRIPTOR_CACHE_FILE, JsonDescriptorStore } from '../storage/json-descriptor-store.ts';
import { ENROLLMENT_FILE, JsonEnrollmentStore } from '../storage/json-enrollment-store.ts';
import { jsonStoreChecks } from '../storage/open-stores.ts';
import { checkWritable } from '../storage/writable.ts';
import type { StudentStore } from '../storage/student-store.ts';
import { attendanceCorrectionsRoute } from './attendance-corrections-route.ts';
import { attendanceRoute } from './attendance-route.ts';
import { classPhotoRoute } from './class-photo-route.ts';
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
  storage?: 'json-files' | 'postgres';
  /** What `/ready` checks of the stores; defaults to reading each JSON file. */
  storeChecks?: ReadinessCheck[];
}

async function checkModelFiles(modelsDir: string): Promise<void> {
  const missing: string[] = [];
  for (const file of MODEL_FILES) await access(path.join(modelsDir, file)).catch(() => missing.push(file));
  if (missing.length > 0) throw new ModelFilesMissingError(missing);
}

export async function buildRecognitionApp({
  config,
  students,
  attendance,
  logger,
  enrollments = new JsonEnrollmentStore(config.DATA_DIR),
  descriptors = new JsonDescriptorStore(config.DATA_DIR),
  storage = 'json-files',
  storeChecks = jsonStoreChecks(config.DATA_DIR, { students, attendance, enrollments, descriptors }),
}: RecognitionAppOptions): Promise<FastifyInstance> {
  const app = await createApp('recognition', config, logger, {
    title: 'Recognition service',
    description: 'Roll call by camera: start and stop sessions, read attendance, follow events live, see what the camera sees.',
  });
  const writable = (file: string) => checkWritable(path.join(config.DATA_DIR, file));
  // A session needs the models, and somewhere to keep its marks: refused at the start rather than failing later.
  const canStart = async () => {
    await checkModelFiles(config.MODELS_DIR);
    if (storage === 'json-files') for (const file of [ATTENDANCE_FILE, ENROLLMENT_FILE, DESCRIPTOR_CACHE_FILE]) await writable(file);
  };
  const sessions = new RecognitionSessions({ config, students, attendance, enrollments, descriptors, canStart, logger: app.log as Logger });
  app.addHook('onClose', () => sessions.close());
  const databaseProblem = async () => {
    const failed = await Promise.all(storeChecks.map(({ check }) => checkInTime(check).then(() => null, (error: Error) => error.message)));
    return failed.find((problem) => problem !== null) ?? null;
  };
  await app.register(sessionRoutes, { sessions, storage, ...(storage === 'postgres' && { databaseProblem }) });
  await app.register(attendanceRoute, { config, students, attendance });
  await app.register(attendanceCorrectionsRoute, { config, students, attendance, events: sessions.events });
  await app.register(eventsRoute, { events: sessions.events });
  await app.register(snapshotRoute, { sessions });
  await app.register(classPhotoRoute, { sessions, maxBytes: config.PHOTO_MAX_BYTES });
  await app.register(rosterRoute, { config, students, attendance, enrollments });
  await app.register(rollCallPageRoute);
  await app.register(readyRoute, { checks: [{ name: 'models', check: () => checkModelFiles(config.MODELS_DIR) }, ...storeChecks] });
  return app;
}
