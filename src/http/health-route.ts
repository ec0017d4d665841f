import type { FastifyPluginAsync } from 'fastify';

/** `GET /health`: the process is up and answering. Open to anyone, never rate limited. */
export const healthRoute: FastifyPluginAsync = async (app) => {
  app.get('/health', { config: { public: true, rateLimit: false } }, async () => ({ status: 'ok' }));
};
