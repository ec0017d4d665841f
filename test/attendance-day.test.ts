import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { dayIn, toTimestamp } from '../src/recognition/attendance-clock.ts';
import { JsonAttendanceStore } from '../src/storage/json-attendance-store.ts';

test('timestamps are UTC with whole seconds and a Z', () => {
  assert.equal(toTimestamp(new Date('2025-09-06T13:30:10.987Z')), '2025-09-06T13:30:10Z');
});

test('the day of a moment is the calendar day in the configured time zone', () => {
  // Asia/Kolkata is UTC+05:30: 18:30 UTC is already midnight of the next day there.
  assert.equal(dayIn('Asia/Kolkata', new Date('2025-09-06T18:29:59Z')), '2025-09-06');
  assert.equal(dayIn('Asia/Kolkata', new Date('2025-09-06T18:30:00Z')), '2025-09-07');
  assert.equal(dayIn('America/Los_Angeles', new Date('2025-09-07T06:59:59Z')), '2025-09-06');
  assert.equal(dayIn('UTC', new Date('2025-09-06T23:59:59Z')), '2025-09-06');
});

test('a student is marked once per day, and again on the next day, across a non-UTC midnight', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'attendance-day-'));
  try {
    const store = new JsonAttendanceStore(dir);
    const mark = (iso: string) => {
      const at = new Date(iso);
      return store.markPresent(dayIn('Asia/Kolkata', at), { rollNo: '42', timestamp: toTimestamp(at) });
    };
    assert.equal(await mark('2025-09-06T04:00:00Z'), 'marked', 'first sighting on the 6th');
    assert.equal(await mark('2025-09-06T18:29:59Z'), 'already-present', '23:59:59 in Kolkata is still the 6th');
    assert.equal(await mark('2025-09-06T18:30:00Z'), 'marked', '00:00 in Kolkata is the 7th');
    assert.equal(await mark('2025-09-07T10:00:00Z'), 'already-present');
    const camera = { source: 'camera', sessionId: null, distance: null };
    assert.deepEqual(await store.listDay('2025-09-06'), [{ rollNo: '42', timestamp: '2025-09-06T04:00:00Z', ...camera }]);
    assert.deepEqual(await store.listDay('2025-09-07'), [{ rollNo: '42', timestamp: '2025-09-06T18:30:00Z', ...camera }]);
    assert.deepEqual(await store.listDay('2025-09-08'), []);
    assert.deepEqual(JSON.parse(await readFile(store.file, 'utf8')), {
      days: {
        '2025-09-06': [{ rollNo: '42', timestamp: '2025-09-06T04:00:00Z', ...camera }],
        '2025-09-07': [{ rollNo: '42', timestamp: '2025-09-06T18:30:00Z', ...camera }],
      },
      changes: [],
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
