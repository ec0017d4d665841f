import { normalizeIP } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';

/**
 * Who a request counts against, for the rate limit, the log's refusal rule and the event-stream cap alike: its address,
 * an IPv6 one by its /64 (a single host is commonly given a whole /64 and can use a new address for each request).
 */
export function clientGroup(request: FastifyRequest): string {
  // A request whose socket is already gone may have no address.
  return request.ip ? normalizeIP(request.ip) : 'unknown';
}
