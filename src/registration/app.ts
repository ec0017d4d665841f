import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { createApp } from '../http/create-app.ts';
import { readyRoute } from '../http/ready-route.ts';
import type { AttendanceStore } from '../storage/attendance-store.ts';
import type { EnrollmentStore } from '../storage/enrollment-store.ts';
import { JsonAttendanceStore } from '../storage/json-attendance-store.ts';
import type { DescriptorStore } from '../storage/descriptor-store.ts';
import { DESCRIPTOR_CACHE_FILE, JsonDescriptorStore } from '../storage/json-descriptor-store.ts';
import { ENROLLMENT_FILE, JsonEnrollmentStore } from '../storage/json-enrollment-store.ts';
import { ATTENDANCE_FILE } from '../storage/json-attendance-store.ts';
import { STUDENTS_FILE } from '../storage/json-student-store.ts';
import { checkWritable } from '../storage/writable.ts';
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
  now?: () => Date;
}

export async function buildRegistrationApp({
  config,
  students,
  logger,
  enrollments = new JsonEnrollmentStore(config.DATA_DIR),
  attendance = new JsonAttendanceStore(config.DATA_DIR),
  descriptors = new JsonDescriptorStore(config.DATA_DIR),
  now = () => new Date(),
}: RegistrationAppOptions): Promise<FastifyInstance> {
  const app = await createApp('registration', config, logger, {
    title: 'Registration service',
    description: 'The roster: register students with a photo URL, list, look up, re-photo and remove them.',
  });
  await app.register(addStudentRoute, { students, maxStudentsPerRequest: config.MAX_STUDENTS_PER_REQUEST, now });
  await app.register(studentRoutes, { students, enrollments, attendance, descriptors });
  const writable = (file: string) => checkWritable(path.join(config.DATA_DIR, file));
  await app.register(readyRoute, {
    checks: [
      { name: 'students', check: async () => void (await students.list(), await writable(STUDENTS_FILE)) },
      { name: 'enrollment', check: async () => void (await enrollments.list(), await writable(ENROLLMENT_FILE)) },
      { name: 'attendance', check: async () => void (await attendance.listDay('0000-00-00'), await writable(ATTENDANCE_FILE)) },
      { name: 'descriptors', check: async () => void (await descriptors.list(''), await writable(DESCRIPTOR_CACHE_FILE)) },
    ],
  });
  return app;
}
