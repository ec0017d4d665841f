import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { FIXTURES, startPhotoServer, type PhotoServer } from './helpers/photo-server.ts';
import { getJson, postJson, startServices, waitFor, type RunningServices } from './helpers/service-process.ts';

// A door camera (CAMERA=dir:test/fixtures/track-frames) with the default match rule: obama, rick and daryl each in
// view for three consecutive frames; a stranger who looks like the enrolled zy for three frames; another stranger
// for two. rick and daryl are enrolled together (each is the other's nearest student). Present students are
// enrolled with two photos each (urls), never the photos the frames come from.

let photos: PhotoServer;
let services: RunningServices;
let dataDir: string;

before(async () => {
  photos = await startPhotoServer();
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'attendance-tracks-'));
  services = await startServices({
    DATA_DIR: dataDir,
    CAMERA: `dir:${path.join(FIXTURES, 'track-frames')}`,
    ALLOW_PRIVATE_URLS: '1',
  });
});

after(async () => {
  await services?.stop();
  await photos?.close();
  await rm(dataDir, { recursive: true, force: true });
});

test('marks every present student and no stranger, look-alike or wrong student', async () => {
  const url = (photo: string) => `${photos.origin}/${photo}`;
  const added = await postJson(`${services.registration}/add-student`, {
    classStudents: [
      { rollNo: 'obama', urls: [url('obama.jpg'), url('obama-3.jpg')] },
      { rollNo: 'rick', urls: [url('rick.jpg'), url('rick-1.jpg')] },
      { rollNo: 'daryl', urls: [url('daryl-1.jpg'), url('daryl-2.jpg')] },
      { rollNo: 'zy', urls: [url('zy.jpg'), url('zy-2.jpg')] },
      { rollNo: 'biden', url: url('biden.jpg') },
    ],
  });
  assert.equal(added.status, 200);

  assert.equal((await postJson(`${services.recognition}/start-recognition`)).status, 200);
  const ended = await waitFor(async () => {
    const { json } = await getJson(`${services.recognition}/status`);
    return json.sourceEnded ? json : undefined;
  }, 'the frame folder to be fully processed');
  assert.equal(ended.framesProcessed, 14);
  assert.equal(ended.enrolled, 5);
  assert.deepEqual(ended.enrollmentErrors, []);

  const stopped = await postJson(`${services.recognition}/stop-recognition`);
  assert.deepEqual(
    stopped.json.recognizedStudents.map((r: { rollNo: string }) => r.rollNo).sort(),
    ['daryl', 'obama', 'rick'],
    'the three students in view are present; zy (only her look-alike came) and biden are not',
  );
});
