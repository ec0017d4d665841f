import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ErrorReplySchema } from '../http/error-handling.ts';
import { NoSnapshotError, type RecognitionSessions } from './recognition-sessions.ts';

/** `GET /snapshot.jpg`: what the camera sees, with a box and the rollNo (or `unknown`) on each face. */
export const snapshotRoute: FastifyPluginAsyncZod<{ sessions: RecognitionSessions }> = async (app, { sessions }) => {
  app.get(
    '/snapshot.jpg',
    {
      schema: {
        summary: 'The next processed camera frame, faces boxed and labelled; 409 while no session is watching the camera',
        response: {
          200: { description: 'A JPEG image', content: { 'image/jpeg': { schema: z.string().meta({ format: 'binary' }) } } },
          409: ErrorReplySchema,
        },
      },
    },
    async (_request, reply) => {
      try {
        const { jpeg, takenAt } = await sessions.snapshot();
        reply.type('image/jpeg').header('cache-control', 'no-store').header('last-modified', takenAt.toUTCString());
        // Bytes skip serialization; the 200 schema (a binary string) is there for the OpenAPI document only.
        return reply.send(jpeg as unknown as string);
      } catch (error) {
        if (!(error instanceof NoSnapshotError)) throw error;
        return reply.code(409).send({ status: 'error', code: error.code, message: error.message });
      }
    },
  );
};
