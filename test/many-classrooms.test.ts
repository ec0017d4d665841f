// Many classrooms, one school: registration and recognition services as real processes, each with its own data
// folder, sharing one roster and one register through PostgreSQL (a fresh database per test).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { openEventStream } from './helpers/event-stream.ts';
import { startPhotoServer, type PhotoServer } from './helpers/photo-server.ts';
import { dropTemplate, freshDatabase, postgresSkipReason, type FreshDatabase } from './helpers/postgres.ts';
import { controlledWebcam, frameFolder, queryDatabase } from './helpers/rooms.ts';
import { exitOf, getJson, postJson, startServices, waitFor, type RunningServices } from './helpers/service-process.ts';

const skip = postgresSkipReason();

describe('many classrooms on one PostgreSQL database', { skip }, () => {
  let photos: PhotoServer;
  let scratch: string;
  let database: FreshDatabase;
  const running: RunningServices[] = [];

  before(async () => {
    photos = await startPhotoServer();
  });
  after(async () => {
    await photos.close();
    await dropTemplate();
  });
  beforeEach(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-rooms-'));
    database = await freshDatabase();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((service) => service.stop()));
    await database.drop();
    await rm(scratch, { recursive: true, force: true });
  });

  /** A service process of its own, on its own data folder, on the test's database. */
  async function service(which: 'registration' | 'recognition', name: string, env: Record<string, string> = {}): Promise<RunningServices> {
    const started = await startServices(
      {
        DATABASE_URL: database.url,
        DATA_DIR: path.join(scratch, name),
        ALLOW_PRIVATE_URLS: '1',
        TIME_ZONE: 'UTC',
        MATCH_MIN_FRAMES: '1',
        ENROLLMENT_THREADS: '1',
        ...env,
      },
      which,
    );
    running.push(started);
    return started;
  }

  const student = (rollNo: string, photo: string) => ({ rollNo, url: `${photos.origin}/${photo}` });
  const today = () => new Date().toISOString().slice(0, 10);

  test('two registration services adding overlapping students at once store each student once', async () => {
    const [one, two] = await Promise.all([service('registration', 'reg-1'), service('registration', 'reg-2')]);
    const batch = (first: number) => ({ classStudents: [0, 1, 2].map((i) => student(`s${first + i}`, 'obama.jpg')) });
    // reg-1 adds s0…s59, reg-2 adds s30…s89, three per request, all requests at once.
    const requests = [
      ...Array.from({ length: 20 }, (_, i) => postJson(`${one.registration}/add-student`, batch(i * 3))),
      ...Array.from({ length: 20 }, (_, i) => postJson(`${two.registration}/add-student`, batch(30 + i * 3))),
    ];
    const replies = await Promise.all(requests);
    const added = replies.map((reply) => Number(/Added: (\d+)/.exec(reply.json.message)![1]));
    assert.equal(added.reduce((sum, count) => sum + count, 0), 90, 'each student is counted as added exactly once');
    const listed = (await getJson(`${two.registration}/students?limit=500`)).json;
    assert.equal(listed.total, 90);
    assert.equal(new Set(listed.students.map((one: { rollNo: string }) => one.rollNo)).size, 90);

    const joined = await postJson(`${one.registration}/add-student`, { classStudents: [student('s1', 'obama.jpg')], classId: '7-b' });
    assert.equal(joined.json.message, 'Data received. Added: 0 new student(s). Skipped: 1 duplicate(s).');
    assert.deepEqual((await getJson(`${two.registration}/students/s1`)).json.classes, ['7-b'], 'the other service sees the class');
  });

  test('three rooms seeing overlapping students record each once, say which room, and share the descriptor cache', async () => {
    const registration = await service('registration', 'registration');
    await postJson(`${registration.registration}/add-student`, {
      classStudents: [student('obama', 'obama.jpg'), student('kit', 'kit_harington.jpg'), student('rick', 'rick.jpg')],
    });
    const seen = {
      'room-a': ['02-obama.jpg', '03-stranger.jpg', '04-kit_harington.jpg', '05-kit_harington.jpg'],
      'room-b': ['08-obama.jpg', '07-rick.jpg', '09-rick.jpg'],
      'room-c': ['02-obama.jpg', '09-rick.jpg', '05-kit_harington.jpg'],
    };
    const rooms = Object.fromEntries(
      await Promise.all(
        Object.entries(seen).map(async ([room, frames]) => [
          room,
          await service('recognition', room, { ROOM: room, CAMERA: `dir:${await frameFolder(path.join(scratch, `${room}-frames`), frames)}` }),
        ]),
      ),
    ) as Record<keyof typeof seen, RunningServices>;
    const finished = async (room: RunningServices) =>
      waitFor(async () => {
        const status = (await getJson(`${room.recognition}/status`)).json;
        return status.phase === 'source-ended' ? status : undefined;
      }, 'the room to see all its frames', 180_000);

    // room-a enrolls first and fills the shared cache; room-b and room-c then start warm, at the same time.
    assert.equal((await postJson(`${rooms['room-a'].recognition}/start-recognition`)).status, 200);
    await finished(rooms['room-a']);
    await waitFor(async () => ((await queryDatabase(database.url, 'SELECT 1 FROM descriptor_photos')).length === 3 ? true : undefined), 'the cache write');
    const downloadsBefore = photos.requests.length;
    await Promise.all([postJson(`${rooms['room-b'].recognition}/start-recognition`), postJson(`${rooms['room-c'].recognition}/start-recognition`)]);
    const [statusB, statusC] = await Promise.all([finished(rooms['room-b']), finished(rooms['room-c'])]);
    assert.equal(photos.requests.length, downloadsBefore, 'no photo was downloaded again by the other rooms');
    assert.equal(statusB.room, 'room-b');
    assert.equal(statusC.enrolled, 3);
    await Promise.all(Object.values(rooms).map((room) => postJson(`${room.recognition}/stop-recognition`)));

    const day = (await getJson(`${rooms['room-c'].recognition}/attendance?date=${today()}`)).json.days[0];
    const records = day.present as { rollNo: string; room: string }[];
    assert.deepEqual(records.map((record) => record.rollNo).sort(), ['kit', 'obama', 'rick'], 'each student once, whichever room saw them');
    for (const record of records) {
      const saw = Object.entries(seen).filter(([, frames]) => frames.some((frame) => frame.includes(record.rollNo))).map(([room]) => room);
      assert.ok(saw.includes(record.room), `${record.rollNo} was marked by ${record.room}, a room that saw them`);
    }
    const inRoomB = (await getJson(`${rooms['room-a'].recognition}/attendance?date=${today()}&room=room-b`)).json.days[0].present;
    assert.deepEqual(inRoomB, records.filter((record) => record.room === 'room-b'), 'the room filter keeps that room’s marks');
  });

  test('a room killed with SIGKILL mid-session loses no mark it reported; another room keeps marking', async () => {
    const registration = await service('registration', 'registration');
    await postJson(`${registration.registration}/add-student`, { classStudents: [student('obama', 'obama.jpg'), student('rick', 'rick.jpg')] });
    const cameraA = await controlledWebcam(path.join(scratch, 'camera-a'));
    const cameraB = await controlledWebcam(path.join(scratch, 'camera-b'));
    const roomA = await service('recognition', 'room-a', { ROOM: 'room-a', ...cameraA.env });
    const roomB = await service('recognition', 'room-b', { ROOM: 'room-b', ...cameraB.env });
    const events = await openEventStream(`${roomA.recognition}/events`);
    try {
      await Promise.all([postJson(`${roomA.recognition}/start-recognition`), postJson(`${roomB.recognition}/start-recognition`)]);
      for (const room of [roomA, roomB]) {
        await waitFor(async () => ((await getJson(`${room.recognition}/status`)).json.phase === 'watching' ? true : undefined), 'enrollment', 180_000);
      }
      await cameraA.show('02-obama.jpg');
      const reported = await waitFor(async () => events.events.find((event) => event.event === 'student-present'), 'room-a to mark obama');
      roomA.child.kill('SIGKILL');
      assert.equal(await exitOf(roomA.child), 'SIGKILL');

      await cameraB.show('07-rick.jpg');
      await waitFor(async () => ((await getJson(`${roomB.recognition}/status`)).json.recognizedThisSession === 1 ? true : undefined), 'room-b to mark rick');
      const present = (await getJson(`${roomB.recognition}/attendance?date=${reported.data.day}`)).json.days[0].present;
      assert.deepEqual(
        present.map((record: { rollNo: string; room: string }) => [record.rollNo, record.room]),
        [
          ['obama', 'room-a'],
          ['rick', 'room-b'],
        ],
      );
    } finally {
      events.close();
    }
  });

  test('a student erased during a session in another room is not written back by that session', async () => {
    const registration = await service('registration', 'registration');
    await postJson(`${registration.registration}/add-student`, { classStudents: [student('obama', 'obama.jpg'), student('rick', 'rick.jpg')] });
    const camera = await controlledWebcam(path.join(scratch, 'camera'));
    const room = await service('recognition', 'room-a', { ROOM: 'room-a', ...camera.env });
    assert.equal((await postJson(`${room.recognition}/start-recognition`)).status, 200);
    await waitFor(async () => ((await getJson(`${room.recognition}/status`)).json.phase === 'watching' ? true : undefined), 'enrollment', 180_000);
    await waitFor(async () => ((await queryDatabase(database.url, 'SELECT 1 FROM enrollment_outcomes')).length === 2 ? true : undefined), 'the outcomes write');

    const erased = await fetch(`${registration.registration}/students/obama?attendance=delete`, { method: 'DELETE' });
    assert.equal(erased.status, 200);
    await camera.show('02-obama.jpg');
    const frames = (await getJson(`${room.recognition}/status`)).json.framesProcessed;
    await waitFor(async () => ((await getJson(`${room.recognition}/status`)).json.framesProcessed >= frames + 3 ? true : undefined), 'three frames of obama');
    await camera.show('07-rick.jpg');
    await waitFor(async () => ((await getJson(`${room.recognition}/status`)).json.recognizedThisSession >= 1 ? true : undefined), 'rick to be marked');
    const stopped = await postJson(`${room.recognition}/stop-recognition`);
    assert.deepEqual(stopped.json.recognizedStudents.map((record: { rollNo: string }) => record.rollNo), ['rick']);

    for (const table of ['students', 'attendance', 'enrollment_outcomes', 'descriptor_photos']) {
      assert.deepEqual(await queryDatabase(database.url, `SELECT roll_no FROM ${table} WHERE roll_no = $1`, ['obama']), [], `no obama in ${table}`);
    }
  });
});
