import { readFile } from 'node:fs/promises';
import initWabt from 'wabt';

/** The WebAssembly binary of a .wat file (SIMD enabled, no names section, so the bytes depend on the text alone). */
export async function compileWat(file: string): Promise<Uint8Array> {
  const wabt = await initWabt();
  const module = wabt.parseWat(file, await readFile(file, 'utf8'), { simd: true });
  try {
    module.validate();
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}
