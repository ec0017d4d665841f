import path from 'node:path';
import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AttendanceError, DatabaseUnavailableError, DataFileCorruptError } from '../errors.ts';

export const ErrorReplySchema = z.object({
  status: z.literal('error'),
  code: z.string(),
  message: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type ErrorBody = z.infer<typeof ErrorReplySchema>;

/**
 * One JSON shape for every error: `{ status: "error", code, message }`. Client mistakes keep Fastify's 4xx
 * status and message; anything unexpected is logged in full and answered without internals.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ status: 'error', code: 'NOT_FOUND', message: `No route for ${request.method} ${request.url.split('?')[0]}` } satisfies ErrorBody);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      const issues = error.validation.map((issue) => ({
        path: issue.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(body)',
        message: issue.message ?? 'invalid value',
      }));
      const summary = issues.slice(0, 3).map((issue) => `${issue.path}: ${issue.message}`).join('; ');
      return reply.code(400).send({ status: 'error', code: 'INVALID_REQUEST', message: `Invalid request: ${summary}`, issues } satisfies ErrorBody);
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(error.statusCode).send({ status: 'error', code: error.code ?? 'BAD_REQUEST', message: error.message } satisfies ErrorBody);
    }
    if (error instanceof DatabaseUnavailableError) {
      request.log.warn({ code: error.code, problem: error.message }, 'request failed: database unavailable');
      return reply.code(503).send({ status: 'error', code: error.code, message: error.message } satisfies ErrorBody);
    }
    request.log.error({ err: error }, 'request failed');
    if (error instanceof DataFileCorruptError) {
      const message = `${path.basename(error.file)} is not a valid data file; it was left untouched. An administrator must repair it (see the service log).`;
      return reply.code(500).send({ status: 'error', code: error.code, message } satisfies ErrorBody);
    }
    if (error instanceof AttendanceError) {
      return reply.code(500).send({ status: 'error', code: error.code, message: error.message } satisfies ErrorBody);
    }
    return reply.code(500).send({ status: 'error', code: 'INTERNAL_ERROR', message: 'Internal server error' } satisfies ErrorBody);
  });
}
