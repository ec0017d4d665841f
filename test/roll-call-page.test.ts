import assert from 'node:assert/strict';
import { accessSync, constants } from 'node:fs';
import { copyFile, link, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { FIXTURES, startPhotoServer, type PhotoServer } from './helpers/photo-server.ts';
import { startServices, waitFor, type RunningServices } from './helpers/service-process.ts';

// The roll-call page in a real headless Chromium (Debian's package), against `npm start`'s process with an API key,
// real photos over HTTP and real inference over a folder of frames: empty-room frames first (everyone enrolled and
// not yet seen), then the bundled frames (obama, kit_harington and rick appear; biden never does). What needs no
// browser (the page's headers, and its data routes refusing a request without the key) is roll-call-page-access.test.ts.

/** CHROMIUM_PATH, or `chromium` found on PATH as `.ci/run` looks for it (`command -v chromium`). */
function findChromium(): string | undefined {
  const candidates = process.env.CHROMIUM_PATH
    ? [process.env.CHROMIUM_PATH]
    : (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((directory) => path.join(directory, 'chromium'));
  return candidates.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const CHROMIUM = findChromium();
const MISSING = 'no Chromium (CHROMIUM_PATH, or chromium on PATH): install it with "apt-get install chromium" to run the browser test';
// In CI (.ci/run installs Chromium or fails) a missing browser is an error, never a quiet skip.
if (!CHROMIUM && process.env.CI === 'true') throw new Error(`${MISSING}; CI=true, so this is a failure, not a skip`);
const SKIP = CHROMIUM ? false : MISSING;
const API_KEY = 'roll-call-page-test-key-0123456789';
/** Where to keep a screenshot of the page mid-session (the README's is made with ROLL_CALL_SCREENSHOT=docs/roll-call-page.png). */
const SCREENSHOT = process.env.ROLL_CALL_SCREENSHOT;

let scratch: string;
let photos: PhotoServer;
let services: RunningServices;
let context: BrowserContext;

async function api(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, headers: { 'x-api-key': API_KEY, ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers } });
}

before(async () => {
  if (SKIP) return;
  scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-page-'));
  const frames = path.join(scratch, 'frames');
  await mkdir(frames);
  const empty = path.join(FIXTURES, 'frames', '01-empty-room.jpg');
  for (let i = 1; i <= 12; i++) await copyFile(empty, path.join(frames, `a${String(i).padStart(2, '0')}-empty-room.jpg`));
  // Each still held for two frames, as a door camera sees a person: one frame alone marks nobody (MATCH_MIN_FRAMES).
  for (const frame of ['02-obama.jpg', '03-stranger.jpg', '04-kit_harington.jpg', '05-kit_harington.jpg', '06-stranger.jpg', '07-rick.jpg', '08-obama.jpg', '09-rick.jpg', '10-stranger.jpg']) {
    for (const copy of [1, 2]) await copyFile(path.join(FIXTURES, 'frames', frame), path.join(frames, `b${frame.slice(0, 2)}${copy}${frame.slice(2)}`));
  }
  // Then the empty room until the test stops the session: the page's snapshot needs a frame still coming, however fast
  // the worker gets through the folder (on onnx it read all 40 of the earlier frames before the page asked).
  for (let i = 1; i <= 20_000; i++) await link(empty, path.join(frames, `c${String(i).padStart(5, '0')}-empty-room.jpg`));
  photos = await startPhotoServer();
  services = await startServices({ DATA_DIR: path.join(scratch, 'data'), CAMERA: `dir:${frames}`, PRIVATE_URL_HOSTS: '127.0.0.1', API_KEY });
  context = await chromium.launchPersistentContext(path.join(scratch, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
    viewport: { width: 1100, height: 820 },
    acceptDownloads: true,
  });
});

after(async () => {
  await context?.close();
  await services?.stop();
  await photos?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** rollNo → [state, the row's text, the time it shows as datetime] as the page's table has them now. */
async function table(page: Page): Promise<Record<string, [string, string, string | null]>> {
  return page.$$eval('#roster tbody tr', (rows) =>
    Object.fromEntries(
      rows.map((row) => {
        const element = row as HTMLElement;
        return [element.dataset.rollNo, [element.dataset.state, element.querySelector('.state')!.textContent, element.querySelector('time')?.dateTime ?? null]];
      }),
    ),
  );
}

async function rowState(page: Page, rollNo: string): Promise<string | undefined> {
  return page.$eval(`#roster tr[data-roll-no="${rollNo}"]`, (row) => (row as HTMLElement).dataset.state).catch(() => undefined);
}

test('the roll-call page asks for the key, starts a session, turns students present live, stops it and matches the report', { skip: SKIP, timeout: 180_000 }, async () => {
  const added = await api(`${services.registration}/add-student`, {
    method: 'POST',
    body: JSON.stringify({
      classStudents: ['obama', 'kit_harington', 'rick', 'biden', 'landscape'].map((name) => ({ rollNo: name, url: `${photos.origin}/${name}.jpg` })),
    }),
  });
  assert.equal(added.status, 200);

  const page = await context.newPage();
  const requested: string[] = [];
  page.on('request', (request) => requested.push(request.url()));
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  // Chromium logs every 4xx answer as a console error. Expected here: 401 before the key is entered, and 409 for a
  // snapshot asked for just as the session stops (the page shows why there is no picture); anything else is a fault.
  const expectedAnswer = (text: string, url: string) => /401/.test(text) || (/409/.test(text) && new URL(url).pathname === '/snapshot.jpg');
  page.on('console', (message) => message.type() === 'error' && !expectedAnswer(message.text(), message.location().url || 'http://page/') && errors.push(message.text()));

  await page.goto(`${services.recognition}/`);
  await page.waitForSelector('#key-form:not([hidden])');
  assert.match(await page.textContent('#message') ?? '', /needs its API key/);
  await page.fill('#key', API_KEY);
  await page.click('#key-form button[type=submit]');
  await page.waitForSelector('#roster tbody tr[data-roll-no="landscape"]');
  assert.equal(await page.isVisible('#key-form'), false, 'the key form goes away once the key works');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('attendance-api-key')), API_KEY, 'the key is kept for this tab');
  assert.deepEqual(Object.values(await table(page)).map(([state]) => state), ['unchecked', 'unchecked', 'unchecked', 'unchecked', 'unchecked']);

  await page.click('#start');
  await waitFor(async () => ((await rowState(page, 'biden')) === 'not-yet-seen' ? true : undefined), 'enrolled students to wait to be seen');
  assert.equal(await rowState(page, 'landscape'), 'photo-problem');
  await page.waitForSelector('#snapshot:not([hidden])', { timeout: 20_000 });
  const snapshotSize = await page.$eval('#snapshot', (image) => [(image as HTMLImageElement).naturalWidth, (image as HTMLImageElement).naturalHeight]);
  assert.deepEqual(snapshotSize, [640, 480], 'the snapshot of a camera frame is on the page');

  for (const rollNo of ['obama', 'kit_harington', 'rick']) {
    await waitFor(async () => ((await rowState(page, rollNo)) === 'present' ? true : undefined), `${rollNo} to turn present on the page`);
  }
  assert.match(await page.textContent('#session') ?? '', /Watching the camera|has ended/);
  assert.match(await page.textContent('#activity') ?? '', /obama present/);
  if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT, fullPage: true });

  await page.click('#stop');
  await page.waitForSelector('#session[data-phase="idle"]');
  const report = await (await api(`${services.recognition}/attendance?include=absent`)).json();
  const [today] = report.days;
  const shown = await table(page);
  assert.deepEqual(
    Object.fromEntries(Object.entries(shown).map(([rollNo, [state, , time]]) => [rollNo, [state, time]])),
    {
      ...Object.fromEntries(today.present.map((record: { rollNo: string; timestamp: string }) => [record.rollNo, ['present', record.timestamp]])),
      biden: ['enrolled', null],
      landscape: ['photo-problem', null],
    },
    'the table shows what the report says',
  );
  assert.deepEqual(today.present.map((record: { rollNo: string }) => record.rollNo).sort(), ['kit_harington', 'obama', 'rick']);
  assert.deepEqual(today.absent, ['biden', 'landscape']);
  assert.match(shown.landscape![1], /photo problem.*no face/i, 'the photo problem comes with its reason');
  assert.equal(await page.isDisabled('#stop'), true);
  assert.equal(await page.isDisabled('#start'), false);

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
  assert.equal(download.suggestedFilename(), `attendance-${today.date}.csv`);
  const csv = await readFile((await download.path())!, 'utf8');
  const expectedCsv = await (await api(`${services.recognition}/attendance?include=absent&format=csv`)).text();
  assert.equal(csv, expectedCsv, "the downloaded CSV is the day's report");

  await page.setViewportSize({ width: 375, height: 740 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `nothing sticks out sideways on a phone-sized screen (${overflow}px)`);

  assert.deepEqual(errors, []);
  const elsewhere = requested.filter((url) => !url.startsWith(`${services.recognition}/`) && !url.startsWith('blob:'));
  assert.deepEqual(elsewhere, [], 'the page loads nothing from anywhere but its own service');
  await page.close();
});
