import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { InferenceBackend } from '../../config/config.ts';
import { EnrollmentError, type EnrollmentErrorCode } from '../../errors.ts';
import type { EnrollmentPhoto } from '../../faces/find-faces.ts';

const THREAD_BOOTSTRAP = new URL('./start-worker.mjs', import.meta.url);

export interface DescribeRequest {
  id: number;
  bytes: Uint8Array;
}

export type DescribeReply =
  | { id: number; photo: EnrollmentPhoto }
  | { id: number; problem: { code: EnrollmentErrorCode; message: string } }
  | { id: number; failure: string };

/** What an extra inference thread loads its engine from. */
export interface DescriberThreadData {
  modelsDir: string;
  backend: InferenceBackend;
}

type Describe = (bytes: Uint8Array) => Promise<EnrollmentPhoto>;

interface Lane {
  describe: Describe;
  busy: boolean;
}

/**
 * Spreads enrollment photos over this thread's engine (`localLanes` photos at a time) and `extraThreads` more
 * inference threads (one photo each at a time), so a cold start uses every core. The extra threads load their own
 * models and end with `close()`.
 */
export class DescriberPool {
  private readonly lanes: Lane[];
  private readonly waiting: (() => void)[] = [];

  private constructor(
    local: Describe,
    localLanes: number,
    private readonly threads: Worker[],
  ) {
    const describers = [...Array.from({ length: localLanes }, () => local), ...threads.map((thread) => describeOn(thread))];
    this.lanes = describers.map((describe) => ({ describe, busy: false }));
  }

  static async start(local: Describe, localLanes: number, extraThreads: number, models: DescriberThreadData): Promise<DescriberPool> {
    const threads = Array.from(
      { length: extraThreads },
      () => new Worker(THREAD_BOOTSTRAP, { argv: ['./describer-thread.ts'], workerData: models }),
    );
    await Promise.all(threads.map((thread) => once(thread, 'message')));
    return new DescriberPool(local, localLanes, threads);
  }

  readonly describe: Describe = async (bytes) => {
    const lane = await this.takeLane();
    try {
      return await lane.describe(bytes);
    } finally {
      lane.busy = false;
      this.waiting.shift()?.();
    }
  };

  async close(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.terminate()));
  }

  // Marks the lane busy in the same tick it is found free, so concurrent callers never share one.
  private async takeLane(): Promise<Lane> {
    for (;;) {
      const lane = this.lanes.find((candidate) => !candidate.busy);
      if (lane) {
        lane.busy = true;
        return lane;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }
}

function describeOn(thread: Worker): Describe {
  let nextId = 0;
  const pending = new Map<number, { resolve: (photo: EnrollmentPhoto) => void; reject: (error: Error) => void }>();
  thread.on('message', (reply: DescribeReply) => {
    const request = pending.get(reply.id);
    if (!request) return;
    pending.delete(reply.id);
    if ('photo' in reply) request.resolve(reply.photo);
    else if ('problem' in reply) request.reject(new EnrollmentError(reply.problem.code, reply.problem.message));
    else request.reject(new Error(`enrollment thread failed: ${reply.failure}`));
  });
  thread.on('error', (error) => {
    for (const request of pending.values()) request.reject(error);
    pending.clear();
  });
  return (bytes) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      thread.postMessage({ id, bytes } satisfies DescribeRequest);
    });
}
