import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { JsonAttendanceStore } from '../src/storage/json-attendance-store.ts';
import { attendanceStoreContract } from './contracts/attendance-store-contract.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

attendanceStoreContract('JsonAttendanceStore', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'attendance-contract-'));
  return { store: new JsonAttendanceStore(dataDir), dispose: () => rm(dataDir, { recursive: true, force: true }) };
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'json-attendance-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('an attendance.json of the first format (records without source) reads as camera marks and is carried over on the next write', async () => {
  const file = path.join(dir, 'attendance.json');
  await writeFile(file, JSON.stringify({ '2025-09-06': [{ rollNo: 'a1', timestamp: '2025-09-06T03:30:00Z' }] }));
  const store = new JsonAttendanceStore(dir);
  const old = { rollNo: 'a1', timestamp: '2025-09-06T03:30:00Z', source: 'camera', sessionId: null, distance: null };
  assert.deepEqual(await store.listDay('2025-09-06'), [old]);
  assert.deepEqual(await store.listChanges('2025-09-06', '2025-09-06'), []);

  const change = await store.removeMark('2025-09-06', { rollNo: 'a1', at: '2025-09-07T08:00:00Z', by: null, reason: 'wrong student' });
  assert.deepEqual(change?.before, old);
  assert.equal(await store.markPresent('2025-09-06', { rollNo: 'a1', timestamp: '2025-09-07T09:00:00Z' }), 'removed-by-person');
  await store.markManually('2025-09-05', { rollNo: 'b2', at: '2025-09-07T08:01:00Z', by: 'Ms Rao', reason: null });
  assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), {
    days: { '2025-09-05': [{ rollNo: 'b2', timestamp: '2025-09-07T08:01:00Z', source: 'manual', by: 'Ms Rao', reason: null }] },
    changes: [
      { at: '2025-09-07T08:00:00Z', date: '2025-09-06', rollNo: 'a1', action: 'removed', by: null, reason: 'wrong student', before: old },
      { at: '2025-09-07T08:01:00Z', date: '2025-09-05', rollNo: 'b2', action: 'marked', by: 'Ms Rao', reason: null, before: null },
    ],
  });
});

test('a record with an unknown source is reported with the file named, and the file is left untouched', async () => {
  const file = path.join(dir, 'attendance.json');
  const text = JSON.stringify({ days: { '2025-09-06': [{ rollNo: 'a1', timestamp: '2025-09-06T03:30:00Z', source: 'rumour' }] }, changes: [] });
  await writeFile(file, text);
  const store = new JsonAttendanceStore(dir);
  await assert.rejects(store.markManually('2025-09-06', { rollNo: 'b2', at: '2025-09-06T04:00:00Z', by: null, reason: null }), /attendance\.json is not a valid data file/);
  assert.equal(await readFile(file, 'utf8'), text);
});

test('corrections killed with SIGKILL mid-write: every acknowledged one is there, and the attendance is exactly what the change list says', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/helpers/correct-attendance.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const acknowledged: string[] = [];
  for await (const line of createInterface({ input: child.stdout! })) {
    acknowledged.push(line);
    if (acknowledged.length === 40) {
      child.kill('SIGKILL');
      break;
    }
  }
  await exited;
  const stored = JSON.parse(await readFile(path.join(dir, 'attendance.json'), 'utf8'));
  const changes: { rollNo: string; action: string; reason: string }[] = stored.changes;
  const recorded = changes.map((change) => `${change.action} ${change.rollNo} ${change.reason.replace('correction ', '')}`);
  assert.deepEqual(recorded.slice(0, acknowledged.length), acknowledged, 'every acknowledged correction is in the change list, in order');
  assert.ok(recorded.length <= acknowledged.length + 1, 'at most the one unacknowledged write in flight');
  const presentByChanges = new Set<string>();
  for (const change of changes) {
    if (change.action === 'marked') presentByChanges.add(change.rollNo);
    else presentByChanges.delete(change.rollNo);
  }
  const present: { rollNo: string }[] = stored.days['2025-09-06'] ?? [];
  assert.deepEqual(present.map((record) => record.rollNo).sort(), [...presentByChanges].sort(), 'no correction without its change entry, no entry without its correction');
});
