import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { installApiDocs, type ApiDocsOptions } from './api-docs.ts';
import { installErrorHandling } from './error-handling.ts';
import { healthRoute } from './health-route.ts';

/** The Fastify instance both services start from: zod validation, uniform JSON errors, OpenAPI at `/docs`, `/health`. */
export function createApp(logger: Logger, docs: ApiDocsOptions): FastifyInstance {
  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger, bodyLimit: 1024 * 1024 });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON only: a text/plain body would otherwise reach validation as a string and get a confusing message.
  app.removeContentTypeParser('text/plain');
  installErrorHandling(app);
  installApiDocs(app, docs);
  app.register(healthRoute);
  return app;
}
