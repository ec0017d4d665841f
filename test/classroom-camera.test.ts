import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { composeClassroom, type ClassroomLayout } from '../src/evaluation/classroom-scene.ts';
import { startPhotoServer, type PhotoServer } from './helpers/photo-server.ts';
import { recognitionApp } from './helpers/recognition-app.ts';
import { emptyRoom, PRESENT_STUDENTS, seatedClass } from './helpers/seated-class.ts';
import { waitFor } from './helpers/service-process.ts';

// Two rows of four seats at 1280x720, faces 44 px wide at the back and 56 at the front: far too small for the cheap
// detector over the whole frame (it sees it at 416 px, where they shrink to 14 to 18 px).
const CLASSROOM: ClassroomLayout = { width: 1280, height: 720, rows: 2, columns: 4, backFaceWidth: 44, frontFaceWidth: 56 };
const FRAMES = 6;

let scratch: string;
let photos: PhotoServer;

before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-classroom-'));
  photos = await startPhotoServer();
});
after(async () => {
  await photos.close();
  await rm(scratch, { recursive: true, force: true });
});

/** Frames of a seated class, each person shown by another photo than the one they are enrolled with. */
async function classroomFrames(folder: string): Promise<void> {
  const occupants = await seatedClass();
  await mkdir(folder);
  for (let frame = 1; frame <= FRAMES; frame++) {
    const { jpeg, faces } = await composeClassroom(await emptyRoom(), occupants, CLASSROOM, 3, frame);
    assert.ok(faces.every((face) => face.box.width >= 43 && face.box.width <= 57), 'faces 44 to 56 px wide');
    await writeFile(path.join(folder, `${frame}.jpg`), jpeg);
  }
}

test('a 1280x720 classroom with 44 to 56 px faces: exactly the present students are marked, strangers and the absent are not', async () => {
  const folder = path.join(scratch, 'classroom');
  await classroomFrames(folder);
  const { app, students, status } = await recognitionApp(path.join(scratch, 'data'), { CAMERA: `dir:${folder}` });
  try {
    await students.addMany(
      [
        { rollNo: 'obama', url: `${photos.origin}/obama.jpg` },
        { rollNo: 'kit_harington', url: `${photos.origin}/kit_harington.jpg` },
        { rollNo: 'rick', url: `${photos.origin}/rick.jpg` },
        { rollNo: 'daryl', url: `${photos.origin}/daryl-1.jpg` },
        { rollNo: 'biden', url: `${photos.origin}/biden.jpg` },
      ],
      'now',
    );
    assert.equal((await app.inject({ method: 'POST', url: '/start-recognition' })).statusCode, 200);
    const ended = await waitFor(async () => ((await status()).sourceEnded ? await status() : undefined), 'the end of the frames');
    assert.equal(ended.enrolled, 5);
    assert.equal(ended.framesProcessed, FRAMES);
    const report = (await app.inject({ method: 'POST', url: '/stop-recognition' })).json();
    assert.deepEqual(report.recognizedStudents.map((r: { rollNo: string }) => r.rollNo).sort(), PRESENT_STUDENTS);
  } finally {
    await app.close();
  }
});
