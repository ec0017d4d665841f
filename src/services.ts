import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { loadConfig, type Config } from './config/config.ts';
import { mallocTuningWarning } from './config/malloc-tuning.ts';
import { AttendanceError, ConfigError, DataFileNotWritableError } from './errors.ts';
import type { ServiceName } from './http/create-app.ts';
import { createLogger } from './logger.ts';
import { buildRecognitionApp } from './recognition/app.ts';
import { buildRegistrationApp } from './registration/app.ts';
import { openStores, type Stores } from './storage/open-stores.ts';
import { ATTENDANCE_FILE } from './storage/json-attendance-store.ts';
import { DESCRIPTOR_CACHE_FILE } from './storage/json-descriptor-store.ts';
import { ENROLLMENT_FILE } from './storage/json-enrollment-store.ts';
import { STUDENTS_FILE } from './storage/json-student-store.ts';
import { checkWritable } from './storage/writable.ts';

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
  const mallocWarning = names.includes('recognition') ? mallocTuningWarning() : undefined;
  if (mallocWarning) logger.warn(mallocWarning);
  try {
    const { apps, stores } = await startServices(config, logger, names);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, async () => {
        logger.info({ signal }, 'shutting down');
        // Closing ends the keep-alive connections idle at that moment; one whose request is still being answered turns
        // idle later and would hold the process open until its client or the keep-alive timeout gives up.
        const closeIdle = setInterval(() => apps.forEach((app) => app.server.closeIdleConnections()), 100);
        await Promise.all(apps.map((app) => app.close()));
        clearInterval(closeIdle);
        await stores.close();
        process.exit(0);
      });
    }
  } catch (error) {
    // The operator reads this line: what is wrong and which variable to change, not a stack trace.
    if (error instanceof AttendanceError) logger.fatal({ code: error.code }, error.message);
    else logger.fatal({ code: (error as NodeJS.ErrnoException).code }, `could not start: ${(error as Error).message}`);
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

async function startServices(config: Config, logger: Logger, names: readonly ServiceName[]): Promise<{ apps: FastifyInstance[]; stores: Stores }> {
  if (config.DATABASE_URL === undefined) await prepareDataFolder(config.DATA_DIR);
  const stores = await openStores(config, (problem) => logger.warn({ problem }, 'a database connection was lost'));
  logger.info({ storage: stores.kind, room: config.ROOM, classId: config.CLASS_ID }, 'stores opened');
  const { students, attendance, enrollments, descriptors, erasure, readiness: storeChecks } = stores;
  const apps: FastifyInstance[] = [];
  for (const name of names) {
    const app =
      name === 'registration'
        ? await buildRegistrationApp({ config, students, enrollments, attendance, descriptors, erasure, storeChecks, logger })
        : await buildRecognitionApp({ config, students, attendance, enrollments, descriptors, storage: stores.kind, storeChecks, logger });
    const [portVariable, port] = name === 'registration' ? ['REGISTRATION_PORT', config.REGISTRATION_PORT] : ['RECOGNITION_PORT', config.RECOGNITION_PORT];
    try {
      await app.listen({ host: config.HOST, port });
    } catch (error) {
      await Promise.all([app, ...apps].map((started) => started.close()));
      await stores.close();
      throw listenFailure(error as NodeJS.ErrnoException, config.HOST, portVariable, port);
    }
    apps.push(app);
  }
  return { apps, stores };
}

/** Creates DATA_DIR if needed; refuses to start when it is not a writable folder or holds a data file that is a link. */
async function prepareDataFolder(dataDir: string): Promise<void> {
  try {
    await mkdir(dataDir, { recursive: true });
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    // A recursive mkdir can report ENOENT for a parent it may not write to: ask the parent why.
    const parentRefusal = await access(path.dirname(dataDir), constants.W_OK).then(
      () => undefined,
      (parentError: NodeJS.ErrnoException) => (parentError.code === 'ENOENT' ? undefined : parentError.code),
    );
    const why = code === 'EEXIST' || code === 'ENOTDIR' ? 'it (or a folder above it) is a file, not a folder' : `it cannot be created (${parentRefusal ?? code})`;
    throw new ConfigError(`DATA_DIR=${JSON.stringify(dataDir)}: ${why}. Point DATA_DIR at a folder the service can write.`);
  }
  if (!(await stat(dataDir)).isDirectory()) throw new ConfigError(`DATA_DIR=${JSON.stringify(dataDir)}: it is a file, not a folder.`);
  for (const file of [STUDENTS_FILE, ATTENDANCE_FILE, ENROLLMENT_FILE, DESCRIPTOR_CACHE_FILE]) {
    try {
      await checkWritable(path.join(dataDir, file));
    } catch (error) {
      if (!(error instanceof DataFileNotWritableError)) throw error;
      throw new ConfigError(`DATA_DIR=${JSON.stringify(dataDir)}: ${error.message} The services keep the roster and the roll call there.`);
    }
  }
}

function listenFailure(error: NodeJS.ErrnoException, host: string, portVariable: string, port: number): Error {
  switch (error.code) {
    case 'EADDRINUSE':
      return new ConfigError(`${portVariable}=${port}: the port is already in use on ${host}. Stop what uses it or choose another port.`);
    case 'EACCES':
      return new ConfigError(`${portVariable}=${port}: permission denied (ports below 1024 need privileges). Choose a port from 1024 up.`);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EINVAL':
      return new ConfigError(`HOST=${JSON.stringify(host)}: not an address of this machine (${error.code}). Use 127.0.0.1 (the default), 0.0.0.0 or one of this machine's addresses.`);
    default:
      return error;
  }
}
