import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { createApp } from '../http/create-app.ts';
import type { AttendanceStore } from '../storage/attendance-store.ts';
import type { StudentStore } from '../storage/student-store.ts';
import { RecognitionSessions } from './recognition-sessions.ts';
import { sessionRoutes } from './session-routes.ts';

export interface RecognitionAppOptions {
  config: Config;
  students: StudentStore;
  attendance: AttendanceStore;
  logger: Logger;
}

export async function buildRecognitionApp({ config, students, attendance, logger }: RecognitionAppOptions): Promise<FastifyInstance> {
  const app = await createApp('recognition', config, logger);
  const sessions = new RecognitionSessions({ config, students, attendance, logger: app.log as Logger });
  app.addHook('onClose', () => sessions.close());
  await app.register(sessionRoutes, { sessions });
  return app;
}
