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

function isLoopbackName(hostname: string): boolean {
  const bare = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return bare === 'localhost' || isLoopback(bare);
}

/** `host[:port]` of a Host header or an origin, with the port made explicit (`80` when absent). */
function hostAndPort(authority: string): { hostname: string; port: string } | undefined {
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(authority);
  return match ? { hostname: match[1]!, port: match[2] || '80' } : undefined;
}

/**
 * Why a direct local request that a browser could have made for a page of another site is refused, if it is: a Host
 * other than a loopback name (DNS rebinding: a page whose name now resolves to 127.0.0.1 reads the answers), an
 * Origin other than this service's own, or `Sec-Fetch-Site: cross-site` (a form another page posts).
 */
function browserRefusal(request: FastifyRequest): string | undefined {
  const host = request.headers.host === undefined ? undefined : hostAndPort(request.headers.host);
  if (request.headers.host !== undefined && (!host || !isLoopbackName(host.hostname))) {
    return 'This service has no API key configured, so it only answers requests addressed to localhost or a loopback address (Host header).';
  }
  const crossSite = request.headers['sec-fetch-site'] === 'cross-site';
  const origin = request.headers.origin;
  if (crossSite || (origin !== undefined && !isOwnOrigin(origin, host))) {
    return 'This service has no API key configured, so it refuses requests that a page of another origin makes through the browser.';
  }
  return undefined;
}

/** An http origin on a loopback name and the port the request was addressed to (`localhost` and `127.0.0.1` alike). */
function isOwnOrigin(origin: string, host: { port: string } | undefined): boolean {
  if (!URL.canParse(origin)) return false;
  const url = new URL(origin);
  return url.protocol === 'http:' && isLoopbackName(url.hostname) && (url.port || '80') === (host?.port ?? '80');
}

/**
 * Every route needs the API key unless its config says `public: true`. Without a configured key, only direct
 * requests from this machine are served, so a tunnel or an exposed port never opens the service by accident, and
 * only those a page of another site cannot have made through a browser on this machine.
 */
export function installApiKeyAuth(app: FastifyInstance, apiKey: string | undefined): void {
  const expected = apiKey === undefined ? undefined : digest(apiKey);
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.public) return;
    if (expected === undefined) {
      if (isDirectLocalRequest(request)) {
        const refusal = browserRefusal(request);
        if (refusal === undefined) return;
        return reply.code(403).send({ status: 'error', code: 'CROSS_ORIGIN_REFUSED', message: `${refusal} Set API_KEY to use it from a page of another origin.` } satisfies ErrorBody);
      }
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
