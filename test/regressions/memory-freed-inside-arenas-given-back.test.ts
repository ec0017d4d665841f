// Issue 18: on onnx, idle memory rose with every start/stop cycle (183.6 -> 202.9 -> 204.7 MB after cycles 1, 10 and
// 20). What each session's networks and threads freed stayed inside glibc's heap arenas, between blocks still in use,
// where the trim threshold never reaches. The service now calls malloc_trim(0) once a session's worker has ended
// (`giveFreedMemoryBack`). This pins the mechanism in a process of its own: memory freed between live blocks goes back
// to the system when it is called. Where there is no glibc the call does nothing, and the test is skipped.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { MALLOC_TUNING, runsOnGlibc } from '../../src/config/malloc-tuning.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

// 3 000 blocks of 64 KB (below the 128 KB mmap threshold, so they come from an arena), every 16th kept alive so the
// freed ones sit between live ones; RSS read before and after giving the freed memory back.
const FRAGMENT_AND_TRIM = `
const { giveFreedMemoryBack } = await import(${JSON.stringify(path.join(ROOT, 'src/config/malloc-tuning.ts'))});
const { readFileSync } = await import('node:fs');
const residentMb = () => Number(/VmRSS:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
let blocks = Array.from({ length: 3000 }, () => Buffer.allocUnsafeSlow(64 * 1024).fill(1));
const kept = blocks.filter((_, i) => i % 16 === 15);
blocks = undefined;
for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((resolve) => setTimeout(resolve, 50)); }
const before = residentMb();
const trimmed = giveFreedMemoryBack();
console.log(JSON.stringify({ trimmed, before, after: residentMb(), kept: kept.length }));
`;

test('memory freed between live blocks goes back to the system when asked', { skip: !runsOnGlibc() && 'glibc only' }, async (t) => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', FRAGMENT_AND_TRIM], {
    cwd: ROOT,
    env: { ...process.env, ...MALLOC_TUNING },
  });
  const { trimmed, before, after } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { trimmed: boolean; before: number; after: number };
  t.diagnostic(`RSS ${before.toFixed(0)} MB with about 175 MB freed between live blocks, ${after.toFixed(0)} MB after giving it back`);
  assert.equal(trimmed, true, 'malloc_trim could not be called: is the optional dependency koffi installed?');
  assert.ok(before - after >= 100, `the freed memory stayed with the process: RSS ${before.toFixed(0)} -> ${after.toFixed(0)} MB`);
});
