import path from 'node:path';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DataFileCorruptError } from '../errors.ts';

/** One thing the service needs before it can answer its real requests; rejects with what is wrong. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

// A database that stops answering (a cut cable, not a refused connection) would hold each check for the driver's own
// timeouts, and `/status`, which the roll-call page polls, with it.
export const CHECK_TIME_LIMIT_MS = 2_000;

/** Runs `check`, rejecting when it has not settled within CHECK_TIME_LIMIT_MS. */
export async function checkInTime(check: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIME_LIMIT_MS / 1000} s`)), CHECK_TIME_LIMIT_MS);
  });
  try {
    await Promise.race([check(), late]);
  } finally {
    clearTimeout(timer);
  }
}

const ReadyReplySchema = z.object({
  status: z.enum(['ready', 'not-ready']),
  checks: z.array(z.object({ name: z.string(), ok: z.boolean(), problem: z.string().optional() })),
});

// Answers may reach anyone who can reach the service: name the data file, never the server's paths.
function describeProblem(error: unknown): string {
  if (error instanceof DataFileCorruptError) return `${path.basename(error.file)} is not a valid data file`;
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/(?:\/[^\s'"/]*)+\/([^\s'"/]+)/g, '$1');
}

type CheckResult = z.infer<typeof ReadyReplySchema>['checks'][number];

/** `GET /ready`: 200 when every check passes, 503 naming the ones that fail. `/health` only says the process answers. */
export const readyRoute: FastifyPluginAsyncZod<{ checks: ReadinessCheck[] }> = async (app, { checks }) => {
  // Logged when a check starts failing or fails differently, not on every call: /ready may be polled (or flooded).
  const lastProblems = new Map<string, string>();
  const runChecks = () =>
    Promise.all(
      checks.map(async ({ name, check }): Promise<CheckResult> => {
        try {
          await checkInTime(check);
          if (lastProblems.delete(name)) app.log.info({ check: name }, 'readiness check passes again');
          return { name, ok: true };
        } catch (error) {
          const problem = describeProblem(error);
          if (lastProblems.get(name) !== problem) app.log.warn({ err: error, check: name }, 'readiness check failed');
          lastProblems.set(name, problem);
          return { name, ok: false, problem };
        }
      }),
    );
  // /ready is open to anyone and not rate limited: the callers that ask while a round of checks is out share it, so
  // a flood of requests costs one round at a time, never one per request.
  let round: Promise<CheckResult[]> | undefined;
  app.get(
    '/ready',
    { config: { public: true, rateLimit: false }, schema: { summary: 'Whether the service can do its work (models present, data files readable and writable)', response: { 200: ReadyReplySchema, 503: ReadyReplySchema } } },
    async (_request, reply) => {
      const results = await (round ??= runChecks().finally(() => (round = undefined)));
      const ready = results.every((result) => result.ok);
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', checks: results });
    },
  );
};
