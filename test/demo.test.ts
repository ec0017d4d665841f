import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { exitOf, withDeadline } from './helpers/service-process.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

async function refusesConnections(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return false;
  } catch (error) {
    return (error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
  }
}

test('npm run demo registers the bundled students, marks exactly those in the frames, reports it and leaves nothing running', async () => {
  const child = spawn('npm', ['run', 'demo'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const code = await withDeadline(exitOf(child), 180_000, 'npm run demo to finish').catch((error) => {
    child.kill('SIGKILL');
    throw error;
  });
  const dataDir = /Data folder \(a fresh temporary DATA_DIR\): (\S+)/.exec(output)?.[1];
  try {
    assert.equal(code, 0, output);
    assert.match(output, /POST \/add-student: Data received\. Added: 4 new student\(s\)\. Skipped: 0 duplicate\(s\)\./);
    assert.match(output, /enrolling 4 photos/, 'a progress line while enrolling');
    assert.match(output, /frame 30\/30 · 4 enrolled · 3 marked present/, 'a progress line through the frames');
    for (const rollNo of ['obama', 'kit_harington', 'rick']) {
      assert.match(output, new RegExp(`^  ${rollNo} +6 frames +present +present at \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ +ok$`, 'm'));
    }
    assert.match(output, /^  biden +no frame +absent +absent +ok$/m);
    assert.match(output, /Everything as expected\./);

    assert.ok(dataDir, 'the demo says where its files are');
    assert.match(output, new RegExp(`files are in ${dataDir}: attendance\\.json, enrollment\\.json, frames, services\\.log, students_data\\.json`));
    const attendance = JSON.parse(await readFile(path.join(dataDir, 'attendance.json'), 'utf8')) as { days: Record<string, { rollNo: string }[]> };
    assert.deepEqual(Object.values(attendance.days).flat().map((record) => record.rollNo).sort(), ['kit_harington', 'obama', 'rick']);

    const urls = [...output.matchAll(/(?:Photo server|Registration service|Recognition service): +(http:\/\/127\.0\.0\.1:\d+)/g)].map((m) => m[1]!);
    assert.equal(urls.length, 3, 'the photo server and both services, all on 127.0.0.1');
    for (const url of urls) assert.ok(await refusesConnections(`${url}/health`), `${url} no longer answers once the demo has ended`);
  } finally {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
});
