import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { createApp } from '../http/create-app.ts';
import { readyRoute, type ReadinessCheck } from '../http/ready-route.ts';
import type { AttendanceStore } from '../storage/attendance-store.ts';
import type { EnrollmentStore } from '../storage/enrollment-store.ts';
import { JsonAttendanceStore } from '../storage/json-attendance-store.ts';
import type { DescriptorStore } from '../storage/descriptor-store.ts';
import { JsonDescriptorStore } from '../storage/json-descriptor-store.ts';
import { JsonEnrollmentStore } from '../storage/json-enrollment-store.ts';
import { StoreByStoreErasure, type StudentErasure } from '../storage/student-erasure.ts';
import { jsonStoreChecks } from '../storage/open-stores.ts';
import type { StudentStore } from '../storage/student-store.ts';
import { addStudentRoute } from './add-student-route.ts';
import { studentRoutes } from './student-routes.ts';

export interface RegistrationAppOptions {
  config: Config;
  students: StudentStore;
  logger: Logger;
  /** Defaults to the JSON file in `DATA_DIR`. */
  enrollments?: EnrollmentStore;
  /** Defaults to the JSON file in `DATA_DIR`. */
  attendance?: AttendanceStore;
  /** Defaults to the JSON file in `DATA_DIR`. */
  descriptors?: DescriptorStore;
  /** Defaults to erasing from each of the stores above in turn. */
  erasure?: StudentErasure;
  /** What `/ready` checks of the stores; defaults to reading each JSON file. */
  storeChecks?: ReadinessCheck[];
  now?: () => Date;
}

export async function buildRegistrationApp({
  config,
  students,
  logger,
  enrollments = new JsonEnrollmentStore(config.DATA_DIR),
  attendance = new JsonAttendanceStore(config.DATA_DIR),
  descriptors = new JsonDescriptorStore(config.DATA_DIR),
  erasure = new StoreByStoreErasure({ students, enrollments, attendance, descriptors }),
  storeChecks = jsonStoreChecks(config.DATA_DIR, { students, attendance, enrollments, descriptors }),
  now = () => new Date(),
}: RegistrationAppOptions): Promise<FastifyInstance> {
  const app = await createApp('registration', config, logger, {
    title: 'Registration service',
    description: 'The roster: register students with a photo URL, list, look up, re-photo and remove them.',
  });
  await app.register(addStudentRoute, { students, maxStudentsPerRequest: config.MAX_STUDENTS_PER_REQUEST, now });
  await app.register(studentRoutes, { students, enrollments, descriptors, erasure });
  await app.register(readyRoute, { checks: storeChecks });
  return app;
}
