import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { DLIB_LENGTH } from '../src/faces/face-descriptor.ts';
import { RowScan } from '../src/faces/row-scan.ts';
import { compileWat } from '../scripts/compile-wat.ts';

const WAT = path.resolve(import.meta.dirname, '../src/faces/row-scan.wat');

test('the committed row-scan.wasm is what its .wat compiles to (npm run build:wasm)', async () => {
  const committed = await readFile(WAT.replace(/\.wat$/, '.wasm'));
  assert.ok(Buffer.from(await compileWat(WAT)).equals(committed));
});

test('the scan stops at every row within the distance, even exactly at it, and passes over rows clearly beyond', () => {
  let seed = 11;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  // Scales down to where f32 squares are subnormal, where rounding is absolute rather than relative.
  for (const scale of [1, 1e-3, 1e-19, 1e-21]) {
    const rows = 300;
    const scan = new RowScan(rows);
    for (let i = 0; i < scan.descriptors.length; i++) scan.descriptors[i] = random() * scale;
    for (let i = 0; i < DLIB_LENGTH; i++) scan.query[i] = random() * scale;
    const distances = Array.from({ length: rows }, (_, row) => {
      let squared = 0;
      for (let i = 0; i < DLIB_LENGTH; i++) squared += (scan.descriptors[row * DLIB_LENGTH + i]! - scan.query[i]!) ** 2;
      return Math.sqrt(squared);
    });
    for (let trial = 0; trial < 40; trial++) {
      const distance = distances[Math.floor(Math.abs(random()) * 2 * rows)]!;
      const found: number[] = [];
      for (let row = 0; (row = scan.nextRowWithin(row, distance)) < rows; row++) found.push(row);
      const within = distances.flatMap((d, row) => (d <= distance ? [row] : []));
      const nearlyWithin = distances.flatMap((d, row) => (d * d <= distance * distance * (1 + 2 ** -10) + 2 ** -139 ? [row] : []));
      assert.ok(within.every((row) => found.includes(row)), `scale ${scale}: every row within ${distance} is found`);
      assert.ok(found.every((row) => nearlyWithin.includes(row)), `scale ${scale}: only rows within ${distance} (or a hair beyond) are found`);
    }
  }
});

test('an empty scan finds nothing', () => {
  assert.equal(new RowScan(0).nextRowWithin(0, Number.POSITIVE_INFINITY), 0);
});
