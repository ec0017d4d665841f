import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { installApiDocs, type ApiDocsOptions } from './api-docs.ts';
import { installApiKeyAuth } from './api-key-auth.ts';
import { installErrorHandling } from './error-handling.ts';
import { healthRoute } from './health-route.ts';
import { installSecurityHeaders } from './security-headers.ts';

export type ServiceName = 'registration' | 'recognition';

/**
 * The Fastify instance both services start from: API key check, rate limit, security headers,
 * zod validation, uniform JSON errors, OpenAPI at `/docs` and `/health`.
 */
export async function createApp(service: ServiceName, config: Config, logger: Logger, docs: ApiDocsOptions): Promise<FastifyInstance> {
  const apiKey = (service === 'registration' ? config.REGISTRATION_API_KEY : config.RECOGNITION_API_KEY) ?? config.API_KEY;
  const app = Fastify({
    loggerInstance: logger.child({ service }) as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    trustProxy: config.TRUST_PROXY,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON only: a text/plain body would otherwise reach validation as a string and get a confusing message.
  app.removeContentTypeParser('text/plain');
  installErrorHandling(app);
  installSecurityHeaders(app);
  await app.register(rateLimit, {
    max: config.RATE_LIMIT_PER_MINUTE,
    timeWindow: '1 minute',
    errorResponseBuilder: (_request, context) =>
      Object.assign(new Error(`Too many requests: at most ${context.max} a minute. Retry in ${context.after}.`), {
        statusCode: context.statusCode,
        code: 'RATE_LIMITED',
      }),
  });
  installApiKeyAuth(app, apiKey);
  installApiDocs(app, docs);
  await app.register(healthRoute);
  return app;
}
