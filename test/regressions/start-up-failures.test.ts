// Start-up failures for a DATA_DIR pointing at a file, a DATA_DIR under a folder that cannot be written, or a HOST that
// is not an address of the machine ended in a fatal log line with a stack trace and no variable named; a too-short
// API_KEY was printed in full in the error. Each now names the variable, says what is wrong in one line, and never
// prints a key.
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { makeUnwritable, makeWritable, runServerUntilExit, scratchFolder } from './helpers.ts';

let scratch: string;
let lockedParent: string | undefined;
before(async () => {
  scratch = await scratchFolder('start-up');
});
after(async () => {
  if (lockedParent) await makeWritable(lockedParent);
  await rm(scratch, { recursive: true, force: true });
});

/** The fatal log line's message (the output is JSON lines), or the whole output when there is none. */
function fatalMessage(output: string): string {
  for (const line of output.split('\n')) {
    try {
      const record = JSON.parse(line) as { level?: number; msg?: string };
      if (record.level === 60) return record.msg ?? '';
    } catch {
      // not a log line: a configuration error is printed as plain text
    }
  }
  return output;
}

function assertOneClearLine(output: string, variable: RegExp): void {
  assert.match(fatalMessage(output), variable, output);
  assert.doesNotMatch(output, /\n\s+at /, `no stack trace: ${output}`);
  assert.doesNotMatch(output, /Server listening/);
}

test('DATA_DIR pointing at a file', async () => {
  const file = path.join(scratch, 'a-file');
  await writeFile(file, 'not a folder');
  const { code, output } = await runServerUntilExit({ DATA_DIR: file });
  assert.equal(code, 1);
  assertOneClearLine(output, /DATA_DIR=".*a-file": it \(or a folder above it\) is a file, not a folder/);
});

test('DATA_DIR under a folder that cannot be written', async () => {
  lockedParent = path.join(scratch, 'locked-parent');
  await mkdir(lockedParent);
  await makeUnwritable(lockedParent);
  const { code, output } = await runServerUntilExit({ DATA_DIR: path.join(lockedParent, 'data') });
  assert.equal(code, 1);
  assertOneClearLine(output, /DATA_DIR=".*locked-parent\/data": it cannot be created \((EACCES|EPERM|EROFS)\)/);
});

test('a HOST that is not an address of this machine', async () => {
  for (const host of ['no-such-host.invalid', '203.0.113.7']) {
    const { code, output } = await runServerUntilExit({ HOST: host, DATA_DIR: path.join(scratch, 'data') });
    assert.equal(code, 1);
    assertOneClearLine(output, new RegExp(`HOST="${host.replaceAll('.', '\\.')}": not an address of this machine`));
  }
});

test('a too-short API key is named but never printed', async () => {
  for (const variable of ['API_KEY', 'RECOGNITION_API_KEY']) {
    const secret = 'hunter2-secret';
    const { code, output } = await runServerUntilExit({ [variable]: secret, DATA_DIR: path.join(scratch, 'data') });
    assert.equal(code, 1);
    assertOneClearLine(output, new RegExp(`${variable}=\\(14 characters, hidden\\): an API key must be at least 16 characters`));
    assert.doesNotMatch(output, /hunter2/);
  }
});
