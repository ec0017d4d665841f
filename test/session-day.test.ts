import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { dayIn } from '../src/recognition/attendance-clock.ts';
import { FIXTURES, startPhotoServer, type PhotoServer } from './helpers/photo-server.ts';
import { getJson, postJson, startServices, waitFor } from './helpers/service-process.ts';

// "Once per day" means a calendar day in TIME_ZONE, decided by the service itself when it marks someone. The test picks
// the zone where the current hour is the first of a new day, so the mark lands just after local midnight, and runs the
// process with a system zone (TZ) that is on another date: a service going by its system's day would file the mark
// under the wrong date.

let scratch: string;
let photos: PhotoServer;

before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-session-day-'));
  photos = await startPhotoServer();
});
after(async () => {
  await photos.close();
  await rm(scratch, { recursive: true, force: true });
});

/** Minutes since local midnight in `timeZone` at `now`. */
function minutesIntoDay(timeZone: string, now: Date): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit' }).formatToParts(now);
  const value = (type: string) => Number(parts.find((part) => part.type === type)!.value);
  return value('hour') * 60 + value('minute');
}

test('a session marks the day of TIME_ZONE, not of the system, including just after local midnight', async () => {
  const now = new Date();
  const zones = Intl.supportedValuesOf('timeZone');
  // Offsets cover 26 hours, so some zone is always within its day's first hour (or closer), and another on a different date.
  const [timeZone] = zones.map((zone) => [zone, minutesIntoDay(zone, now)] as const).sort((a, b) => a[1] - b[1])[0]!;
  const day = dayIn(timeZone, now);
  const systemZone = zones.find((zone) => dayIn(zone, now) !== day && dayIn(zone, new Date(now.getTime() + 10 * 60_000)) !== day);
  assert.ok(systemZone, `a zone on another date than ${timeZone}`);
  assert.ok(minutesIntoDay(timeZone, now) < 60, `${timeZone} is in the first hour of ${day}`);

  const frames = path.join(scratch, 'frames');
  await mkdir(frames);
  for (const name of ['1.jpg', '2.jpg']) await copyFile(path.join(FIXTURES, 'frames/02-obama.jpg'), path.join(frames, name));
  const dataDir = path.join(scratch, 'data');
  const services = await startServices({ DATA_DIR: dataDir, CAMERA: `dir:${frames}`, PRIVATE_URL_HOSTS: '127.0.0.1', TIME_ZONE: timeZone, TZ: systemZone });
  try {
    assert.equal((await postJson(`${services.registration}/add-student`, { classStudents: [{ rollNo: 'obama', url: `${photos.origin}/obama.jpg` }] })).status, 200);
    assert.equal((await postJson(`${services.recognition}/start-recognition`)).status, 200);
    await waitFor(async () => ((await getJson(`${services.recognition}/status`)).json.sourceEnded ? true : undefined), 'the session to read its frames');
    const stopped = await postJson(`${services.recognition}/stop-recognition`);
    assert.deepEqual(stopped.json.recognizedStudents.map((record: { rollNo: string }) => record.rollNo), ['obama']);
    const [mark] = stopped.json.recognizedStudents as { timestamp: string }[];
    assert.equal(dayIn(timeZone, new Date(mark!.timestamp)), day, `marked at ${mark!.timestamp}, on ${day} in ${timeZone}`);
    assert.ok(minutesIntoDay(timeZone, new Date(mark!.timestamp)) < 70, 'just after local midnight');

    const stored = JSON.parse(await readFile(path.join(dataDir, 'attendance.json'), 'utf8')) as { days: Record<string, { rollNo: string }[]> };
    assert.deepEqual(Object.keys(stored.days), [day], `filed under ${timeZone}'s date, not ${systemZone}'s ${dayIn(systemZone!, now)}`);
    const today = await getJson(`${services.recognition}/attendance`);
    assert.deepEqual(today.json.days.map((entry: { date: string; present: { rollNo: string }[] }) => [entry.date, entry.present.map((record) => record.rollNo)]), [[day, ['obama']]]);
    assert.equal((await getJson(`${services.recognition}/roster`)).json.day, day);
  } finally {
    await services.stop();
  }
});
