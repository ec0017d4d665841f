import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { installApiDocs, type ApiDocsOptions } from './api-docs.ts';
import { installApiKeyAuth } from './api-key-auth.ts';
import { answerClientError, answerFrameworkError, installErrorHandling, installJsonBodyParser } from './error-handling.ts';
import { healthRoute } from './health-route.ts';
import { clientGroup } from './client-group.ts';
import { BoundedRequestLog, requestForLog } from './request-logging.ts';
import { installSecurityHeaders } from './security-headers.ts';

export type ServiceName = 'registration' | 'recognition';

/** Largest request body of every route but `POST /add-student` (which sizes its own from MAX_STUDENTS_PER_REQUEST). */
export const BODY_LIMIT_BYTES = 1024 * 1024;
/** A client has this long to send its headers, and its whole request: a slow sender does not keep a socket. */
export const REQUEST_TIMEOUT_MS = 10_000;
/** Idle keep-alive connections are closed after this. */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** Open connections per service; beyond, new ones are closed at once. */
export const MAX_CONNECTIONS = 256;

/**
 * The Fastify instance both services start from: rate limit, then the API key check, security headers,
 * zod validation, uniform JSON errors, OpenAPI at `/docs` and `/health`.
 */
export async function createApp(service: ServiceName, config: Config, logger: Logger, docs: ApiDocsOptions): Promise<FastifyInstance> {
  const apiKey = (service === 'registration' ? config.REGISTRATION_API_KEY : config.RECOGNITION_API_KEY) ?? config.API_KEY;
  const app = Fastify({
    loggerInstance: logger.child({ service }, { serializers: { req: requestForLog } }) as FastifyBaseLogger,
    logController: new BoundedRequestLog(),
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY,
    requestTimeout: REQUEST_TIMEOUT_MS,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // Node checks the timeouts every 30 s by default, which would let a slow sender stay up to 40 s.
    http: { headersTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 1_000 },
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  });
  app.server.maxConnections = MAX_CONNECTIONS;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON only: a text/plain body would otherwise reach validation as a string and get a confusing message.
  app.removeContentTypeParser('text/plain');
  installJsonBodyParser(app);
  installErrorHandling(app);
  installSecurityHeaders(app);
  await app.register(rateLimit, {
    global: false,
    keyGenerator: clientGroup,
    max: config.RATE_LIMIT_PER_MINUTE,
    timeWindow: '1 minute',
    errorResponseBuilder: (_request, context) =>
      Object.assign(new Error(`Too many requests: at most ${context.max} a minute. Retry in ${context.after}.`), {
        statusCode: context.statusCode,
        code: 'RATE_LIMITED',
      }),
  });
  // Counted before the key check, so failed key checks count too; unknown routes count as well.
  const limit = app.rateLimit();
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.rateLimit !== false) await limit.call(app, request, reply);
  });
  installApiKeyAuth(app, apiKey);
  installApiDocs(app, docs, apiKey !== undefined);
  await app.register(healthRoute);
  return app;
}
