import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { createApp } from '../http/create-app.ts';
import type { StudentStore } from '../storage/student-store.ts';
import { addStudentRoute } from './add-student-route.ts';

export interface RegistrationAppOptions {
  config: Config;
  students: StudentStore;
  logger: Logger;
  now?: () => Date;
}

export async function buildRegistrationApp({ config, students, logger, now = () => new Date() }: RegistrationAppOptions): Promise<FastifyInstance> {
  const app = await createApp('registration', config, logger);
  await app.register(addStudentRoute, { students, maxStudentsPerRequest: config.MAX_STUDENTS_PER_REQUEST, now });
  return app;
}
