// npm run build:wasm: compiles the matcher's WebAssembly text to the binary committed next to it
// (test/row-scan.test.ts checks that the two agree).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { compileWat } from './compile-wat.ts';

const wat = path.resolve(import.meta.dirname, '../src/faces/row-scan.wat');
const wasm = wat.replace(/\.wat$/, '.wasm');
await writeFile(wasm, await compileWat(wat));
console.log(`${path.relative(process.cwd(), wasm)} written`);
