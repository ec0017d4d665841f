import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import { clientGroup } from './client-group.ts';

/** Answers that refuse a client: wrong or missing key, another origin, over the rate limit. */
const REFUSALS = new Set([401, 403, 429]);
const REFUSALS_LOGGED_PER_MINUTE = 10;
const WINDOW_MS = 60_000;
/** Clients tracked in one minute; beyond, the rest share one count (the log stays bounded under a spray of addresses). */
const MAX_CLIENTS = 1_000;
const OTHER_CLIENTS = 'other clients';

/** Query parameters that may carry a credential (`?api_key=`, `?token=`, `?access_token=`, `?password=`…). */
const SECRET_PARAMETER = /key|token|secret|pass|auth|sig|credential/i;

/**
 * `url` with the value of every query parameter that may carry a credential replaced by `***`: the API key belongs in
 * a header, but a client that sends it as `?api_key=` must not have it written to the log.
 */
export function urlForLog(url: string): string {
  const query = url.indexOf('?');
  if (query === -1) return url;
  const parameters = url
    .slice(query + 1)
    .split('&')
    .map((parameter) => {
      const equals = parameter.indexOf('=');
      const name = equals === -1 ? parameter : parameter.slice(0, equals);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        // a malformed escape: judge the name as sent
      }
      return equals !== -1 && SECRET_PARAMETER.test(decoded) ? `${name}=***` : parameter;
    });
  return `${url.slice(0, query)}?${parameters.join('&')}`;
}

/** Fastify's `req` in log lines, the URL's credentials hidden (see urlForLog). */
export function requestForLog(request: FastifyRequest) {
  return {
    method: request.method,
    url: urlForLog(request.url),
    version: request.headers?.['accept-version'],
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

/**
 * Fastify's two lines per request (incoming, completed), except for a client refused over and over: after
 * `REFUSALS_LOGGED_PER_MINUTE` refusals in a minute its requests are no longer logged one by one (its answers that
 * are not refusals still get their `request completed` line), and once the minute is over one line says how many
 * refused requests were left out. A flood of wrong keys then costs a few log lines a minute, not two per request.
 */
export class BoundedRequestLog extends LogController {
  private windowStartedAt = 0;
  private refusals = new Map<string, number>();

  override incomingRequest(request: FastifyRequest, reply: FastifyReply): void {
    this.rollWindow(request);
    if (this.isQuiet(request)) return;
    super.incomingRequest(request, reply);
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (REFUSALS.has(reply.statusCode)) {
      const quiet = this.isQuiet(request);
      const client = this.clientKey(request);
      this.refusals.set(client, (this.refusals.get(client) ?? 0) + 1);
      if (quiet) return;
    }
    super.requestCompleted(error, request, reply);
  }

  private isQuiet(request: FastifyRequest): boolean {
    return (this.refusals.get(this.clientKey(request)) ?? 0) >= REFUSALS_LOGGED_PER_MINUTE;
  }

  private clientKey(request: FastifyRequest): string {
    const client = clientGroup(request);
    return this.refusals.has(client) || this.refusals.size < MAX_CLIENTS ? client : OTHER_CLIENTS;
  }

  private rollWindow(request: FastifyRequest): void {
    const now = Date.now();
    if (now - this.windowStartedAt < WINDOW_MS) return;
    for (const [client, count] of this.refusals) {
      if (count > REFUSALS_LOGGED_PER_MINUTE) {
        request.log.warn({ client, refused: count, notLogged: count - REFUSALS_LOGGED_PER_MINUTE }, 'refused requests left out of the log in the last minute');
      }
    }
    this.refusals = new Map();
    this.windowStartedAt = now;
  }
}
