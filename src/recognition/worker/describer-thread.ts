// One extra inference thread for enrollment: photo bytes in, enrollment descriptor and faces left out (or why not) out.
import { parentPort, workerData } from 'node:worker_threads';
import { EnrollmentError } from '../../errors.ts';
import { loadFaceEngine } from '../../faces/face-engine.ts';
import { describeEnrollmentPhoto } from '../../faces/find-faces.ts';
import type { DescribeReply, DescribeRequest, DescriberThreadData } from './describer-pool.ts';

const port = parentPort!;
const { modelsDir, backend } = workerData as DescriberThreadData;
const engine = await loadFaceEngine(modelsDir, backend);

port.on('message', async ({ id, bytes }: DescribeRequest) => {
  let reply: DescribeReply;
  try {
    reply = { id, photo: await describeEnrollmentPhoto(bytes, engine) };
  } catch (error) {
    reply =
      error instanceof EnrollmentError
        ? { id, problem: { code: error.code, message: error.message } }
        : { id, failure: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true });
