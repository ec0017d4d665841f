// `http://user:pass@host/photo.jpg` was accepted by `POST /add-student` and `PUT /students/:rollNo/photo`, stored in
// students_data.json and shown by `GET /students`, although the README said registration refuses URLs with
// credentials. Both routes now answer 400 and store nothing.
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config/config.ts';
import { buildRegistrationApp } from '../../src/registration/app.ts';
import { JsonStudentStore } from '../../src/storage/json-student-store.ts';
import { scratchFolder } from './helpers.ts';

let dir: string;
before(async () => {
  dir = await scratchFolder('url-credentials');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const WITH_CREDENTIALS = ['http://user:pass@photos.invalid/1.jpg', 'https://user@photos.invalid/1.jpg', 'https://:secret@photos.invalid/1.jpg'];

test('photo URLs with a user name or password are refused with 400 at registration and when replacing a photo', async () => {
  const app = await buildRegistrationApp({ config: loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' }), students: new JsonStudentStore(dir), logger: pino({ level: 'silent' }) });
  try {
    for (const url of WITH_CREDENTIALS) {
      for (const student of [{ rollNo: 'a1', url }, { rollNo: 'a1', urls: ['https://photos.invalid/ok.jpg', url] }]) {
        const refused = await app.inject({ method: 'POST', url: '/add-student', payload: { classStudents: [student] } });
        assert.equal(refused.statusCode, 400, `${url}: ${refused.body}`);
        assert.equal(refused.json().code, 'INVALID_REQUEST');
        assert.match(refused.json().message, /must not contain a user name or password/);
        assert.doesNotMatch(refused.body, /user:pass|:secret/, 'the credentials are not echoed');
      }
    }
    assert.equal((await app.inject({ method: 'GET', url: '/students' })).json().total, 0);

    const added = await app.inject({ method: 'POST', url: '/add-student', payload: { classStudents: [{ rollNo: 'a1', url: 'https://photos.invalid/1.jpg' }] } });
    assert.equal(added.statusCode, 200);
    for (const url of WITH_CREDENTIALS) {
      const refused = await app.inject({ method: 'PUT', url: '/students/a1/photo', payload: { url } });
      assert.equal(refused.statusCode, 400, `${url}: ${refused.body}`);
      assert.match(refused.json().message, /must not contain a user name or password/);
    }
    const stored = await readFile(path.join(dir, 'students_data.json'), 'utf8');
    assert.doesNotMatch(stored, /@/);
    assert.equal((await app.inject({ method: 'GET', url: '/students/a1' })).json().url, 'https://photos.invalid/1.jpg');
  } finally {
    await app.close();
  }
});
