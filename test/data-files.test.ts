import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { FIXTURES, startPhotoServer, type PhotoServer } from './helpers/photo-server.ts';
import { exitOf, getJson, makeWorkDir, postJson, spawnService, startServices, waitFor, withDeadline } from './helpers/service-process.ts';

// What the README promises about the data files, checked on `npm start`'s process: each is created readable by its
// owner only (0600, the biometric descriptors.json included), and a damaged one stops the service at start.

let scratch: string;
let photos: PhotoServer;

before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-data-files-'));
  photos = await startPhotoServer();
});
after(async () => {
  await photos.close();
  await rm(scratch, { recursive: true, force: true });
});

test('every data file a session writes, descriptors.json included, is created with mode 0600', async () => {
  const dataDir = path.join(scratch, 'modes');
  const frames = path.join(scratch, 'obama-frames');
  await mkdir(frames);
  for (const name of ['1.jpg', '2.jpg']) await copyFile(path.join(FIXTURES, 'frames/02-obama.jpg'), path.join(frames, name));
  const services = await startServices({ DATA_DIR: dataDir, CAMERA: `dir:${frames}`, PRIVATE_URL_HOSTS: '127.0.0.1' });
  try {
    const added = await postJson(`${services.registration}/add-student`, {
      classStudents: [
        { rollNo: 'obama', url: `${photos.origin}/obama.jpg` },
        { rollNo: 'nobody', url: `${photos.origin}/landscape.jpg` },
      ],
    });
    assert.equal(added.status, 200);
    assert.equal((await postJson(`${services.recognition}/start-recognition`)).status, 200);
    await waitFor(async () => ((await getJson(`${services.recognition}/status`)).json.sourceEnded ? true : undefined), 'the session to read its frames');
    const stopped = await postJson(`${services.recognition}/stop-recognition`);
    assert.deepEqual(stopped.json.recognizedStudents.map((record: { rollNo: string }) => record.rollNo), ['obama']);
  } finally {
    await services.stop();
  }
  for (const file of ['students_data.json', 'attendance.json', 'enrollment.json', 'descriptors.json']) {
    const { mode } = await stat(path.join(dataDir, file));
    assert.equal((mode & 0o777).toString(8), '600', file);
  }
  const cached = JSON.parse(await readFile(path.join(dataDir, 'descriptors.json'), 'utf8'));
  assert.deepEqual(Object.keys(cached.students), ['obama'], 'the descriptor cache was really written');
});

for (const [file, damaged, problem] of [
  ['attendance.json', '{"2025-09-06": [{"rollNo": "1"}]}', /attendance\.json is not a valid data file \(.*2025-09-06\.0\.timestamp/],
  ['enrollment.json', '{"1": {"usable": "yes"', /enrollment\.json is not a valid data file \(invalid JSON/],
  ['descriptors.json', '{"model": "x", "students": {"1": [{"url": "https://photos.invalid/1.jpg", "sha256": "not-a-hash", "descriptor": ""}]}}', /descriptors\.json is not a valid data file \(.*students\.1\.0\.sha256/],
] as const) {
  test(`a damaged ${file} stops the services at start with the file and the problem named, and is kept as it was`, async () => {
    const dataDir = path.join(scratch, `damaged-${file}`);
    await mkdir(dataDir);
    await writeFile(path.join(dataDir, file), damaged);
    // Both services in one process (npm start): the check at start is the same code for each.
    for (const entry of ['both'] as const) {
      const workDir = await makeWorkDir();
      const child = spawnService(entry, { DATA_DIR: dataDir }, workDir);
      let output = '';
      child.stdout!.on('data', (chunk) => (output += chunk));
      child.stderr!.on('data', (chunk) => (output += chunk));
      try {
        assert.equal(await withDeadline(exitOf(child), 60_000, `the ${entry} service to refuse to start`), 1, `${entry}: ${output}`);
      } finally {
        child.kill('SIGKILL');
        await rm(workDir, { recursive: true, force: true });
      }
      assert.match(output, problem, entry);
      assert.match(output, /left untouched/, entry);
      assert.doesNotMatch(output, /Server listening/, `${entry} never listened`);
    }
    assert.equal(await readFile(path.join(dataDir, file), 'utf8'), damaged);
  });
}
