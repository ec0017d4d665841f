import type { Socket } from 'node:net';
import path from 'node:path';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AttendanceError, DatabaseUnavailableError, DataFileCorruptError, DataFileNotWritableError, LockTimeoutError, PartialErasureError } from '../errors.ts';

export const ErrorReplySchema = z.object({
  status: z.literal('error'),
  code: z.string(),
  message: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type ErrorBody = z.infer<typeof ErrorReplySchema>;

/** An answer stays small whatever the request: 60 000 unknown keys are not listed back. */
const MAX_ISSUES = 10;
const MAX_ISSUE_TEXT = 200;

function bounded(text: string): string {
  return text.length > MAX_ISSUE_TEXT ? `${text.slice(0, MAX_ISSUE_TEXT)}…` : text;
}

/** A 4xx error of the request, with the code and message clients see. */
class RequestError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The keys through which a parsed body could reach an object's prototype once merged somewhere. */
function prototypeKey(key: string, value: unknown): string | undefined {
  if (key === '__proto__') return '__proto__';
  if (key === 'constructor' && typeof value === 'object' && value !== null && Object.hasOwn(value, 'prototype')) return 'constructor.prototype';
  return undefined;
}

/**
 * JSON bodies, parsed so that what is refused is named: a body that does not parse, and one with a
 * `__proto__` key (or `constructor.prototype`), which could reach an object's prototype further on.
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    // Many clients set the JSON content type on every request, bodiless ones too (a stop, a removal): no body, not a
    // malformed one. A route that needs a body says so when it validates.
    if (text.length === 0) return done(null, undefined);
    try {
      done(
        null,
        JSON.parse(text, (key, value: unknown) => {
          const forbidden = prototypeKey(key, value);
          if (forbidden) throw new RequestError(400, 'FORBIDDEN_KEY', `The body contains a "${forbidden}" key, which is refused.`);
          return value;
        }),
      );
    } catch (error) {
      if (error instanceof RequestError) return done(error, undefined);
      if (error instanceof RangeError) return done(new RequestError(400, 'INVALID_JSON', 'The body is nested too deeply.'), undefined);
      done(new RequestError(400, 'INVALID_JSON', `The body is not valid JSON: ${bounded((error as Error).message)}`), undefined);
    }
  });
}

/** Fastify's own refusals before routing (a URL that does not decode, a path parameter too long), in the one shape. */
export function answerFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_BAD_URL') {
    void reply.code(400).send({ status: 'error', code: 'BAD_URL', message: 'The request URL is not valid (a malformed percent-encoding?).' } satisfies ErrorBody);
  } else if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void reply.code(414).send({ status: 'error', code: 'URL_TOO_LONG', message: 'A path parameter of the request URL is too long.' } satisfies ErrorBody);
  } else {
    void reply.code(500).send({ status: 'error', code: 'INTERNAL_ERROR', message: 'Internal server error' } satisfies ErrorBody);
  }
}

const CLIENT_ERRORS: Record<string, [number, string, string, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'REQUEST_TIMEOUT', 'The request was not received in time.'],
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'HEADERS_TOO_LARGE', 'The request headers are too large.'],
};

/** Errors of the connection before Fastify sees a request (too slow, headers too large, not HTTP), in the one shape. */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, code, message] = CLIENT_ERRORS[error.code ?? ''] ?? [400, 'Bad Request', 'BAD_REQUEST', 'The request is not valid HTTP.'];
  const body = JSON.stringify({ status: 'error', code, message } satisfies ErrorBody);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** The service's own names for Fastify's refusals of a body, so that clients never depend on the framework's. */
const FRAMEWORK_CODES = new Map([
  ['FST_ERR_CTP_BODY_TOO_LARGE', 'BODY_TOO_LARGE'],
  ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 'UNSUPPORTED_MEDIA_TYPE'],
  ['FST_ERR_CTP_INVALID_CONTENT_LENGTH', 'BAD_CONTENT_LENGTH'],
]);

/**
 * One JSON shape for every error: `{ status: "error", code, message }`. Client mistakes keep Fastify's 4xx
 * status and message; anything unexpected is logged in full and answered without internals.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ status: 'error', code: 'NOT_FOUND', message: `No route for ${request.method} ${bounded(request.url.split('?')[0]!)}` } satisfies ErrorBody);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      const issues = error.validation.slice(0, MAX_ISSUES).map((issue) => ({
        path: bounded(issue.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(body)'),
        message: bounded(issue.message ?? 'invalid value'),
      }));
      const more = error.validation.length - issues.length;
      const summary = issues.slice(0, 3).map((issue) => `${issue.path}: ${issue.message}`).join('; ');
      const message = `Invalid request: ${summary}${more > 0 ? ` (and ${more} more problems)` : ''}`;
      return reply.code(400).send({ status: 'error', code: 'INVALID_REQUEST', message, issues } satisfies ErrorBody);
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      const code = FRAMEWORK_CODES.get(error.code) ?? error.code ?? 'BAD_REQUEST';
      return reply.code(error.statusCode).send({ status: 'error', code, message: bounded(error.message) } satisfies ErrorBody);
    }
    if (error instanceof PartialErasureError) {
      request.log.error({ err: error }, 'a student was only partly removed');
      const passes = error.cause instanceof DataFileNotWritableError || error.cause instanceof LockTimeoutError;
      return reply.code(passes ? 503 : 500).send({ status: 'error', code: error.code, message: error.message } satisfies ErrorBody);
    }
    if (error instanceof DataFileNotWritableError) {
      request.log.error({ err: error }, 'a data file cannot be written');
      return reply.code(503).send({ status: 'error', code: error.code, message: `${error.message} Nothing was changed; an administrator must fix the data folder.` } satisfies ErrorBody);
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
