import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

/** `GET /health`: the process is up and answering. */
export const healthRoute: FastifyPluginAsyncZod = async (app) => {
  app.get('/health', { schema: { summary: 'The process is up', response: { 200: z.object({ status: z.literal('ok') }) } } }, async () => ({
    status: 'ok' as const,
  }));
};
