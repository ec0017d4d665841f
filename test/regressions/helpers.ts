// Small helpers the regression tests share (not a test file: `npm test` runs test/regressions/*.test.ts only).
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export function scratchFolder(name: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `attendance-${name}-`));
}

export async function waitUntil<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
