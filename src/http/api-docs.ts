import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ErrorReplySchema } from './error-handling.ts';

export interface ApiDocsOptions {
  title: string;
  description: string;
}

type Responses = Record<string, unknown>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The request body as the document shows it, by content type, for a route whose body its own content-type parser
     * reads (so it has no zod schema to validate, and none to document).
     */
    documentedBody?: Record<string, z.ZodType>;
  }
}

/**
 * The refusals every route shares, which its own schema leaves out: the document names them so that a client
 * generated from it expects them. 400 where the route validates its input or parses a body (413 and 415 there too);
 * 401 where the key is asked for; 429 where the rate limit counts.
 */
function withSharedRefusals(schema: FastifySchema | undefined, route: RouteOptions, keyRequired: boolean): FastifySchema | undefined {
  if (!schema) return schema;
  const responses: Responses = { ...(schema.response as Responses | undefined) };
  const methods = [route.method].flat();
  const takesBody = methods.some((method) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method));
  const shared: [number, boolean, string][] = [
    [400, takesBody || Boolean(schema.querystring || schema.params || schema.headers), 'The request does not validate (INVALID_REQUEST, INVALID_JSON, FORBIDDEN_KEY…)'],
    [401, keyRequired && !route.config?.public, 'Missing or wrong API key (UNAUTHORIZED)'],
    [413, takesBody, 'The body is over its limit (BODY_TOO_LARGE)'],
    [415, takesBody, 'The body is of a type the route does not take (UNSUPPORTED_MEDIA_TYPE)'],
    [429, route.config?.rateLimit !== false, 'Too many requests from this client this minute (RATE_LIMITED)'],
  ];
  for (const [status, applies, description] of shared) {
    if (applies && !(status in responses)) responses[status] = ErrorReplySchema.describe(description);
  }
  return { ...schema, response: responses };
}

/**
 * OpenAPI 3.1 generated from the zod schemas the routes validate with, at `/docs/json` (and `/docs/yaml`), and a
 * Swagger UI at `/docs` whose assets are served from node_modules. With a key, the document says how to send it, and
 * the UI can (its Authorize button). Call before registering routes.
 */
export function installApiDocs(app: FastifyInstance, { title, description }: ApiDocsOptions, keyRequired: boolean): void {
  // The API's shape is no secret: the document and the UI stay readable without the key.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.config = { ...route.config, public: true };
  });
  app.register(swagger, {
    openapi: {
      // 3.1 is JSON Schema: a nullable enum or a nullable union means what it says (3.0's `nullable` did not for them).
      openapi: '3.1.0',
      info: { title, description, version: '1.0.0' },
      ...(keyRequired && {
        components: {
          securitySchemes: {
            apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
            bearer: { type: 'http', scheme: 'bearer' },
          },
        },
        security: [{ apiKey: [] }, { bearer: [] }],
      }),
    },
    transform: ({ schema, url, route, ...rest }) => {
      const transformed = jsonSchemaTransform({ ...rest, url, route, schema: withSharedRefusals(schema, route, keyRequired) } as Parameters<typeof jsonSchemaTransform>[0]);
      const documentedBody = route.config?.documentedBody;
      return {
        ...transformed,
        schema: {
          ...transformed.schema,
          ...(keyRequired && route.config?.public && { security: [] }),
          ...(documentedBody && {
            body: { content: Object.fromEntries(Object.entries(documentedBody).map(([type, body]) => [type, { schema: z.toJSONSchema(body, { io: 'input' }) }])) },
          }),
        },
      };
    },
  });
  app.register(swaggerUi, { routePrefix: '/docs' });
}
