import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { composeClassroom } from '../src/evaluation/classroom-scene.ts';
import { openEventStream } from './helpers/event-stream.ts';
import { FIXTURES, startPhotoServer, type PhotoServer } from './helpers/photo-server.ts';
import { recognitionApp } from './helpers/recognition-app.ts';
import { emptyRoom, PRESENT_STUDENTS, seatedClass } from './helpers/seated-class.ts';
import { waitFor } from './helpers/service-process.ts';

// A class photo: two rows of four, faces 100 to 140 px wide in a 2400x1600 picture (test/helpers/seated-class.ts).
const PRESENT = PRESENT_STUDENTS;
// A real one (test/fixtures/class-photo, see PROVENANCE.md): cast photos, everyone enrolled from a tight grey crop of
// another picture; who is in each photo was read off the pictures.
const CAST = ['amy', 'bernadette', 'howard', 'leonard', 'penny', 'raj', 'sheldon', 'stuart'];
// Left to right by where each face is (the two rows of the second photo interleave).
const IN_BBT3 = ['sheldon', 'howard', 'penny', 'raj', 'leonard'];
const IN_BBT4 = ['leonard', 'amy', 'raj', 'penny', 'sheldon', 'bernadette'];
const CLASS_PHOTO_FIXTURES = path.join(FIXTURES, 'class-photo');

let scratch: string;
let photos: PhotoServer;
let classPhoto: Buffer;
let seated: number;

before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-class-photo-'));
  const occupants = await seatedClass();
  seated = occupants.length;
  const layout = { width: 2400, height: 1600, rows: 2, columns: 4, backFaceWidth: 100, frontFaceWidth: 140 };
  classPhoto = (await composeClassroom(await emptyRoom(), occupants, layout, 0, 1)).jpeg;
  const castCrops = await Promise.all(CAST.map((name) => readFile(path.join(CLASS_PHOTO_FIXTURES, `${name}.png`))));
  photos = await startPhotoServer({
    '/class.jpg': (_request, response) => response.writeHead(200, { 'content-type': 'image/jpeg' }).end(classPhoto),
    ...Object.fromEntries(CAST.map((name, i) => [`/cast/${name}.png`, (_request, response) => response.writeHead(200, { 'content-type': 'image/png' }).end(castCrops[i])])),
  });
});
after(async () => {
  await photos.close();
  await rm(scratch, { recursive: true, force: true });
});

/** The camera (when a session is started) sees an empty room. */
async function serviceWithRoster(name: string, env: Record<string, string> = {}, roster = [...PRESENT, 'biden'].map((rollNo) => ({ rollNo, url: `${photos.origin}/${rollNo === 'daryl' ? 'daryl-1' : rollNo}.jpg` }))) {
  const emptyRoom = path.join(scratch, `${name}-camera`);
  await mkdir(emptyRoom);
  await copyFile(path.join(FIXTURES, 'frames/01-empty-room.jpg'), path.join(emptyRoom, '1.jpg'));
  const service = await recognitionApp(path.join(scratch, name), { CAMERA: `dir:${emptyRoom}`, ...env });
  await service.students.addMany(roster, 'now');
  return service;
}

const recognizedIn = (faces: { verdict: string; rollNo: string | null }[]) =>
  faces.filter((face) => face.verdict === 'recognized').map((face) => face.rollNo).sort();

type Present = { rollNo: string; source: string; sessionId?: string; distance?: number; room?: string };
type PhotoFace = { verdict: string; rollNo: string | null; distance: number | null; box: { x: number } };

test('a class photo marks exactly the students in it as marked from a photo, lists every face, and a second post marks nobody again', async () => {
  const { app, status } = await serviceWithRoster('marks', { ROOM: 'room-101' });
  const origin = await app.listen({ host: '127.0.0.1', port: 0 });
  const events = await openEventStream(`${origin}/events`);
  try {
    // A student a person marked before the photo keeps that mark: once per day, whoever marked first.
    const day = (await app.inject({ method: 'GET', url: '/roster' })).json().day;
    assert.equal((await app.inject({ method: 'PUT', url: `/attendance/${day}/rick`, payload: { by: 'Ms Rao' } })).statusCode, 200);
    const fromPhoto = PRESENT.filter((rollNo) => rollNo !== 'rick');

    const answer = await app.inject({ method: 'POST', url: '/recognize-photo', headers: { 'content-type': 'image/jpeg' }, payload: classPhoto });
    assert.equal(answer.statusCode, 200, answer.body);
    const body = answer.json();
    assert.deepEqual([body.width, body.height], [2400, 1600]);
    assert.equal(body.faces.length, seated, 'every face of the photo is listed');
    assert.deepEqual(recognizedIn(body.faces), PRESENT);
    const marked: Present[] = body.marked;
    assert.deepEqual(marked.map((record) => record.rollNo).sort(), fromPhoto, 'the student marked by hand is recognised but not marked again');
    for (const record of marked) {
      assert.deepEqual([record.source, record.sessionId, typeof record.distance, record.room], ['photo', body.sessionId, 'number', 'room-101'], record.rollNo);
    }

    const today: Present[] = (await app.inject({ method: 'GET', url: '/attendance' })).json().days[0].present;
    assert.deepEqual(today.map(({ rollNo, source }) => [rollNo, source]).sort(), [...fromPhoto.map((rollNo) => [rollNo, 'photo']), ['rick', 'manual']].sort(), 'the stored record says it came from a photo');
    const inRoom: Present[] = (await app.inject({ method: 'GET', url: '/attendance?room=room-101' })).json().days[0].present;
    assert.deepEqual(inRoom.map((record) => record.rollNo).sort(), fromPhoto, "a photo taken in the room counts for the room's attendance");
    const roster: Present[] = (await app.inject({ method: 'GET', url: '/roster' })).json().students;
    assert.deepEqual(roster.filter((student) => fromPhoto.includes(student.rollNo)).map((student) => student.source), ['photo', 'photo', 'photo']);
    const presentEvents = await waitFor(async () => {
      const arrived = events.events.filter((event) => event.event === 'student-present');
      return arrived.length === fromPhoto.length ? arrived : undefined;
    }, 'a student-present event for each photo mark');
    assert.deepEqual(presentEvents.map((event) => event.data.source), ['photo', 'photo', 'photo'], 'the events say photo too');
    assert.equal((await status()).running, false, 'the photo session has ended');

    const again = (await app.inject({ method: 'POST', url: '/recognize-photo', headers: { 'content-type': 'image/jpeg' }, payload: classPhoto })).json();
    assert.deepEqual(recognizedIn(again.faces), PRESENT);
    assert.deepEqual(again.marked, [], 'once per day');
    const stopped = (await app.inject({ method: 'POST', url: '/stop-recognition' })).json().recognizedStudents as Present[];
    assert.deepEqual(stopped.filter((record) => record.source === 'photo').map((record) => record.rollNo).sort(), fromPhoto, '/stop-recognition lists the photo marks with their source');
    assert.deepEqual((await readdir(path.join(scratch, 'marks'))).filter((file) => !/\.lock$/.test(file)).sort(), [
      'attendance.json', 'descriptors.json', 'enrollment.json', 'students_data.json',
    ], 'nothing of the photo is kept');
  } finally {
    events.close();
    await app.close();
  }
});

test('a real class photo marks exactly the people in it, enrolled from tight grey crops of other pictures; the absent are not marked', async () => {
  const roster = CAST.map((rollNo) => ({ rollNo, url: `${photos.origin}/cast/${rollNo}.png` }));
  const { app } = await serviceWithRoster('cast', {}, roster);
  try {
    const post = async (name: string) => {
      const answer = await app.inject({ method: 'POST', url: '/recognize-photo', headers: { 'content-type': 'image/jpeg' }, payload: await readFile(path.join(CLASS_PHOTO_FIXTURES, name)) });
      assert.equal(answer.statusCode, 200, answer.body);
      return answer.json() as { faces: PhotoFace[]; marked: Present[] };
    };
    // Who each recognised face is, left to right, so that two people swapped would not pass.
    const leftToRight = (faces: PhotoFace[]) => faces.filter((face) => face.verdict === 'recognized').sort((a, b) => a.box.x - b.box.x).map((face) => face.rollNo);
    const distances = (faces: PhotoFace[]) => JSON.stringify(faces.map(({ rollNo, verdict, distance }) => ({ rollNo, verdict, distance })));
    const redCarpet = await post('bbt3.jpg');
    assert.equal(redCarpet.faces.length, IN_BBT3.length, 'every face of the photo is listed');
    assert.deepEqual(leftToRight(redCarpet.faces), IN_BBT3, distances(redCarpet.faces));
    assert.deepEqual(redCarpet.marked.map((record) => record.rollNo).sort(), [...IN_BBT3].sort());

    const awards = await post('bbt4.jpg');
    assert.equal(awards.faces.length, IN_BBT4.length, 'every face of the photo is listed');
    assert.deepEqual(leftToRight(awards.faces), IN_BBT4, `howard, in the first photo only, is not found in the second: ${distances(awards.faces)}`);
    assert.deepEqual(awards.marked.map((record) => record.rollNo).sort(), ['amy', 'bernadette'], 'the rest were marked by the first photo');

    const present: Present[] = (await app.inject({ method: 'GET', url: '/attendance' })).json().days[0].present;
    assert.deepEqual(present.map((record) => record.rollNo).sort(), [...new Set([...IN_BBT3, ...IN_BBT4])].sort(), 'stuart, in neither photo, is not marked');
  } finally {
    await app.close();
  }
});

test('a class photo by URL, answered as the picture with faces boxed and labelled', async () => {
  const { app } = await serviceWithRoster('annotated');
  try {
    const answer = await app.inject({ method: 'POST', url: '/recognize-photo?annotated=1', payload: { url: `${photos.origin}/class.jpg` } });
    assert.equal(answer.statusCode, 200, answer.body);
    assert.equal(answer.headers['content-type'], 'image/jpeg');
    const { width, height, format } = await sharp(answer.rawPayload).metadata();
    assert.deepEqual([width, height, format], [2400, 1600, 'jpeg']);
  } finally {
    await app.close();
  }
});

test('a class photo that is not one, a URL that is not allowed, or a camera session running: a clear error, nobody marked', async () => {
  const { app } = await serviceWithRoster('refused');
  try {
    const notAnImage = await app.inject({ method: 'POST', url: '/recognize-photo', headers: { 'content-type': 'image/jpeg' }, payload: Buffer.from('not a jpeg') });
    assert.equal(notAnImage.statusCode, 422);
    assert.equal(notAnImage.json().code, 'PHOTO_NOT_AN_IMAGE');
    for (const payload of [{ url: 'file:///etc/passwd' }, { url: 'http://user:secret@photos.invalid/class.jpg' }, { photo: 'x' }]) {
      const refused = await app.inject({ method: 'POST', url: '/recognize-photo', payload });
      assert.equal(refused.statusCode, 400, JSON.stringify(payload));
      assert.equal(refused.json().code, 'INVALID_REQUEST');
    }
    assert.equal((await app.inject({ method: 'POST', url: '/recognize-photo', headers: { 'content-type': 'text/plain' }, payload: 'hello' })).statusCode, 415);
    assert.equal((await app.inject({ method: 'POST', url: '/start-recognition' })).statusCode, 200);
    const busy = await app.inject({ method: 'POST', url: '/recognize-photo', headers: { 'content-type': 'image/jpeg' }, payload: classPhoto });
    assert.equal(busy.statusCode, 409);
    const classPhotoFetches = () => photos.requests.filter((request) => request === '/class.jpg').length;
    const fetchedBefore = classPhotoFetches();
    const busyByUrl = await app.inject({ method: 'POST', url: '/recognize-photo', payload: { url: `${photos.origin}/class.jpg` } });
    assert.equal(busyByUrl.statusCode, 409);
    assert.equal(classPhotoFetches(), fetchedBefore, 'a class photo refused as busy is not fetched');
    await app.inject({ method: 'POST', url: '/stop-recognition' });
    assert.deepEqual((await app.inject({ method: 'GET', url: '/attendance' })).json().days[0].present, [], 'the refused photos marked nobody');
  } finally {
    await app.close();
  }
});
