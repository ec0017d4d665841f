import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../config/config.ts';
import { ENROLLMENT_ERROR_CODES } from '../errors.ts';
import type { AttendanceStore } from '../storage/attendance-store.ts';
import type { EnrollmentStore } from '../storage/enrollment-store.ts';
import { ownEntry, studentsOfClass, type StudentStore } from '../storage/student-store.ts';
import { dayIn } from './attendance-clock.ts';

const RosterEntrySchema = z.object({
  rollNo: z.string(),
  photo: z.object({
    usable: z.boolean().nullable().describe('null until a session start has tried the current photo'),
    problem: z.object({ code: z.enum(ENROLLMENT_ERROR_CODES), message: z.string() }).nullable(),
    backgroundFaces: z.number().int().optional().describe('Smaller faces left out when the largest face was enrolled; absent when there were none'),
  }),
  presentAt: z.string().nullable().describe('When the student was marked present today, or null'),
  source: z
    .enum(['camera', 'photo', 'manual'])
    .nullable()
    .describe('What marked the student present today: the camera, a class photo or a person; null when not present. May gain values: accept ones you do not know'),
  removedByPerson: z.boolean().describe('Not present because a person removed their mark today: neither the camera nor a class photo marks them again today'),
});

const RosterReplySchema = z.object({
  day: z.string().describe('Today, in TIME_ZONE'),
  students: z.array(RosterEntrySchema),
});
export type RosterReply = z.infer<typeof RosterReplySchema>;

export interface RosterRouteOptions {
  config: Config;
  students: StudentStore;
  attendance: AttendanceStore;
  enrollments: EnrollmentStore;
  now?: () => Date;
}

/**
 * `GET /roster`: today's roll call as the recognition service sees it, read-only: every registered student (of CLASS_ID), the
 * verdict on their current photo, and when they were marked present. It saves the roll-call page, served from this
 * service, a trip to the registration service on another port.
 */
export const rosterRoute: FastifyPluginAsyncZod<RosterRouteOptions> = async (app, { config, students, attendance, enrollments, now = () => new Date() }) => {
  app.get(
    '/roster',
    { schema: { summary: "Today's roll call: each registered student's photo verdict and time marked present", response: { 200: RosterReplySchema } } },
    async (): Promise<RosterReply> => {
      const day = dayIn(config.TIME_ZONE, now());
      const [roster, outcomes, present, changes] = await Promise.all([students.list(), enrollments.list(), attendance.listDay(day), attendance.listChanges(day, day)]);
      const presentToday = new Map(present.map((record) => [record.rollNo, record]));
      const removedToday = new Set(changes.filter((change) => change.action === 'removed').map((change) => change.rollNo));
      return {
        day,
        // A room's page lists the class its camera enrolls (CLASS_ID).
        students: studentsOfClass(roster, config.CLASS_ID).map(({ rollNo, url }) => {
          // A verdict on an earlier photo says nothing about the current one.
          const verdict = ownEntry(outcomes, rollNo);
          const outcome = verdict?.url === url ? verdict : undefined;
          return {
            rollNo,
            photo: {
              usable: outcome?.usable ?? null,
              problem: outcome && !outcome.usable ? { code: outcome.code, message: outcome.message } : null,
              ...(outcome?.usable && outcome.backgroundFaces && { backgroundFaces: outcome.backgroundFaces }),
            },
            presentAt: presentToday.get(rollNo)?.timestamp ?? null,
            source: presentToday.get(rollNo)?.source ?? null,
            removedByPerson: !presentToday.has(rollNo) && removedToday.has(rollNo),
          };
        }),
      };
    },
  );
};
