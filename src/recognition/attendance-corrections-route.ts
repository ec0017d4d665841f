import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../config/config.ts';
import { ErrorReplySchema, type ErrorBody } from '../http/error-handling.ts';
import { AttendanceChangeSchema, AttendanceRecordSchema, type AttendanceStore, type Correction } from '../storage/attendance-store.ts';
import { RollNoSchema, type StillCurrent, type StudentStore } from '../storage/student-store.ts';
import { dayIn, toTimestamp } from './attendance-clock.ts';
import { CalendarDaySchema, DayRangeQueryFields, checkDayRange, dayRangeOf } from './day-range.ts';
import type { SessionEvents } from './session-events.ts';

const MAX_BY_LENGTH = 100;
const MAX_REASON_LENGTH = 300;

function noteSchema(maxLength: number, description: string) {
  return z
    .string()
    .trim()
    .max(maxLength)
    .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters (line breaks included)')
    .optional()
    .describe(description);
}

const CorrectionFields = {
  reason: noteSchema(MAX_REASON_LENGTH, `Why, in a few words (at most ${MAX_REASON_LENGTH} characters)`),
  by: noteSchema(MAX_BY_LENGTH, `Who makes the change (at most ${MAX_BY_LENGTH} characters)`),
};
// Fastify hands a route without a body `null`.
const CorrectionBodySchema = z.strictObject(CorrectionFields).nullish();
const CorrectionQuerySchema = z.strictObject(CorrectionFields);
type CorrectionNote = { reason?: string | undefined; by?: string | undefined };

const CorrectionParamsSchema = z.object({
  date: CalendarDaySchema.describe('The day, YYYY-MM-DD in TIME_ZONE; not after today'),
  rollNo: RollNoSchema,
});

const MarkReplySchema = z.object({
  status: z.literal('success'),
  date: z.string(),
  rollNo: z.string(),
  alreadyPresent: z.boolean().describe('true: the student was already present that day and stays as they were; nothing was recorded'),
  record: AttendanceRecordSchema,
  change: AttendanceChangeSchema.nullable(),
});

const RemoveReplySchema = z.object({ status: z.literal('success'), date: z.string(), rollNo: z.string(), change: AttendanceChangeSchema });

const ChangesQuerySchema = z.object(DayRangeQueryFields).superRefine(checkDayRange);
const ChangesReplySchema = z.object({ from: z.string(), to: z.string(), changes: z.array(AttendanceChangeSchema) });

export interface AttendanceCorrectionsRouteOptions {
  config: Config;
  students: StudentStore;
  attendance: AttendanceStore;
  events: SessionEvents;
  now?: () => Date;
}

const error = (code: string, message: string): ErrorBody => ({ status: 'error', code, message });

/** `reason` and `by` as given, blank ones as null. */
function noteOf({ reason, by }: CorrectionNote): Pick<Correction, 'reason' | 'by'> {
  return { reason: reason || null, by: by || null };
}

/**
 * A person's corrections to the register: `PUT` marks a student present by hand, `DELETE` removes a mark (neither the camera
 * nor a class photo then marks them again that day), and `GET /attendance/changes` lists every such change, oldest first.
 */
export const attendanceCorrectionsRoute: FastifyPluginAsyncZod<AttendanceCorrectionsRouteOptions> = async (
  app,
  { config, students, attendance, events, now = () => new Date() },
) => {
  const today = () => dayIn(config.TIME_ZONE, now());
  const futureDay = (date: string) =>
    error('DATE_IN_FUTURE', `${date} is after today (${today()} in ${config.TIME_ZONE}): attendance cannot be changed ahead of the day.`);

  app.put(
    '/attendance/:date/:rollNo',
    {
      schema: {
        summary: 'Mark a student present by hand (idempotent: a student already present stays as they are)',
        params: CorrectionParamsSchema,
        body: CorrectionBodySchema,
        response: { 200: MarkReplySchema, 400: ErrorReplySchema, 404: ErrorReplySchema },
      },
    },
    async (request, reply) => {
      const { date, rollNo } = request.params;
      if (date > today()) return reply.code(400).send(futureDay(date));
      const correction = { rollNo, at: toTimestamp(now()), ...noteOf(request.body ?? {}) };
      // With a database the store reads the roster inside its own transaction (`lookup`); the JSON files ask the roster.
      const onRoster: StillCurrent = async (_rollNos, lookup) => new Set((lookup ? (await lookup([rollNo]))[0] : await students.get(rollNo)) ? [rollNo] : []);
      const marked = await attendance.markManually(date, correction, onRoster);
      if (marked.outcome === 'not-current') return reply.code(404).send(error('STUDENT_NOT_FOUND', `No student with rollNo ${rollNo} is registered.`));
      if (marked.outcome === 'already-present') return { status: 'success' as const, date, rollNo, alreadyPresent: true, record: marked.record, change: null };
      request.log.info({ rollNo, date }, 'student marked present by hand');
      events.publish({ type: 'attendance-corrected', change: marked.change, record: marked.record });
      return { status: 'success' as const, date, rollNo, alreadyPresent: false, record: marked.record, change: marked.change };
    },
  );

  app.delete(
    '/attendance/:date/:rollNo',
    {
      schema: {
        summary: "Remove a student's mark on a day, whoever made it (camera, class photo or person); neither the camera nor a class photo marks them again that day",
        description: '`reason` and `by` come as a JSON body or in the query, not both.',
        params: CorrectionParamsSchema,
        querystring: CorrectionQuerySchema,
        body: CorrectionBodySchema,
        response: { 200: RemoveReplySchema, 400: ErrorReplySchema, 404: ErrorReplySchema },
      },
    },
    async (request, reply) => {
      const { date, rollNo } = request.params;
      const inQuery = Object.keys(request.query).length > 0;
      // `{}` says nothing, as many clients send by default: only a body with a field competes with the query.
      const inBody = request.body != null && Object.keys(request.body).length > 0;
      if (inQuery && inBody) {
        return reply.code(400).send(error('INVALID_REQUEST', 'Give reason and by either as a JSON body or in the query, not both.'));
      }
      if (date > today()) return reply.code(400).send(futureDay(date));
      const correction = { rollNo, at: toTimestamp(now()), ...noteOf(inBody ? request.body! : request.query) };
      const change = await attendance.removeMark(date, correction);
      if (!change) return reply.code(404).send(error('ATTENDANCE_NOT_FOUND', `${rollNo} is not marked present on ${date}.`));
      request.log.info({ rollNo, date }, 'attendance mark removed by hand');
      events.publish({ type: 'attendance-corrected', change, record: null });
      return { status: 'success' as const, date, rollNo, change };
    },
  );

  app.get(
    '/attendance/changes',
    {
      schema: {
        summary: 'Every mark made or removed by a person on a day or a range of days, oldest first',
        querystring: ChangesQuerySchema,
        response: { 200: ChangesReplySchema },
      },
    },
    async (request) => {
      const range = dayRangeOf(request.query, today());
      return { ...range, changes: await attendance.listChanges(range.from, range.to) };
    },
  );
};
