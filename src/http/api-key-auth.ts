import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ErrorBody } from './error-handling.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Open to anyone, without an API key (health checks). */
    public?: boolean;
  }
}

const FORWARDING_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip', 'x-forwarded-host'];

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header) return header;
  const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
  return bearer?.[1]?.trim();
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const plain = address.replace(/^::ffff:/i, '');
  return (isIP(plain) === 4 && plain.startsWith('127.')) || plain === '::1';
}

/**
 * Requests made on this machine itself, not relayed by a proxy or tunnel (ngrok adds X-Forwarded-For).
 * Judged on the socket, never on headers a client could set, so `trustProxy` cannot widen it.
 */
function isDirectLocalRequest(request: FastifyRequest): boolean {
  return isLoopback(request.raw.socket.remoteAddress) && !FORWARDING_HEADERS.some((name) => name in request.headers);
}

/**
 * Every route needs the API key unless its config says `public: true`. Without a configured key, only direct
 * requests from this machine are served, so a tunnel or an exposed port never opens the service by accident.
 */
export function installApiKeyAuth(app: FastifyInstance, apiKey: string | undefined): void {
  const expected = apiKey === undefined ? undefined : digest(apiKey);
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.public) return;
    if (expected === undefined) {
      if (isDirectLocalRequest(request)) return;
      return reply.code(401).send({
        status: 'error',
        code: 'API_KEY_NOT_CONFIGURED',
        message:
          'This service has no API key configured, so it only answers requests made directly on its own machine. ' +
          'Set API_KEY to use it through a tunnel or proxy (ngrok) or from another host.',
      } satisfies ErrorBody);
    }
    const presented = presentedKey(request);
    if (presented !== undefined && timingSafeEqual(digest(presented), expected)) return;
    return reply
      .code(401)
      .header('www-authenticate', 'Bearer')
      .send({
        status: 'error',
        code: 'UNAUTHORIZED',
        message: `${presented === undefined ? 'Missing' : 'Wrong'} API key: send it in the x-api-key header or as "Authorization: Bearer <key>".`,
      } satisfies ErrorBody);
  });
}
