// A session left running past local midnight kept reporting only students it had not reported since it started: those
// marked the day before (or seen before midnight) were never marked for the new day, and `stop-recognition` answered
// with the day the session started on, not the new one. A teacher found it with TIME_ZONE=America/Noronha: after
// midnight only a student never seen before was marked, and stop listed yesterday's six.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config/config.ts';
import { RecognitionSessions } from '../../src/recognition/recognition-sessions.ts';
import { DailyReports } from '../../src/recognition/worker/daily-reports.ts';
import { JsonAttendanceStore } from '../../src/storage/json-attendance-store.ts';
import { JsonDescriptorStore } from '../../src/storage/json-descriptor-store.ts';
import { JsonEnrollmentStore } from '../../src/storage/json-enrollment-store.ts';
import { JsonStudentStore } from '../../src/storage/json-student-store.ts';
import { waitFor } from '../helpers/service-process.ts';

test('the worker reports each student once a day, and again after midnight, those present before included', () => {
  const reports = new DailyReports('2026-12-01', ['s01']);
  assert.equal(reports.take('s01', '2026-12-01'), false, 'present before the session started');
  assert.equal(reports.take('s02', '2026-12-01'), true);
  assert.equal(reports.take('s02', '2026-12-01'), false, 'once that day');
  assert.equal(reports.take('s01', '2026-12-02'), true, 'the new day: s01 again');
  assert.equal(reports.take('s02', '2026-12-02'), true, 'and s02');
  assert.equal(reports.take('s02', '2026-12-02'), false);
});

test('stop-recognition after midnight answers with the new day, not the day the session started', async () => {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-past-midnight-'));
  const frames = path.join(scratch, 'frames');
  await mkdir(frames);
  const config = loadConfig({ DATA_DIR: scratch, CAMERA: `dir:${frames}`, TIME_ZONE: 'America/Noronha', LOG_LEVEL: 'silent' });
  const attendance = new JsonAttendanceStore(scratch);
  let clock = new Date('2026-12-02T01:59:00Z'); // 23:59 on 1 December in Noronha (UTC-2)
  const sessions = new RecognitionSessions({
    config,
    students: new JsonStudentStore(scratch),
    attendance,
    enrollments: new JsonEnrollmentStore(scratch),
    descriptors: new JsonDescriptorStore(scratch),
    logger: pino({ level: 'silent' }),
    now: () => clock,
  });
  const mark = (rollNo: string, timestamp: string) => ({ rollNo, timestamp, source: 'camera' as const, sessionId: null, distance: null });
  try {
    await attendance.markPresent('2026-12-01', mark('yesterday', '2026-12-02T01:00:00Z'));
    await sessions.start();
    await waitFor(async () => (sessions.status().phase === 'source-ended' || sessions.status().sourceEnded ? true : undefined), 'the session to run out of frames');
    clock = new Date('2026-12-02T02:01:00Z'); // 00:01 on 2 December
    await attendance.markPresent('2026-12-02', mark('today', '2026-12-02T02:00:30Z'));
    const present = await sessions.stop();
    assert.deepEqual(present.map((record) => record.rollNo), ['today']);
  } finally {
    await sessions.close();
    await rm(scratch, { recursive: true, force: true });
  }
});
