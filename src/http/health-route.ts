import type { FastifyPluginAsync } from 'fastify';

/** `GET /health`: the process is up and answering. */
export const healthRoute: FastifyPluginAsync = async (app) => {
  app.get('/health', async () => ({ status: 'ok' }));
};
