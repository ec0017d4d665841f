// Two rollNos registered with the same photo (a copy-and-paste slip in a class list) tie on every face, so the camera
// marked neither of them, and nothing said why: no enrollment problem, no status, no event. Both are now reported
// with SAME_PHOTO_AS_ANOTHER_STUDENT, and their photo verdicts say to give each student their own photo.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startPhotoServer } from '../helpers/photo-server.ts';
import { recognitionApp } from '../helpers/recognition-app.ts';
import { waitFor } from '../helpers/service-process.ts';

test('two students registered with the same photo are both reported as such, and a third is enrolled', async () => {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-one-photo-two-students-'));
  const photos = await startPhotoServer();
  const { app, students, call, status } = await recognitionApp(path.join(scratch, 'data'), { CAMERA: `dir:${path.join(scratch, 'no-frames')}` });
  try {
    const obama = `${photos.origin}/obama.jpg`;
    await students.addMany(
      [
        { rollNo: 's01', url: obama },
        { rollNo: 's20', url: obama },
        { rollNo: 's12', url: `${photos.origin}/biden.jpg` },
      ],
      '2026-12-01T08:00:00.000Z',
    );
    assert.equal((await call('POST', '/start-recognition')).status, 200);
    await waitFor(async () => ((await status()).phase !== 'enrolling' ? true : undefined), 'enrollment');
    const { enrolled, enrollmentErrors } = await status();
    await call('POST', '/stop-recognition');
    assert.equal(enrolled, 1);
    assert.deepEqual(
      (enrollmentErrors as { rollNo: string; code: string }[]).map(({ rollNo, code }) => [rollNo, code]).sort(),
      [
        ['s01', 'SAME_PHOTO_AS_ANOTHER_STUDENT'],
        ['s20', 'SAME_PHOTO_AS_ANOTHER_STUDENT'],
      ],
    );
    const roster = (await call('GET', '/roster')).json.students as { rollNo: string; photo: { usable: boolean; problem: { message: string } | null } }[];
    const s01 = roster.find((student) => student.rollNo === 's01')!;
    assert.equal(s01.photo.usable, false);
    assert.match(s01.photo.problem!.message, /the same photo as s20's/);
    assert.equal(roster.find((student) => student.rollNo === 's12')!.photo.usable, true);
  } finally {
    await app.close();
    await photos.close();
    await rm(scratch, { recursive: true, force: true });
  }
});
