import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SECURITY_HEADERS } from '../http/security-headers.ts';
import type { PublishedEvent, SessionEvents } from './session-events.ts';

const HEARTBEAT_MS = 15_000;

const EventsHeadersSchema = z.object({
  'last-event-id': z.string().regex(/^\d+$/).optional().describe('Resend the kept events after this id (browsers send it when they reconnect)'),
});

function format({ id, at, event }: PublishedEvent): string {
  return `id: ${id}\nevent: ${event.type}\ndata: ${JSON.stringify({ id, at, ...event })}\n\n`;
}

/**
 * `GET /events`: a server-sent-events stream of session events (`session-started`, `session-stopped`,
 * `student-present`, `enrollment-problem`, `camera-error`), each with an `id` and the time `at` which it happened.
 */
export const eventsRoute: FastifyPluginAsyncZod<{ events: SessionEvents }> = async (app, { events }) => {
  const open = new Set<() => void>();
  // Streams never end on their own; without this, closing the service would wait for every dashboard to leave.
  app.addHook('preClose', async () => {
    for (const close of open) close();
  });

  app.get(
    '/events',
    {
      schema: {
        summary: 'Server-sent events: session started/stopped, student present, enrollment problem, camera error',
        headers: EventsHeadersSchema,
        response: { 200: { description: 'An endless text/event-stream', content: { 'text/event-stream': { schema: z.string() } } } },
      },
    },
    (request, reply) => {
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
        clearInterval(heartbeat);
        unsubscribe();
        open.delete(close);
        stream.end();
      };
      open.add(close);
      request.raw.once('close', close);
      request.log.info('event stream opened');
    },
  );
};
