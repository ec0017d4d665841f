import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { RoomSchema, type Config } from '../config/config.ts';
import { AttendanceRecordSchema, type AttendanceRecord, type AttendanceStore } from '../storage/attendance-store.ts';
import type { StudentStore } from '../storage/student-store.ts';
import { dayIn } from './attendance-clock.ts';
import { DayRangeQueryFields, checkDayRange, dayRangeOf } from './day-range.ts';

const AttendanceQuerySchema = z
  .object({
    ...DayRangeQueryFields,
    format: z.enum(['json', 'csv']).optional().describe('Overrides the Accept header'),
    include: z.enum(['absent']).optional().describe('`absent` also lists the registered students who were not present'),
    room: RoomSchema.optional().describe('Only the students marked by the camera or from a class photo in this ROOM (the whole school without it)'),
  })
  .superRefine(checkDayRange);

const AttendanceDaySchema = z.object({
  date: z.string(),
  present: z.array(AttendanceRecordSchema),
  absent: z.array(z.string()).optional().describe('rollNos of the current roster not present that day; only with include=absent'),
});
type AttendanceDay = z.infer<typeof AttendanceDaySchema>;

const AttendanceReplySchema = z.object({ from: z.string(), to: z.string(), days: z.array(AttendanceDaySchema) });

// `source` comes last so that parsers written for the first four columns keep working.
const CSV_HEADER = 'date,rollNo,status,timestamp,source';

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function toCsv(days: AttendanceDay[]): string {
  const rows = [CSV_HEADER];
  for (const { date, present, absent = [] } of days) {
    for (const { rollNo, timestamp, source } of present) rows.push([date, rollNo, 'present', timestamp, source].map(csvField).join(','));
    for (const rollNo of absent) rows.push([date, rollNo, 'absent', '', ''].map(csvField).join(','));
  }
  return `${rows.join('\r\n')}\r\n`;
}

/** Whether an Accept header ranks `text/csv` above JSON; anything else, wildcards included, gets JSON. */
function prefersCsv(accept: string | undefined): boolean {
  const quality = (type: string) => {
    for (const range of (accept ?? '').split(',')) {
      const [mediaType, ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
      if (mediaType !== type) continue;
      const q = parameters.find((parameter) => parameter.startsWith('q='));
      return q === undefined ? 1 : Number(q.slice(2)) || 0;
    }
    return 0;
  };
  const csv = quality('text/csv');
  return csv > 0 && csv >= quality('application/json');
}

export interface AttendanceRouteOptions {
  config: Config;
  students: StudentStore;
  attendance: AttendanceStore;
  now?: () => Date;
}

/**
 * `GET /attendance`: who was present on a day (`date`) or over a range (`from`, `to`), as JSON or CSV.
 * A single day is always listed; a range lists the days on which anyone was present (a day nobody was seen
 * is taken as a day without a roll call). Absent students are the current roster's, not the roster of that day.
 */
export const attendanceRoute: FastifyPluginAsyncZod<AttendanceRouteOptions> = async (app, { config, students, attendance, now = () => new Date() }) => {
  app.get(
    '/attendance',
    {
      schema: {
        summary: 'Attendance of a day or a range of days, as JSON or CSV (Accept: text/csv or ?format=csv)',
        querystring: AttendanceQuerySchema,
        response: {
          200: {
            description: 'The days asked for',
            content: {
              'application/json': { schema: AttendanceReplySchema },
              'text/csv': { schema: z.string().describe(`${CSV_HEADER}, one row per student and day`) },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const { format, include, room } = request.query;
      const range = dayRangeOf(request.query, dayIn(config.TIME_ZONE, now()));
      const isRange = request.query.from !== undefined;
      const school: AttendanceDay[] = isRange
        ? (await attendance.listRange(range.from, range.to)).map(({ day, records }) => ({ date: day, present: records }))
        : [{ date: range.from, present: await attendance.listDay(range.from) }];
      let days = school;
      if (room !== undefined) {
        const inRoom = (record: AttendanceRecord) => (record.source === 'camera' || record.source === 'photo') && record.room === room;
        days = school.map((day) => ({ ...day, present: day.present.filter(inRoom) }));
        // As without a room: a range lists the days on which someone was present (here, in that room).
        if (isRange) days = days.filter((day) => day.present.length > 0);
      }
      if (include === 'absent') {
        const roster = (await students.list()).map((student) => student.rollNo);
        // Absent means present nowhere that day: marked by hand or in another room is present, whatever the filter.
        const presentAnywhere = new Map(school.map((day) => [day.date, new Set(day.present.map((record) => record.rollNo))]));
        days = days.map((day) => ({ ...day, absent: roster.filter((rollNo) => !presentAnywhere.get(day.date)!.has(rollNo)) }));
      }
      const wantsCsv = format === 'csv' || (format === undefined && prefersCsv(request.headers.accept));
      if (!wantsCsv) return { ...range, days };
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="attendance-${range.from}${range.to === range.from ? '' : `-to-${range.to}`}.csv"`)
        .send(toCsv(days));
    },
  );
};
