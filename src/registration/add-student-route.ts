import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ClassIdSchema } from '../config/config.ts';
import { BODY_LIMIT_BYTES } from '../http/create-app.ts';
import { hasAPhoto, photoFields, photoLimit, rosterPhotos } from '../photos/student-photos.ts';
import { RollNoSchema, type StudentStore } from '../storage/student-store.ts';

/**
 * Body bytes allowed per student of MAX_STUDENTS_PER_REQUEST: room for a 64-character rollNo, a 2048-character URL and
 * the JSON around them (about 2.1 KB), so a full request of students with one photo each always fits.
 */
export const BODY_BYTES_PER_STUDENT = 3 * 1024;

export function addStudentBodyLimit(maxStudentsPerRequest: number): number {
  return Math.max(BODY_LIMIT_BYTES, maxStudentsPerRequest * BODY_BYTES_PER_STUDENT);
}

// `url` alone is the original body.
const NewStudentSchema = z
  .strictObject({ rollNo: RollNoSchema, ...photoFields })
  .refine(hasAPhoto, { message: 'each student needs a url (or urls)', path: ['url'] })
  .refine(photoLimit.check, { message: photoLimit.message, path: ['urls'] })
  .transform(({ rollNo, ...photos }) => ({ rollNo, ...rosterPhotos(photos) }));

export function addStudentBodySchema(maxStudentsPerRequest: number) {
  return z.strictObject({
    classStudents: z
      .array(NewStudentSchema)
      .min(1, 'classStudents must list at least one student')
      .max(maxStudentsPerRequest, `at most ${maxStudentsPerRequest} students per request`),
    classId: ClassIdSchema.optional().describe('The class these students belong to; students already registered join it too (still counted as skipped)'),
  });
}

export const AddStudentReplySchema = z.object({ status: z.literal('success'), message: z.string() });

export interface AddStudentRouteOptions {
  students: StudentStore;
  maxStudentsPerRequest: number;
  now: () => Date;
}

/** `POST /add-student`: registers new students; rollNos already registered (or repeated in the request) are skipped. */
export const addStudentRoute: FastifyPluginAsyncZod<AddStudentRouteOptions> = async (app, { students, maxStudentsPerRequest, now }) => {
  app.post(
    '/add-student',
    { bodyLimit: addStudentBodyLimit(maxStudentsPerRequest), schema: { body: addStudentBodySchema(maxStudentsPerRequest), response: { 200: AddStudentReplySchema } } },
    async (request) => {
      const { added, skipped } = await students.addMany(request.body.classStudents, now().toISOString(), request.body.classId);
      request.log.info({ added, skipped, classId: request.body.classId }, 'students registered');
      return { status: 'success' as const, message: `Data received. Added: ${added} new student(s). Skipped: ${skipped} duplicate(s).` };
    },
  );
};
