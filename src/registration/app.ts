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
}

export async function buildRegistrationApp({ config, students, logger }: RegistrationAppOptions): Promise<FastifyInstance> {
  const app = createApp(logger.child({ service: 'registration' }));
  await app.register(addStudentRoute, { students, maxStudentsPerRequest: config.MAX_STUDENTS_PER_REQUEST });
  return app;
}
