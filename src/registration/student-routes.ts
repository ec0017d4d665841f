import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ErrorReplySchema } from '../http/error-handling.ts';
import type { DescriptorStore } from '../storage/descriptor-store.ts';
import { ENROLLMENT_ERROR_CODES } from '../errors.ts';
import type { EnrollmentOutcome, EnrollmentStore } from '../storage/enrollment-store.ts';
import type { StudentErasure } from '../storage/student-erasure.ts';
import { ownEntry, photoUrls, RollNoSchema, type Student, type StudentStore } from '../storage/student-store.ts';
import { hasAPhoto, photoFields, photoLimit, rosterPhotos } from '../photos/student-photos.ts';

const PhotoCheckSchema = z
  .object({
    usable: z.boolean().nullable().describe('null until the recognition service has tried the current photo'),
    checkedAt: z.string().nullable(),
    problem: z.object({ code: z.enum(ENROLLMENT_ERROR_CODES), message: z.string() }).nullable(),
    backgroundFaces: z
      .number()
      .int()
      .optional()
      .describe('Smaller faces (people in the background) left out when the largest face was enrolled; absent when there were none'),
  })
  .describe("The recognition service's verdict on the current photo, from the latest session start that tried it");

export const StudentViewSchema = z.object({
  rollNo: z.string(),
  url: z.string(),
  urls: z.array(z.string()).describe('Every photo of the student, `url` first'),
  registeredAt: z.string().nullable(),
  photoReplacedAt: z.string().nullable(),
  classes: z.array(z.string()).describe('The classes the student was registered in (classId of POST /add-student)'),
  photo: PhotoCheckSchema,
});
type StudentView = z.infer<typeof StudentViewSchema>;

const StudentParamsSchema = z.object({ rollNo: RollNoSchema });

const ListQuerySchema = z.object({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
const ListReplySchema = z.object({
  total: z.number().int(),
  offset: z.number().int(),
  limit: z.number().int(),
  students: z.array(StudentViewSchema),
});

const DeleteQuerySchema = z.object({
  attendance: z
    .enum(['keep', 'delete'])
    .default('keep')
    .describe('`delete` also erases the student’s attendance history and its change entries; by default they are kept'),
});
const DeleteReplySchema = z.object({
  status: z.literal('success'),
  rollNo: z.string(),
  removedFromRoster: z.boolean(),
  removedEnrollmentOutcome: z.boolean(),
  removedAttendanceRecords: z.number().int(),
  removedAttendanceChanges: z.number().int().describe('Entries about the student in the attendance change list, erased with their attendance'),
});

// `{"url"}` replaces every photo of the student with one; `{"urls":[…]}` (or both) with several.
const ReplacePhotoBodySchema = z
  .strictObject(photoFields)
  .refine(hasAPhoto, { message: 'give the new photo as url (or several as urls)', path: ['url'] })
  .refine(photoLimit.check, { message: photoLimit.message, path: ['urls'] })
  .transform(rosterPhotos);

export interface StudentRoutesOptions {
  students: StudentStore;
  enrollments: EnrollmentStore;
  descriptors: DescriptorStore;
  erasure: StudentErasure;
}

function viewOf(student: Student, outcome: EnrollmentOutcome | undefined): StudentView {
  // An outcome for an earlier photo says nothing about the current one.
  const current = outcome?.url === student.url ? outcome : undefined;
  return {
    rollNo: student.rollNo,
    url: student.url,
    urls: photoUrls(student),
    registeredAt: student.registeredAt ?? null,
    photoReplacedAt: student.photoReplacedAt ?? null,
    classes: student.classes ?? [],
    photo: {
      usable: current?.usable ?? null,
      checkedAt: current?.checkedAt ?? null,
      problem: current && !current.usable ? { code: current.code, message: current.message } : null,
      ...(current?.usable && current.backgroundFaces && { backgroundFaces: current.backgroundFaces }),
    },
  };
}

const notFound = (rollNo: string) => ({ status: 'error' as const, code: 'STUDENT_NOT_FOUND', message: `No student with rollNo ${rollNo} is registered.` });

/** The roster: list, look up, remove (with everything derived from the student) and re-photo students. */
export const studentRoutes: FastifyPluginAsyncZod<StudentRoutesOptions> = async (app, { students, enrollments, descriptors, erasure }) => {
  app.get(
    '/students',
    { schema: { summary: 'List registered students, in registration order', querystring: ListQuerySchema, response: { 200: ListReplySchema } } },
    async (request) => {
      const { offset, limit } = request.query;
      const [roster, outcomes] = await Promise.all([students.list(), enrollments.list()]);
      const page = roster.slice(offset, offset + limit).map((student) => viewOf(student, ownEntry(outcomes, student.rollNo)));
      return { total: roster.length, offset, limit, students: page };
    },
  );

  app.get(
    '/students/:rollNo',
    { schema: { summary: 'One student, with the verdict on their photo', params: StudentParamsSchema, response: { 200: StudentViewSchema, 404: ErrorReplySchema } } },
    async (request, reply) => {
      const { rollNo } = request.params;
      const student = await students.get(rollNo);
      if (!student) return reply.code(404).send(notFound(rollNo));
      return viewOf(student, await enrollments.get(rollNo));
    },
  );

  app.delete(
    '/students/:rollNo',
    {
      schema: {
        summary:
          'Remove a student and what was derived from their photo (enrollment outcome, cached face descriptors); attendance and its change entries too with ?attendance=delete',
        description:
          'A running recognition session keeps the descriptor it computed at its start until it stops; the next session start no longer knows the student.',
        params: StudentParamsSchema,
        querystring: DeleteQuerySchema,
        response: { 200: DeleteReplySchema, 404: ErrorReplySchema },
      },
    },
    async (request, reply) => {
      const { rollNo } = request.params;
      const { removedFromRoster, removedEnrollmentOutcome, removedDescriptors, removedAttendanceRecords, removedAttendanceChanges } = await erasure.erase(
        rollNo,
        request.query.attendance === 'delete',
      );
      if (!removedFromRoster && !removedEnrollmentOutcome && !removedDescriptors && removedAttendanceRecords + removedAttendanceChanges === 0) {
        return reply.code(404).send(notFound(rollNo));
      }
      request.log.info({ rollNo, removedFromRoster, removedEnrollmentOutcome, removedDescriptors, removedAttendanceRecords, removedAttendanceChanges }, 'student removed');
      return { status: 'success' as const, rollNo, removedFromRoster, removedEnrollmentOutcome, removedAttendanceRecords, removedAttendanceChanges };
    },
  );

  app.put(
    '/students/:rollNo/photo',
    {
      schema: {
        summary: "Replace a student's photos (`url`, or several as `urls`); the next session start enrolls the new ones",
        params: StudentParamsSchema,
        body: ReplacePhotoBodySchema,
        response: { 200: StudentViewSchema, 404: ErrorReplySchema },
      },
    },
    async (request, reply) => {
      const { rollNo } = request.params;
      const updated = await students.replacePhoto(rollNo, request.body, new Date().toISOString());
      if (!updated) return reply.code(404).send(notFound(rollNo));
      // The verdict on the previous photo no longer applies, even if the new one has the same URL.
      await enrollments.remove(rollNo);
      // Same for the cached descriptor: the content behind the URL is downloaded and encoded again.
      await descriptors.remove(rollNo);
      request.log.info({ rollNo }, 'student photo replaced');
      return viewOf(updated, undefined);
    },
  );
};
