import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DataFileNotWritableError, ModelFilesMissingError } from '../errors.ts';
import { ErrorReplySchema } from '../http/error-handling.ts';
import { PhotoUrlSchema } from '../photos/photo-url.ts';
import { PhotoRecordSchema } from '../storage/attendance-store.ts';
import { ClassPhotoError, SessionAlreadyRunningError, type RecognitionSessions } from './recognition-sessions.ts';
import type { ClassPhotoSource } from './class-photo-bytes.ts';

const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp'];

const UrlBodySchema = z.strictObject({ url: PhotoUrlSchema });

const BoxSchema = z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() });
const ClassPhotoReplySchema = z.object({
  sessionId: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  faces: z.array(
    z.object({
      box: BoxSchema,
      verdict: z.enum(['recognized', 'unknown', 'disagreement', 'duplicate', 'too-small']),
      rollNo: z.string().nullable().describe('The nearest student, whatever the verdict: only a `recognized` face is that student; null for `too-small`'),
      distance: z.number().nullable().describe('Mean distance from the face to the nearest student\'s photos'),
      margin: z.number().nullable().describe('How much nearer the nearest student is than the runner-up; null with one student enrolled'),
    }),
  ),
  marked: z
    .array(PhotoRecordSchema)
    .describe('The students this photo marked present, each record with source "photo"; those already present that day (whoever marked them) are not marked again'),
});

/**
 * `POST /recognize-photo`: the roll call from one photo of the class, sent as the body (JPEG, PNG or WebP) or as
 * `{"url"}` fetched under the rules for student photos. Nothing of the photo is kept once answered.
 */
export const classPhotoRoute: FastifyPluginAsyncZod<{ sessions: RecognitionSessions; maxBytes: number }> = async (app, { sessions, maxBytes }) => {
  app.addContentTypeParser(IMAGE_TYPES, { parseAs: 'buffer', bodyLimit: maxBytes }, (_request, body, done) => done(null, body));

  app.post(
    '/recognize-photo',
    {
      bodyLimit: maxBytes,
      config: {
        documentedBody: {
          ...Object.fromEntries(IMAGE_TYPES.map((type) => [type, z.string().meta({ format: 'binary', description: 'The photo itself' })])),
          'application/json': UrlBodySchema,
        },
      },
      schema: {
        summary: 'Take the roll from a photo of the class: every face with its verdict; recognised students are marked present',
        description:
          `Body: the photo (${IMAGE_TYPES.join(', ')}, at most PHOTO_MAX_BYTES) or {"url"}. ` +
          '`?annotated=1` answers with the photo as JPEG, faces boxed and labelled, instead of JSON. ' +
          'Its marks are attendance records with `source: "photo"`, the session and the match distance (and `room` when the service has a ROOM).',
        querystring: z.object({ annotated: z.enum(['0', '1']).default('0') }).strict(),
        response: {
          200: ClassPhotoReplySchema,
          400: ErrorReplySchema,
          409: ErrorReplySchema,
          422: ErrorReplySchema,
          503: ErrorReplySchema,
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      let photo: ClassPhotoSource;
      if (Buffer.isBuffer(body)) {
        photo = { bytes: body };
      } else {
        const parsed = UrlBodySchema.safeParse(body);
        if (!parsed.success) {
          return reply.code(400).send({
            status: 'error',
            code: 'INVALID_REQUEST',
            message: `Send the photo itself (${IMAGE_TYPES.join(', ')}) or {"url":"https://…"}.`,
          });
        }
        photo = { url: parsed.data.url };
      }
      try {
        const result = await sessions.recognizePhoto({ photo, annotated: request.query.annotated === '1' });
        if (result.annotatedJpeg) {
          // Bytes skip serialization; the 200 schema describes the JSON answer.
          return reply.type('image/jpeg').header('cache-control', 'no-store').send(result.annotatedJpeg as unknown as z.infer<typeof ClassPhotoReplySchema>);
        }
        const { sessionId, width, height, faces, marked } = result;
        return { sessionId, width, height, faces, marked };
      } catch (error) {
        if (error instanceof SessionAlreadyRunningError) {
          return reply.code(409).send({ status: 'error', code: error.code, message: 'A camera session is running: stop it before taking the roll from a photo.' });
        }
        if (error instanceof ClassPhotoError) return reply.code(422).send({ status: 'error', code: error.code, message: error.message });
        if (error instanceof ModelFilesMissingError || error instanceof DataFileNotWritableError) {
          return reply.code(503).send({ status: 'error', code: error.code, message: `The photo was not examined: ${error.message}` });
        }
        throw error;
      }
    },
  );
};
