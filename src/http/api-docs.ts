import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';

export interface ApiDocsOptions {
  title: string;
  description: string;
}

/**
 * OpenAPI 3 generated from the zod schemas the routes validate with, at `/docs/json` (and `/docs/yaml`),
 * and a Swagger UI at `/docs` whose assets are served from node_modules. Call before registering routes.
 */
export function installApiDocs(app: FastifyInstance, { title, description }: ApiDocsOptions): void {
  // The API's shape is no secret: the document and the UI stay readable without the key.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.config = { ...route.config, public: true };
  });
  app.register(swagger, {
    openapi: { openapi: '3.0.3', info: { title, description, version: '1.0.0' } },
    transform: jsonSchemaTransform,
  });
  app.register(swaggerUi, { routePrefix: '/docs' });
}
