import { mkdir } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { loadConfig, type Config } from './config/config.ts';
import { AttendanceError } from './errors.ts';
import type { ServiceName } from './http/create-app.ts';
import { createLogger } from './logger.ts';
import { buildRecognitionApp } from './recognition/app.ts';
import { buildRegistrationApp } from './registration/app.ts';
import { DESCRIPTOR_MODEL_VERSION } from './faces/face-engine.ts';
import { JsonAttendanceStore } from './storage/json-attendance-store.ts';
import { JsonDescriptorStore } from './storage/json-descriptor-store.ts';
import { JsonEnrollmentStore } from './storage/json-enrollment-store.ts';
import { JsonStudentStore } from './storage/json-student-store.ts';


/**
 * Starts the named services in this process, listening on their configured ports, until SIGINT or SIGTERM.
 * Configuration comes from the environment, and from `.env` in the working directory when there is one.
 */
export async function runServices(names: readonly ServiceName[]): Promise<void> {
  try {
    process.loadEnvFile();
  } catch {
    // no .env file: the environment alone configures the services
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  const logger = createLogger(config.LOG_LEVEL);
  for (const warning of exposureWarnings(config, names)) logger.warn(warning);
  try {
    const apps = await startServices(config, logger, names);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, async () => {
        logger.info({ signal }, 'shutting down');
        // Closing ends the keep-alive connections idle at that moment; one whose request is still being answered turns
        // idle later and would hold the process open until its client or the keep-alive timeout gives up.
        const closeIdle = setInterval(() => apps.forEach((app) => app.server.closeIdleConnections()), 100);
        await Promise.all(apps.map((app) => app.close()));
        clearInterval(closeIdle);
        process.exit(0);
      });
    }
  } catch (error) {
    const message = error instanceof AttendanceError ? error.message : (error as Error).stack;
    logger.fatal(message);
    process.exit(1);
  }
}

/** A loud warning for each service reachable from other hosts without an API key (it will refuse them). */
export function exposureWarnings(config: Config, names: readonly ServiceName[]): string[] {
  const loopback = config.HOST === 'localhost' || config.HOST === '::1' || config.HOST.startsWith('127.');
  if (loopback) return [];
  return names
    .filter((name) => !((name === 'registration' ? config.REGISTRATION_API_KEY : config.RECOGNITION_API_KEY) ?? config.API_KEY))
    .map(
      (name) =>
        `SECURITY: the ${name} service listens on ${config.HOST} but has no API key. It will refuse every request that does ` +
        'not come directly from this machine. Set API_KEY (see README, Security).',
    );
}

async function startServices(config: Config, logger: Logger, names: readonly ServiceName[]): Promise<FastifyInstance[]> {
  await mkdir(config.DATA_DIR, { recursive: true });
  const students = new JsonStudentStore(config.DATA_DIR);
  const attendance = new JsonAttendanceStore(config.DATA_DIR);
  const enrollments = new JsonEnrollmentStore(config.DATA_DIR);
  const descriptors = new JsonDescriptorStore(config.DATA_DIR);
  // A damaged data file stops the service at start, with its name, rather than at the first request.
  await students.list();
  await attendance.listDay('0000-00-00');
  await enrollments.list();
  await descriptors.list(DESCRIPTOR_MODEL_VERSION);
  const apps: FastifyInstance[] = [];
  for (const name of names) {
    const app =
      name === 'registration'
        ? await buildRegistrationApp({ config, students, enrollments, attendance, descriptors, logger })
        : await buildRecognitionApp({ config, students, attendance, enrollments, descriptors, logger });
    const port = name === 'registration' ? config.REGISTRATION_PORT : config.RECOGNITION_PORT;
    await app.listen({ host: config.HOST, port });
    apps.push(app);
  }
  return apps;
}
