import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { clientGroup } from '../http/client-group.ts';
import { ErrorReplySchema, type ErrorBody } from '../http/error-handling.ts';
import { SECURITY_HEADERS } from '../http/security-headers.ts';
import type { PublishedEvent, SessionEvents } from './session-events.ts';

const HEARTBEAT_MS = 15_000;
/** Open streams one client may hold (a few tabs of the roll-call page), and all clients together. */
export const MAX_STREAMS_PER_CLIENT = 5;
export const MAX_STREAMS = 100;

const EventsHeadersSchema = z.object({
  'last-event-id': z.string().regex(/^\d+$/).optional().describe('Resend the kept events after this id (browsers send it when they reconnect)'),
});

function format({ id, at, event }: PublishedEvent): string {
  return `id: ${id}\nevent: ${event.type}\ndata: ${JSON.stringify({ id, at, ...event })}\n\n`;
}

/**
 * `GET /events`: a server-sent-events stream of session events (`session-started`, `session-stopped`,
 * `student-present`, `recognition-ignored`, `enrollment-problem`, `camera-error`) and of `attendance-corrected`,
 * each with an `id` and the time `at` which it happened.
 */
export const eventsRoute: FastifyPluginAsyncZod<{ events: SessionEvents }> = async (app, { events }) => {
  const open = new Set<() => void>();
  const openByClient = new Map<string, number>();
  // Streams never end on their own; without this, closing the service would wait for every dashboard to leave.
  app.addHook('preClose', async () => {
    for (const close of open) close();
  });

  app.get(
    '/events',
    {
      // Fastify's automatic HEAD route would open a stream that never ends and hold one of the client's slots.
      exposeHeadRoute: false,
      schema: {
        summary:
          'Server-sent events: session started/stopped, student present, recognition ignored, attendance corrected, enrollment problem, camera error',
        headers: EventsHeadersSchema,
        response: {
          200: { description: 'An endless text/event-stream', content: { 'text/event-stream': { schema: z.string() } } },
          429: ErrorReplySchema.describe(`This client already has ${MAX_STREAMS_PER_CLIENT} streams open`),
          503: ErrorReplySchema.describe(`${MAX_STREAMS} streams are open`),
        },
      },
    },
    (request, reply) => {
      const client = clientGroup(request);
      const ofClient = openByClient.get(client) ?? 0;
      if (ofClient >= MAX_STREAMS_PER_CLIENT) {
        const message = `This client already has ${MAX_STREAMS_PER_CLIENT} event streams open: close one first.`;
        void reply.code(429).send({ status: 'error', code: 'TOO_MANY_STREAMS', message } satisfies ErrorBody);
        return;
      }
      if (open.size >= MAX_STREAMS) {
        const message = `The service already serves ${MAX_STREAMS} event streams: retry later.`;
        void reply.code(503).header('retry-after', '30').send({ status: 'error', code: 'STREAMS_FULL', message } satisfies ErrorBody);
        return;
      }
      openByClient.set(client, ofClient + 1);
      const lastId = request.headers['last-event-id'];
      reply.hijack();
      const stream = reply.raw;
      // A hijacked reply skips the onSend hook that adds the security headers to every other answer.
      stream.writeHead(200, {
        ...SECURITY_HEADERS,
        'content-type': 'text/event-stream; charset=utf-8',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      stream.write('retry: 3000\n\n');
      const unsubscribe = events.subscribe((published) => stream.write(format(published)), lastId === undefined ? undefined : Number(lastId));
      const heartbeat = setInterval(() => stream.write(': keep-alive\n\n'), HEARTBEAT_MS);
      const close = () => {
        if (!open.delete(close)) return;
        clearInterval(heartbeat);
        unsubscribe();
        const left = (openByClient.get(client) ?? 1) - 1;
        if (left > 0) openByClient.set(client, left);
        else openByClient.delete(client);
        stream.end();
      };
      open.add(close);
      request.raw.once('close', close);
      request.log.info('event stream opened');
    },
  );
};
