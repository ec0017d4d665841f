import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

/** `GET /health`: the process is up and answering. Open to anyone, never rate limited. */
export const healthRoute: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/health',
    { config: { public: true, rateLimit: false }, schema: { summary: 'The process is up', response: { 200: z.object({ status: z.literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );
};
