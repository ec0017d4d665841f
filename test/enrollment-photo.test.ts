import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { EnrollmentError } from '../src/errors.ts';
import { loadFaceEngine } from '../src/faces/face-engine.ts';
import { dlibDistance, faceDistance } from '../src/faces/face-descriptor.ts';
import { enrollmentFace, findPortraitFaces } from '../src/faces/find-faces.ts';
import { withBackgroundFace } from './helpers/background-face.ts';
import { FIXTURES, startPhotoServer } from './helpers/photo-server.ts';
import { getJson, postJson, startServices, waitFor } from './helpers/service-process.ts';

const engine = await loadFaceEngine(path.resolve(import.meta.dirname, '../models'), 'auto');
const fixture = (name: string) => readFile(path.join(FIXTURES, name));

test('a portrait with a small face in the background enrolls its subject and says the other face was left out', async () => {
  const obama = await fixture('photos/obama.jpg');
  const alone = enrollmentFace(await findPortraitFaces(obama, engine));
  const photo = await withBackgroundFace(engine, obama, await fixture('frames/03-stranger.jpg'), 110);
  const analysis = await findPortraitFaces(photo, engine);
  assert.equal(analysis.faces.length, 2, 'the detector sees both faces');
  const chosen = enrollmentFace(analysis);
  assert.equal(chosen.backgroundFaces, 1);
  assert.ok(faceDistance(chosen.face.descriptor, alone.face.descriptor) < 0.1, 'the enrolled face is the subject, not the one behind');
});

test('a head cropped inside its hairline and chin, as ID photos are, enrolls as the same person', async () => {
  const rick = await fixture('photos/rick.jpg');
  const portrait = enrollmentFace(await findPortraitFaces(rick, engine)).face;
  // The middle 70% of the face the detector found, 100 px square: missed with borders of 35% and 100% alone. (rick.jpg
  // has no EXIF orientation and is under 1024 px, so the box's pixels are the file's.)
  const { box } = portrait;
  const width = Math.round(box.width * 0.7);
  const height = Math.round(box.height * 0.7);
  const cropped = await sharp(rick)
    .extract({ left: Math.round(box.x + (box.width - width) / 2), top: Math.round(box.y + (box.height - height) / 2), width, height })
    .resize(100, 100)
    .jpeg({ quality: 92 })
    .toBuffer();
  const { face } = enrollmentFace(await findPortraitFaces(cropped, engine));
  const apart = { fused: faceDistance(face.descriptor, portrait.descriptor), dlib: dlibDistance(face.descriptor, portrait.descriptor) };
  assert.ok(apart.fused < 0.45, `the crop's face is Rick's (${JSON.stringify(apart)})`);
});

test('two people of similar size are refused as SEVERAL_FACES rather than guessed', async () => {
  const analysis = await findPortraitFaces(await fixture('photos/two_people.jpg'), engine);
  assert.equal(analysis.faces.length, 2);
  assert.throws(() => enrollmentFace(analysis), (error) => error instanceof EnrollmentError && error.code === 'SEVERAL_FACES');
});

test('the service says how many background faces it left out, and says it again when a restart enrolls from the descriptor cache', async () => {
  const photo = await withBackgroundFace(engine, await fixture('photos/obama.jpg'), await fixture('frames/03-stranger.jpg'), 110);
  const photos = await startPhotoServer({
    '/obama-with-someone-behind.jpg': (_request, response) => response.writeHead(200, { 'content-type': 'image/jpeg' }).end(photo),
  });
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-background-faces-'));
  const dataDir = path.join(scratch, 'data');
  const frames = path.join(scratch, 'no-frames');
  await mkdir(frames, { recursive: true });
  const settings = { DATA_DIR: dataDir, CAMERA: `dir:${frames}`, PRIVATE_URL_HOSTS: '127.0.0.1' };
  const enrollOnce = async () => {
    const services = await startServices(settings);
    try {
      assert.equal((await postJson(`${services.recognition}/start-recognition`)).status, 200);
      await waitFor(async () => ((await getJson(`${services.recognition}/status`)).json.sourceEnded ? true : undefined), 'enrollment');
      assert.equal((await postJson(`${services.recognition}/stop-recognition`)).status, 200);
      const [obama, rick, roster] = await Promise.all([
        getJson(`${services.registration}/students/obama`),
        getJson(`${services.registration}/students/rick`),
        getJson(`${services.recognition}/roster`),
      ]);
      const { checkedAt: _obamaCheckedAt, ...obamaVerdict } = obama.json.photo;
      const { checkedAt: _rickCheckedAt, ...rickVerdict } = rick.json.photo;
      return {
        students: { obama: obamaVerdict, rick: rickVerdict },
        roster: roster.json.students.map((student: { rollNo: string; photo: unknown }) => [student.rollNo, student.photo]),
      };
    } finally {
      await services.stop();
    }
  };
  try {
    const registering = await startServices(settings, 'registration');
    try {
      const added = await postJson(`${registering.registration}/add-student`, {
        classStudents: [
          { rollNo: 'obama', url: `${photos.origin}/obama-with-someone-behind.jpg` },
          { rollNo: 'rick', url: `${photos.origin}/rick.jpg` },
        ],
      });
      assert.equal(added.status, 200);
    } finally {
      await registering.stop();
    }
    // obama enrolled with one face left out; a photo of one person says nothing about background faces.
    const expected = { obama: { usable: true, problem: null, backgroundFaces: 1 }, rick: { usable: true, problem: null } };
    const first = await enrollOnce();
    assert.deepEqual(first.students, expected);
    assert.deepEqual(first.roster, Object.entries(expected));

    const downloads = photos.requests.length;
    const second = await enrollOnce();
    assert.equal(photos.requests.length, downloads, 'the restarted service enrolled from the descriptor cache, downloading nothing');
    assert.deepEqual(second.students, expected, 'the outcome recorded again from the cache still counts the face left out');
    assert.deepEqual(second.roster, Object.entries(expected));
    const cache = JSON.parse(await readFile(path.join(dataDir, 'descriptors.json'), 'utf8'));
    assert.equal(cache.students.obama[0].backgroundFaces, 1);
    assert.equal('backgroundFaces' in cache.students.rick[0], false);
  } finally {
    await photos.close();
    await rm(scratch, { recursive: true, force: true });
  }
});
