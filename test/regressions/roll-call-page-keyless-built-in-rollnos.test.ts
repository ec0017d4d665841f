// The roll-call page against `npm start` without an API key (keyless mode now checks Host, Origin and
// Sec-Fetch-Site, which a browser sends), with students whose rollNos are built-in JavaScript property names
// (`constructor`, `toString`: before the fix, every start-recognition answered 500 once they were registered).
// In a real headless Chromium (Debian's package; the test skips, saying why, without one), with real inference over
// a folder of frames.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { FIXTURES, startPhotoServer, type PhotoServer } from '../helpers/photo-server.ts';
import { scratchFolder, startServer, type RunningServer } from './helpers.ts';
import { waitFor } from '../helpers/service-process.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SKIP = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}: install it with "apt-get install chromium" (or set CHROMIUM_PATH) to run the browser test`;

let scratch: string;
let photos: PhotoServer;
let server: RunningServer;
let context: BrowserContext;

before(async () => {
  if (SKIP) return;
  scratch = await scratchFolder('page-keyless');
  const frames = path.join(scratch, 'frames');
  await mkdir(frames);
  const frame = (name: string) => path.join(FIXTURES, 'frames', name);
  // Empty room first (the page sees everyone enrolled), then each person held for two frames, then the room again.
  for (let i = 1; i <= 10; i++) await copyFile(frame('01-empty-room.jpg'), path.join(frames, `a${String(i).padStart(2, '0')}.jpg`));
  for (const [name, copy] of [['02-obama.jpg', 'b1'], ['02-obama.jpg', 'b2'], ['07-rick.jpg', 'b3'], ['07-rick.jpg', 'b4']]) await copyFile(frame(name!), path.join(frames, `${copy}.jpg`));
  for (let i = 1; i <= 10; i++) await copyFile(frame('01-empty-room.jpg'), path.join(frames, `c${String(i).padStart(2, '0')}.jpg`));
  photos = await startPhotoServer();
  server = await startServer({ DATA_DIR: path.join(scratch, 'data'), CAMERA: `dir:${frames}`, PRIVATE_URL_HOSTS: '127.0.0.1' });
  context = await chromium.launchPersistentContext(path.join(scratch, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
});

after(async () => {
  await context?.close();
  await server?.stop();
  await photos?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function rowState(page: Page, rollNo: string): Promise<string | undefined> {
  return page.$eval(`#roster tr[data-roll-no="${rollNo}"]`, (row) => (row as HTMLElement).dataset.state).catch(() => undefined);
}

test('keyless, the page starts and stops a session and shows constructor and toString present like anyone', { skip: SKIP, timeout: 180_000 }, async () => {
  const added = await fetch(`${server.registration}/add-student`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      classStudents: [
        { rollNo: 'constructor', url: `${photos.origin}/obama.jpg` },
        { rollNo: 'toString', url: `${photos.origin}/rick.jpg` },
        { rollNo: 'valueOf', url: `${photos.origin}/biden.jpg` },
        { rollNo: 'hasOwnProperty', url: `${photos.origin}/landscape.jpg` },
      ],
    }),
  });
  assert.equal(added.status, 200);

  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => message.type() === 'error' && !/Failed to load resource/.test(message.text()) && errors.push(message.text()));
  // Nothing the page asks for is refused (401, 403) or fails (5xx); a 409 NO_SNAPSHOT once the frames end is an answer.
  page.on('response', (response) => [401, 403].includes(response.status()) || response.status() >= 500 ? errors.push(`${response.status()} ${response.url()}`) : undefined);
  await page.goto(`${server.recognition}/`);
  await page.waitForSelector('#roster tbody tr[data-roll-no="hasOwnProperty"]');
  assert.equal(await page.isVisible('#key-form'), false, 'no key asked for on the machine itself');

  await page.click('#start');
  for (const rollNo of ['constructor', 'toString']) {
    await waitFor(async () => ((await rowState(page, rollNo)) === 'present' ? true : undefined), `${rollNo} to turn present on the page`, 120_000);
  }
  assert.equal(await rowState(page, 'hasOwnProperty'), 'photo-problem');
  assert.equal(await rowState(page, 'valueOf'), 'not-yet-seen');
  assert.match((await page.textContent('#counts')) ?? '', /2 of 4 present · 1 photo problem/);
  assert.match((await page.textContent('#activity')) ?? '', /constructor present/);

  await page.click('#stop');
  await page.waitForSelector('#session[data-phase="idle"]');
  assert.equal(await page.isHidden('#message'), true, await page.textContent('#message') ?? '');
  assert.deepEqual(errors, []);
});
