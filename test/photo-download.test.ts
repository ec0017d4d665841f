import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig } from '../src/config/config.ts';
import { EnrollmentError, type EnrollmentErrorCode } from '../src/errors.ts';
import { isForbiddenAddress } from '../src/photos/address-policy.ts';
import { PhotoDownloader, type PhotoDownloadOptions } from '../src/photos/download-photo.ts';
import { FIXTURES, misbehavingPhotoRoutes, startPhotoServer, type PhotoServer } from './helpers/photo-server.ts';

let server: PhotoServer;
let port: string;
const drips = new Set<NodeJS.Timeout>();

before(async () => {
  server = await startPhotoServer({
    '/redirect': (_request, response) => response.writeHead(302, { location: '/obama.jpg' }).end(),
    '/loop': (_request, response) => response.writeHead(302, { location: '/loop' }).end(),
    '/to-file': (_request, response) => response.writeHead(302, { location: 'file:///etc/passwd' }).end(),
    ...misbehavingPhotoRoutes(drips, 50),
  });
  port = new URL(server.origin).port;
});
after(async () => {
  for (const timer of drips) clearInterval(timer);
  await server.close();
});

const options = (overrides: Partial<PhotoDownloadOptions> = {}): PhotoDownloadOptions => ({
  maxBytes: 5 * 1024 * 1024,
  timeoutMs: 5000,
  maxRedirects: 5,
  allowPrivateUrls: true,
  privateHosts: [],
  ...overrides,
});

async function expectRefusal(downloader: PhotoDownloader, url: string, code: EnrollmentErrorCode, message: RegExp): Promise<void> {
  await assert.rejects(downloader.download(url), (error: unknown) => {
    assert.ok(error instanceof EnrollmentError, `expected an EnrollmentError for ${url}, got ${String(error)}`);
    assert.equal(error.code, code, `${url}: ${error.message}`);
    assert.match(error.message, message);
    return true;
  });
}

test('downloads a photo, following redirects', async () => {
  const downloader = new PhotoDownloader(options());
  const expected = await readFile(path.join(FIXTURES, 'photos/obama.jpg'));
  try {
    assert.ok((await downloader.download(`${server.origin}/obama.jpg`)).equals(expected));
    assert.ok((await downloader.download(`${server.origin}/redirect`)).equals(expected));
  } finally {
    await downloader.close();
  }
});

test('refuses loopback targets in every spelling by default, without sending them a single request', async () => {
  const downloader = new PhotoDownloader(options({ allowPrivateUrls: false }));
  const before = server.requests.length;
  try {
    for (const host of ['127.0.0.1', 'localhost', '2130706433', '0x7f000001', '0177.0.0.1', '127.1', '[::1]', '0.0.0.0', '[::ffff:127.0.0.1]']) {
      await expectRefusal(downloader, `http://${host}:${port}/obama.jpg`, 'PHOTO_URL_FORBIDDEN', /private or reserved address/);
    }
  } finally {
    await downloader.close();
  }
  assert.equal(server.requests.length, before, 'the server saw no request');
});

test('a private host listed in PRIVATE_URL_HOSTS is allowed however it is spelled there, and only that one', async () => {
  const { PRIVATE_URL_HOSTS } = loadConfig({ PRIVATE_URL_HOSTS: '127.1' });
  const downloader = new PhotoDownloader(options({ allowPrivateUrls: false, privateHosts: PRIVATE_URL_HOSTS }));
  const bytes = await downloader.download(`http://127.0.0.1:${port}/obama.jpg`);
  assert.deepEqual(bytes, await readFile(path.join(FIXTURES, 'photos/obama.jpg')));
  await expectRefusal(downloader, `http://127.0.0.2:${port}/obama.jpg`, 'PHOTO_URL_FORBIDDEN', /127\.0\.0\.2 is a private or reserved address/);
});

test('refuses schemes other than http and https, also on redirect', async () => {
  const downloader = new PhotoDownloader(options());
  try {
    for (const url of ['file:///etc/passwd', 'ftp://photos.invalid/a.jpg', 'data:image/png;base64,iVBORw0KGgo=', 'gopher://photos.invalid/']) {
      await expectRefusal(downloader, url, 'PHOTO_URL_FORBIDDEN', /only http and https/);
    }
    await expectRefusal(downloader, `${server.origin}/to-file`, 'PHOTO_URL_FORBIDDEN', /not file/);
    await expectRefusal(downloader, 'not a url', 'PHOTO_URL_FORBIDDEN', /not a valid URL/);
  } finally {
    await downloader.close();
  }
});

test('gives up on redirect loops, missing photos, oversized bodies and slow drips with a reason', async () => {
  const downloader = new PhotoDownloader(options({ maxBytes: 50_000, timeoutMs: 1000 }));
  try {
    await expectRefusal(downloader, `${server.origin}/loop`, 'PHOTO_DOWNLOAD_FAILED', /more than 5 redirects/);
    await expectRefusal(downloader, `${server.origin}/missing.jpg`, 'PHOTO_DOWNLOAD_FAILED', /HTTP 404/);
    await expectRefusal(downloader, `${server.origin}/obama.jpg`, 'PHOTO_TOO_LARGE', /50000 byte limit/);
    await expectRefusal(downloader, `${server.origin}/endless.jpg`, 'PHOTO_TOO_LARGE', /50000 byte limit/);
    await expectRefusal(downloader, `${server.origin}/drip.jpg`, 'PHOTO_TIMEOUT', /longer than 1000 ms/);
    await expectRefusal(downloader, 'http://photos.invalid/a.jpg', 'PHOTO_DOWNLOAD_FAILED', /ENOTFOUND|EAI_AGAIN/); // offline resolvers answer EAI_AGAIN
  } finally {
    await downloader.close();
  }
});

test('the address check covers loopback, private, link-local, metadata, unique-local and unspecified ranges', () => {
  const forbidden = [
    '127.0.0.1', '127.255.255.254', '10.0.0.1', '10.255.255.255', '172.16.0.1', '172.31.255.255', '192.168.1.1',
    '169.254.169.254', '0.0.0.0', '100.64.0.1', '224.0.0.1', '255.255.255.255',
    '::1', '::', 'fc00::1', 'fd12:3456::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a9fe:a9fe', 'not-an-ip',
  ];
  const allowed = ['8.8.8.8', '1.1.1.1', '172.15.255.255', '172.32.0.1', '192.169.0.1', '11.0.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'];
  for (const address of forbidden) assert.equal(isForbiddenAddress(address), true, address);
  for (const address of allowed) assert.equal(isForbiddenAddress(address), false, address);
});
