import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AttendanceRecordSchema } from '../storage/attendance-store.ts';
import { DataFileNotWritableError, ModelFilesMissingError } from '../errors.ts';
import { SessionAlreadyRunningError, type RecognitionSessions } from './recognition-sessions.ts';

const StartReplySchema = z.object({ status: z.literal('success'), message: z.string() });
const ConflictReplySchema = z.object({ status: z.literal('error'), code: z.string(), message: z.string() });
const StopReplySchema = z.object({ recognizedStudents: z.array(AttendanceRecordSchema) });

const bytes = z.number().int();
const DiagnosticsSchema = z
  .object({
    process: z.object({ rssBytes: bytes, heapUsedBytes: bytes, externalBytes: bytes, arrayBuffersBytes: bytes, openFiles: z.number().int().nullable() }),
    pendingWrites: z.number().int(),
    eventClients: z.number().int(),
    keptEvents: z.number().int(),
    worker: z
      .object({
        tracks: z.number().int(),
        queuedFrames: z.number().int(),
        heapUsedBytes: bytes,
        externalBytes: bytes,
        arrayBuffersBytes: bytes,
        tensors: z.number().int(),
        tensorBytes: bytes,
        inferenceHeapBytes: bytes.nullable(),
      })
      .nullable(),
  })
  .describe('Memory and the counters that stay level in a session that runs all day (see the README, "Running all day")');

const StatusReplySchema = z.object({
  room: z.string().nullable().describe('ROOM: where this service\'s camera is'),
  classId: z.string().nullable().describe('CLASS_ID: the class whose students this service enrolls; null for the whole roster'),
  storage: z.enum(['json-files', 'postgres']),
  database: z
    .object({ reachable: z.boolean(), problem: z.string().nullable() })
    .nullable()
    .describe('With DATABASE_URL: whether the database answers now; null with the JSON files'),
  running: z.boolean(),
  sessionId: z.string().nullable(),
  startedAt: z.string().nullable(),
  camera: z.string(),
  backend: z.string().nullable(),
  phase: z.enum(['idle', 'enrolling', 'watching', 'source-ended', 'stopping', 'failed']),
  framesProcessed: z.number().int(),
  sourceEnded: z.boolean(),
  enrolled: z.number().int(),
  otherClassStudents: z
    .number()
    .int()
    .describe('CLASS_ID: students of other classes, with a photo already encoded, compared with every face and never marked'),
  enrollmentErrors: z.array(z.object({ rollNo: z.string(), code: z.string(), message: z.string() })),
  recognizedThisSession: z.number().int(),
  ignoredRecognitions: z
    .array(z.object({ rollNo: z.string(), day: z.string(), seenAt: z.string(), reason: z.literal('removed-by-person') }))
    .describe('Students this session recognised but did not mark, because a person had removed their mark that day'),
  queuedMarks: z.number().int().describe('Marks waiting in memory for the database to come back'),
  droppedMarks: z.number().int().describe('Marks not kept during an outage because MARK_QUEUE_LIMIT marks were already waiting'),
  lastError: z.string().nullable(),
  diagnostics: DiagnosticsSchema,
});

/** `POST /start-recognition`, `POST /stop-recognition` and `GET /status`. */
export interface SessionRoutesOptions {
  sessions: RecognitionSessions;
  storage: 'json-files' | 'postgres';
  /** Resolves what keeps the database from answering, or null when it answers; only with PostgreSQL. */
  databaseProblem?: () => Promise<string | null>;
}

export const sessionRoutes: FastifyPluginAsyncZod<SessionRoutesOptions> = async (app, { sessions, storage, databaseProblem }) => {
  app.post('/start-recognition', { schema: { response: { 200: StartReplySchema, 409: ConflictReplySchema, 503: ConflictReplySchema } } }, async (_request, reply) => {
    try {
      await sessions.start();
    } catch (error) {
      if (error instanceof SessionAlreadyRunningError) return reply.code(409).send({ status: 'error', code: error.code, message: error.message });
      if (error instanceof ModelFilesMissingError || error instanceof DataFileNotWritableError) {
        return reply.code(503).send({ status: 'error', code: error.code, message: `No session was started: ${error.message}` });
      }
      throw error;
    }
    return { status: 'success' as const, message: 'Face recognition process started.' };
  });

  app.post('/stop-recognition', { schema: { response: { 200: StopReplySchema } } }, async () => ({
    recognizedStudents: await sessions.stop(),
  }));

  app.get('/status', { schema: { response: { 200: StatusReplySchema } } }, async () => {
    const problem = databaseProblem && (await databaseProblem());
    return { ...sessions.status(), storage, database: problem === undefined ? null : { reachable: problem === null, problem } };
  });
};
