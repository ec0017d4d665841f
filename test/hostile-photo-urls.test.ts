import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import zlib from 'node:zlib';
import pino from 'pino';
import { loadConfig } from '../src/config/config.ts';
import { buildRecognitionApp } from '../src/recognition/app.ts';
import { JsonAttendanceStore } from '../src/storage/json-attendance-store.ts';
import { JsonStudentStore } from '../src/storage/json-student-store.ts';
import { misbehavingPhotoRoutes, startPhotoServer, type PhotoServer } from './helpers/photo-server.ts';
import { waitFor } from './helpers/service-process.ts';

/** A 100-byte PNG whose header claims `width` x `height` pixels: a decompression bomb if decoded. */
function pngClaiming(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(typed));
    return Buffer.concat([length, typed, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(Buffer.alloc(64))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

let server: PhotoServer;
let port: string;
let dir: string;
const drips = new Set<NodeJS.Timeout>();

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'attendance-hostile-'));
  await mkdir(path.join(dir, 'frames'));
  server = await startPhotoServer({
    '/redirect-to-private': (_request, response) => response.writeHead(302, { location: `http://127.0.0.2:${port}/forbidden-redirect-target` }).end(),
    '/loop': (_request, response) => response.writeHead(301, { location: '/loop' }).end(),
    '/not-an-image.jpg': (_request, response) => response.writeHead(200, { 'content-type': 'image/jpeg' }).end('<html>surprise</html>'),
    '/bomb.png': (_request, response) => response.writeHead(200, { 'content-type': 'image/png' }).end(pngClaiming(50_000, 50_000)),
    ...misbehavingPhotoRoutes(drips, 100),
  });
  port = new URL(server.origin).port;
});
after(async () => {
  for (const timer of drips) clearInterval(timer);
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

test('every hostile photo URL is refused with its own reason, no forbidden address is contacted, and the service stays up', async () => {
  const hostile: Record<string, [string, string]> = {
    'file-scheme': ['file:///etc/passwd', 'PHOTO_URL_FORBIDDEN'],
    'ftp-scheme': ['ftp://photos.invalid/a.jpg', 'PHOTO_URL_FORBIDDEN'],
    'data-scheme': ['data:image/png;base64,iVBORw0KGgo=', 'PHOTO_URL_FORBIDDEN'],
    'loopback-dotted': [`http://127.0.0.1:${port}/forbidden-1`, 'PHOTO_URL_FORBIDDEN'],
    'loopback-decimal': [`http://2130706433:${port}/forbidden-2`, 'PHOTO_URL_FORBIDDEN'],
    'loopback-hex': [`http://0x7f000001:${port}/forbidden-3`, 'PHOTO_URL_FORBIDDEN'],
    'loopback-octal': [`http://0177.0.0.1:${port}/forbidden-4`, 'PHOTO_URL_FORBIDDEN'],
    'loopback-short': [`http://127.1:${port}/forbidden-5`, 'PHOTO_URL_FORBIDDEN'],
    'loopback-ipv6': [`http://[::1]:${port}/forbidden-6`, 'PHOTO_URL_FORBIDDEN'],
    unspecified: [`http://0.0.0.0:${port}/forbidden-7`, 'PHOTO_URL_FORBIDDEN'],
    'redirect-to-private': [`http://localhost:${port}/redirect-to-private`, 'PHOTO_URL_FORBIDDEN'],
    'redirect-loop': [`http://localhost:${port}/loop`, 'PHOTO_DOWNLOAD_FAILED'],
    'endless-body': [`http://localhost:${port}/endless.jpg`, 'PHOTO_TOO_LARGE'],
    'slow-drip': [`http://localhost:${port}/drip.jpg`, 'PHOTO_TIMEOUT'],
    'not-an-image': [`http://localhost:${port}/not-an-image.jpg`, 'PHOTO_NOT_AN_IMAGE'],
    'decompression-bomb': [`http://localhost:${port}/bomb.png`, 'PHOTO_TOO_LARGE'],
  };
  // Hand-edited roster: registration would refuse the non-http URLs with a 400, the worker must refuse them too.
  const students = new JsonStudentStore(dir);
  await students.addMany(
    [...Object.entries(hostile).map(([rollNo, [url]]) => ({ rollNo, url })), { rollNo: 'genuine', url: `http://localhost:${port}/obama.jpg` }],
    'now',
  );
  // `localhost` is allowed to be private on purpose (the campus photo server case); every other address is checked.
  const config = loadConfig({
    DATA_DIR: dir,
    CAMERA: `dir:${path.join(dir, 'frames')}`,
    PRIVATE_URL_HOSTS: 'localhost',
    PHOTO_MAX_BYTES: '200000',
    PHOTO_TIMEOUT_MS: '1500',
    LOG_LEVEL: 'silent',
  });
  const app = await buildRecognitionApp({ config, students, attendance: new JsonAttendanceStore(dir), logger: pino({ level: 'silent' }) });
  try {
    assert.equal((await app.inject({ method: 'POST', url: '/start-recognition' })).statusCode, 200);
    const status = await waitFor(async () => {
      const current = (await app.inject({ method: 'GET', url: '/status' })).json();
      return current.sourceEnded ? current : undefined;
    }, 'enrollment to finish');
    const reasons = Object.fromEntries(status.enrollmentErrors.map((e: { rollNo: string; code: string }) => [e.rollNo, e.code]));
    assert.deepEqual(reasons, Object.fromEntries(Object.entries(hostile).map(([rollNo, [, code]]) => [rollNo, code])));
    assert.equal(status.enrolled, 1, 'the genuine photo still enrolls');
    for (const problem of status.enrollmentErrors) assert.ok(problem.message.length > 10, `${problem.rollNo} has a reason in words`);
    assert.deepEqual(server.requests.filter((url) => url.startsWith('/forbidden')), [], 'no forbidden target received a request');
    assert.equal((await app.inject({ method: 'POST', url: '/stop-recognition' })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
  } finally {
    await app.close();
  }
});
