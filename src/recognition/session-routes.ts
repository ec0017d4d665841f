import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AttendanceRecordSchema } from '../storage/attendance-store.ts';
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
  running: z.boolean(),
  sessionId: z.string().nullable(),
  startedAt: z.string().nullable(),
  camera: z.string(),
  backend: z.string().nullable(),
  phase: z.enum(['idle', 'enrolling', 'watching', 'source-ended', 'stopping', 'failed']),
  framesProcessed: z.number().int(),
  sourceEnded: z.boolean(),
  enrolled: z.number().int(),
  enrollmentErrors: z.array(z.object({ rollNo: z.string(), code: z.string(), message: z.string() })),
  recognizedThisSession: z.number().int(),
  lastError: z.string().nullable(),
  diagnostics: DiagnosticsSchema,
});

/** `POST /start-recognition`, `POST /stop-recognition` and `GET /status`. */
export const sessionRoutes: FastifyPluginAsyncZod<{ sessions: RecognitionSessions }> = async (app, { sessions }) => {
  app.post('/start-recognition', { schema: { response: { 200: StartReplySchema, 409: ConflictReplySchema } } }, async (_request, reply) => {
    try {
      await sessions.start();
    } catch (error) {
      if (!(error instanceof SessionAlreadyRunningError)) throw error;
      return reply.code(409).send({ status: 'error', code: error.code, message: error.message });
    }
    return { status: 'success' as const, message: 'Face recognition process started.' };
  });

  app.post('/stop-recognition', { schema: { response: { 200: StopReplySchema } } }, async () => ({
    recognizedStudents: await sessions.stop(),
  }));

  app.get('/status', { schema: { response: { 200: StatusReplySchema } } }, async () => sessions.status());
};
