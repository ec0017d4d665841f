import { createRequire } from 'node:module';

/**
 * glibc's malloc raises its mmap threshold each time a large block is freed (up to 32 MB). After the first session the
 * frame and inference buffers (1 to 8 MB each) then come from the heap arenas of the worker's and onnxruntime's threads,
 * and what they free stays with the process: resident memory rose by about 190 MB with each start/stop cycle and sat
 * about 150 MB higher while watching. A fixed trim threshold turns that adjustment off, so large buffers go back to the
 * system when freed; two arenas instead of one per thread let what a finished session's threads freed serve the next
 * one (without, each cycle still kept about 10 MB). glibc reads these once, before the process runs any code:
 * `npm start` sets them; whoever starts `node` another way (systemd, a container) sets them in the environment.
 */
export const MALLOC_TUNING = { MALLOC_TRIM_THRESHOLD_: '131072', MALLOC_ARENA_MAX: '2' } as const;

/** A warning for the log when this process runs on glibc without the tuning; undefined when it has it or needs none. */
export function mallocTuningWarning(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.MALLOC_TRIM_THRESHOLD_ !== undefined || env.MALLOC_MMAP_THRESHOLD_ !== undefined || !runsOnGlibc()) return undefined;
  return (
    `MALLOC_TRIM_THRESHOLD_ is not set: on glibc the recognition service keeps memory it has freed and grows with each ` +
    `session. Start it with \`npm start\`, or set ${Object.entries(MALLOC_TUNING).map(([name, value]) => `${name}=${value}`).join(' ')} in its environment (docs/performance.md).`
  );
}

type MallocTrim = (pad: number) => number;
/** The part of koffi's API used here (it is an optional dependency, so its types may be absent). */
interface ForeignLibraries {
  load(path: string): { func(signature: string): MallocTrim };
}
let mallocTrim: MallocTrim | null | undefined;

/**
 * Hands the pages that glibc's arenas hold free back to the system (`malloc_trim(0)`), for when a session's threads have
 * ended. With the tuning above, what is freed between blocks still in use stays inside the arenas, where no trim
 * threshold reaches it: each onnx session's networks and threads left some there, and a stopped service's memory went
 * 183.6 -> 202.9 -> 204.7 MB after 1, 10 and 20 start/stop cycles; trimmed after each, 145.4 -> 148.9 -> 152.2 MB
 * (`SOAK_MINUTES=1 SOAK_MINUTE_MS=20000 SOAK_CYCLES=20 SOAK_STREAMS=door npm run bench:soak`). Takes a few
 * milliseconds. Does nothing where there is no glibc or `koffi` (an optional FFI package) did not install; answers
 * whether it trimmed.
 */
export function giveFreedMemoryBack(): boolean {
  if (mallocTrim === undefined) mallocTrim = loadMallocTrim();
  if (!mallocTrim) return false;
  mallocTrim(0);
  return true;
}

function loadMallocTrim(): MallocTrim | null {
  if (!runsOnGlibc()) return null;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as ForeignLibraries;
    return koffi.load('libc.so.6').func('int malloc_trim(size_t pad)');
  } catch {
    return null;
  }
}

let onGlibc: boolean | undefined;

/** Whether this process runs on Linux with glibc (not musl, not another system); asked once (a process report is slow). */
export function runsOnGlibc(): boolean {
  if (onGlibc === undefined) {
    const header = process.platform === 'linux' ? (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header : undefined;
    onGlibc = Boolean(header?.glibcVersionRuntime);
  }
  return onGlibc;
}
