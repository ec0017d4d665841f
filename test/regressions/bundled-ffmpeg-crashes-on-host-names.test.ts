// `CAMERA=ffmpeg:rtsp://cam-101.lan/stream` never worked: the ffmpeg that comes with npm (@ffmpeg-installer, a 2018
// static build) crashes with SIGSEGV (exit 139) on any host name it resolves itself with today's C library
// (`ffmpeg -i http://localhost:PORT/x.jpg` crashes, `http://127.0.0.1:PORT/x.jpg` works), and /status only said
// "ffmpeg stopped reading … (SIGSEGV)". Now, with that ffmpeg, the service resolves the host name itself and hands
// ffmpeg the URL with the address (port, path and credentials kept); a name that does not resolve is reported as such,
// and a crash of the bundled ffmpeg names FFMPEG_PATH as the way out.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { FfmpegSource, withHostResolved } from '../../src/camera/ffmpeg-source.ts';
import { CameraError } from '../../src/errors.ts';
import { FIXTURES } from '../helpers/photo-server.ts';

const seen: IncomingHttpHeaders[] = [];
const server = createServer(async (request, response) => {
  seen.push(request.headers);
  // A camera that asks for its password, as most do: ffmpeg answers the challenge with the URL's user name and password.
  if (request.headers.authorization !== `Basic ${Buffer.from('viewer:s3cret').toString('base64')}`) {
    response.writeHead(401, { 'www-authenticate': 'Basic realm="camera"' }).end();
    return;
  }
  const frame = await readFile(path.join(FIXTURES, 'frames', '02-obama.jpg'));
  response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': frame.length }).end(frame);
});
let port: number;
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

test('a camera URL naming its host (localhost) is read, with its port, path and credentials', { skip: process.env.FFMPEG_PATH ? 'about the bundled ffmpeg' : false }, async () => {
  const source = new FfmpegSource(`http://viewer:s3cret@localhost:${port}/frame.jpg`);
  try {
    const frame = await source.nextFrame();
    assert.ok(frame && frame[0] === 0xff && frame[1] === 0xd8, 'a JPEG frame');
    assert.ok(seen.some((headers) => headers.authorization !== undefined), 'the credentials reached the camera');
  } finally {
    await source.close();
  }
});

test('a camera host name that does not resolve is reported as such', async () => {
  await assert.rejects(new FfmpegSource('rtsp://admin:CamPass99@cam-101.invalid/stream').nextFrame(), (error: unknown) => {
    assert.ok(error instanceof CameraError);
    assert.equal(error.code, 'CAMERA_FAILED');
    assert.match(error.message, /^cannot find the camera's host cam-101\.invalid \((ENOTFOUND|EAI_AGAIN)\): check the host name in CAMERA$/);
    return true;
  });
});

test('only the host name of a URL is replaced; devices, files and addresses are left as they are', async () => {
  assert.equal(await withHostResolved('rtsp://admin:p%40ss@localhost:8554/live/main?channel=1#x'), 'rtsp://admin:p%40ss@127.0.0.1:8554/live/main?channel=1#x');
  assert.equal(await withHostResolved('http://localhost'), 'http://127.0.0.1');
  for (const input of ['/dev/video0', 'door.mp4', 'http://127.0.0.1:8080/x.mjpg', 'rtsp://u:p@[::1]:554/s', 'pipe:0']) {
    assert.equal(await withHostResolved(input), input);
  }
});
