// A 795-byte SVG (6000x6000, feTurbulence filters) posted to /recognize-photo, or served as a student's photo, rendered
// for minutes and blocked start/stop and shutdown: sharp decodes SVG whatever the declared content type, although the
// docs promise JPEG, PNG, WebP, GIF, TIFF and AVIF only. Now decoding checks the format in the header first and refuses
// any other one with PHOTO_NOT_AN_IMAGE ("SVG is not accepted"), before anything is rendered. The tests use a tiny
// plain SVG: refused or not, the answer is immediate, so nothing here waits on a render.
import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { decodeImage } from '../../src/faces/decode-image.ts';
import { EnrollmentError } from '../../src/errors.ts';
import { JsonStudentStore } from '../../src/storage/json-student-store.ts';
import { startPhotoServer, type PhotoServer } from '../helpers/photo-server.ts';
import { recognitionApp } from '../helpers/recognition-app.ts';
import { waitFor } from '../helpers/service-process.ts';
import { scratchFolder } from './helpers.ts';

const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="#888"/></svg>');

let dir: string;
let photos: PhotoServer;
before(async () => {
  dir = await scratchFolder('svg-photo');
  photos = await startPhotoServer({
    '/student.svg': (_request, response) => response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': SVG.length }).end(SVG),
  });
});
after(async () => {
  await photos.close();
  await rm(dir, { recursive: true, force: true });
});

const refusedAsSvg = (error: unknown) => error instanceof EnrollmentError && error.code === 'PHOTO_NOT_AN_IMAGE' && /^SVG is not accepted/.test(error.message);

test('an SVG is refused with PHOTO_NOT_AN_IMAGE before it is rendered; the promised formats still decode', async () => {
  await assert.rejects(decodeImage(SVG, { maxSide: 64 }), refusedAsSvg);
  const picture = sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 100, b: 50 } } });
  for (const format of ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'] as const) {
    const bytes = await picture.clone().toFormat(format).toBuffer();
    const image = await decodeImage(bytes, { maxSide: 64 });
    assert.deepEqual([image.width, image.height, image.data.length], [40, 30, 40 * 30 * 3], format);
  }
});

test('an SVG posted to /recognize-photo as image/jpeg is answered 422 PHOTO_NOT_AN_IMAGE and starts nothing', async () => {
  const { app, status } = await recognitionApp(path.join(dir, 'class-photo'), { CAMERA: 'webcam' });
  try {
    const answer = await app.inject({ method: 'POST', url: '/recognize-photo', headers: { 'content-type': 'image/jpeg' }, payload: SVG });
    assert.equal(answer.statusCode, 422, answer.body);
    assert.equal(answer.json().code, 'PHOTO_NOT_AN_IMAGE');
    assert.match(answer.json().message, /SVG is not accepted/);
    assert.equal((await status()).running, false);
  } finally {
    await app.close();
  }
});

test('a student photo that is an SVG is an enrollment error naming the format', { timeout: 240_000 }, async () => {
  const dataDir = path.join(dir, 'student-photo');
  await mkdir(path.join(dataDir, 'frames'), { recursive: true });
  await new JsonStudentStore(dataDir).addMany([{ rollNo: 'svg', url: `${photos.origin}/student.svg` }], 'now');
  const { app, status } = await recognitionApp(dataDir, { CAMERA: `dir:${path.join(dataDir, 'frames')}` });
  try {
    assert.equal((await app.inject({ method: 'POST', url: '/start-recognition' })).statusCode, 200);
    const ended = await waitFor(async () => ((await status()).sourceEnded ? await status() : undefined), 'enrollment to finish', 220_000);
    assert.deepEqual(ended.enrollmentErrors.map((problem: { rollNo: string; code: string }) => [problem.rollNo, problem.code]), [['svg', 'PHOTO_NOT_AN_IMAGE']]);
    assert.match(ended.enrollmentErrors[0].message, /SVG is not accepted/);
  } finally {
    await app.inject({ method: 'POST', url: '/stop-recognition' });
    await app.close();
  }
});
