import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { JsonAttendanceStore } from '../src/storage/json-attendance-store.ts';
import { startServices, waitFor, type RunningServices } from './helpers/service-process.ts';

// Corrections on the roll-call page, in a real headless Chromium (Debian's package) against `npm start`'s process with
// an API key: a person marks a missed student, undoes the mark with a reason, and every open page follows along
// from the event stream. No session runs: the students have not been seen by the camera, which is the case to fix.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SKIP = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}: install it with "apt-get install chromium" (or set CHROMIUM_PATH) to run the browser test`;
const API_KEY = 'roll-call-corrections-test-key-0123456789';

let scratch: string;
let services: RunningServices;
let context: BrowserContext;

async function api(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, headers: { 'x-api-key': API_KEY, ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers } });
}

before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-corrections-page-'));
  services = await startServices({ DATA_DIR: path.join(scratch, 'data'), CAMERA: `dir:${scratch}`, API_KEY });
  if (SKIP) return;
  context = await chromium.launchPersistentContext(path.join(scratch, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
    viewport: { width: 1100, height: 820 },
  });
});

after(async () => {
  await context?.close();
  await services?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function openPage(errors: string[]): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => message.type() === 'error' && !/401/.test(message.text()) && errors.push(message.text()));
  await page.goto(`${services.recognition}/`);
  await page.waitForSelector('#key-form:not([hidden])');
  await page.fill('#key', API_KEY);
  await page.click('#key-form button[type=submit]');
  await page.waitForSelector('#roster tbody tr[data-roll-no="c3"]');
  return page;
}

/** The row's state, its text and the label of the action it offers. */
async function row(page: Page, rollNo: string): Promise<{ state: string; text: string; action: string }> {
  return page.$eval(`#roster tr[data-roll-no="${rollNo}"]`, (element) => {
    const row = element as HTMLElement;
    const action = row.querySelector('.correction');
    return {
      state: row.dataset.state!,
      text: row.querySelector('.state')!.textContent!,
      action: action?.querySelector('form') ? 'reason form' : (action?.querySelector('button')?.textContent ?? ''),
    };
  });
}

const rowIs = (page: Page, rollNo: string, state: string, what: string) =>
  waitFor(async () => ((await row(page, rollNo)).state === state ? true : undefined), what, 20_000);

test('a click marks a missed student by hand, Undo with a reason removes the mark, the API and the change list show both, and other pages follow', { skip: SKIP, timeout: 120_000 }, async () => {
  const added = await api(`${services.registration}/add-student`, {
    method: 'POST',
    body: JSON.stringify({ classStudents: ['a1', 'b2', 'c3', 'toString'].map((rollNo) => ({ rollNo, url: `https://photos.invalid/${rollNo}.jpg` })) }),
  });
  assert.equal(added.status, 200);
  const errors: string[] = [];
  const teacher = await openPage(errors);
  const watcher = await openPage(errors);
  assert.deepEqual(await row(teacher, 'b2'), { state: 'unchecked', text: 'registeredphoto checked when a session starts', action: 'Mark present' });
  await teacher.fill('#by', 'Ms Rao');
  await teacher.dispatchEvent('#by', 'change');

  // Mark present
  await teacher.click('#roster tr[data-roll-no="b2"] .correction button');
  await rowIs(teacher, 'b2', 'present', 'b2 to turn present on the page that marked them');
  const marked = await row(teacher, 'b2');
  assert.match(marked.text, /^present at .*marked by hand$/);
  assert.equal(marked.action, 'Undo');
  const day = (await (await api(`${services.recognition}/roster`)).json()).day;
  const present = (await (await api(`${services.recognition}/attendance?date=${day}`)).json()).days[0].present;
  assert.deepEqual(present, [{ rollNo: 'b2', timestamp: present[0].timestamp, source: 'manual', by: 'Ms Rao', reason: null }]);
  await rowIs(watcher, 'b2', 'present', 'the other page to show b2 present, from the event stream');
  assert.match((await row(watcher, 'b2')).text, /marked by hand/);

  // Undo asks for a reason; without one nothing is sent.
  await teacher.click('#roster tr[data-roll-no="b2"] .correction button');
  assert.equal((await row(teacher, 'b2')).action, 'reason form');
  await teacher.click('#roster tr[data-roll-no="b2"] .correction button[type=submit]');
  assert.equal((await row(teacher, 'b2')).state, 'present', 'an empty reason is not accepted');
  await teacher.fill('#roster tr[data-roll-no="b2"] .correction input', 'marked the wrong row');
  await teacher.click('#roster tr[data-roll-no="b2"] .correction button[type=submit]');
  await rowIs(teacher, 'b2', 'removed-by-person', 'b2 to be unmarked on the page');
  assert.deepEqual(await row(teacher, 'b2'), { state: 'removed-by-person', text: 'mark removed by handthe camera and class photos leave them unmarked today', action: 'Mark present' });
  await rowIs(watcher, 'b2', 'removed-by-person', 'the other page to unmark b2');
  assert.deepEqual((await (await api(`${services.recognition}/attendance?date=${day}`)).json()).days[0].present, []);

  const changes = (await (await api(`${services.recognition}/attendance/changes?date=${day}`)).json()).changes;
  assert.deepEqual(
    changes.map((change: any) => [change.rollNo, change.action, change.by, change.reason, change.before?.source ?? null]),
    [
      ['b2', 'marked', 'Ms Rao', null, null],
      ['b2', 'removed', 'Ms Rao', 'marked the wrong row', 'manual'],
    ],
  );
  await waitFor(async () => (/b2's mark removed \(Ms Rao: marked the wrong row\)/.test((await watcher.textContent('#activity')) ?? '') ? true : undefined), 'the removal in the activity list');
  assert.match((await watcher.textContent('#activity')) ?? '', /b2 marked present by hand \(Ms Rao\)/);
  await watcher.reload();
  await watcher.waitForSelector('#roster tbody tr[data-roll-no="b2"]');
  assert.equal((await row(watcher, 'b2')).state, 'removed-by-person', 'after a reload too, from GET /roster');

  // A reason being typed survives the page's updates: a correction made elsewhere (curl) shows on both pages meanwhile.
  await teacher.click('#roster tr[data-roll-no="toString"] .correction button');
  await rowIs(teacher, 'toString', 'present', 'toString, an ordinary rollNo, to turn present');
  await teacher.click('#roster tr[data-roll-no="toString"] .correction button');
  await teacher.fill('#roster tr[data-roll-no="toString"] .correction input', 'left at noon');
  assert.equal((await api(`${services.recognition}/attendance/${day}/c3`, { method: 'PUT', body: JSON.stringify({ by: 'office', reason: 'doctor' }) })).status, 200);
  await rowIs(teacher, 'c3', 'present', 'c3, marked through the API, to show on the teacher page');
  await rowIs(watcher, 'c3', 'present', 'c3 to show on the other page');
  assert.equal(await teacher.inputValue('#roster tr[data-roll-no="toString"] .correction input'), 'left at noon');
  await teacher.click('#roster tr[data-roll-no="toString"] .correction button[type=submit]');
  await rowIs(watcher, 'toString', 'removed-by-person', 'the other page to unmark toString');
  await rowIs(teacher, 'toString', 'removed-by-person', 'the teacher page to unmark toString');

  // The counts follow the rows: wait for them rather than read them the moment the other page has caught up.
  await waitFor(async () => (/1 of 4 present/.test((await teacher.textContent('#counts')) ?? '') ? true : undefined), 'the teacher page to count 1 of 4 present', 20_000);
  await teacher.setViewportSize({ width: 375, height: 740 });
  const overflow = await teacher.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the correction buttons fit a phone-sized screen (${overflow}px)`);
  assert.deepEqual(errors, []);
  await teacher.close();
  await watcher.close();
});

test('a mark from a class photo shows as such on the roll-call page, and Undo removes it like any other mark', { skip: SKIP, timeout: 120_000 }, async () => {
  const added = await api(`${services.registration}/add-student`, { method: 'POST', body: JSON.stringify({ classStudents: [{ rollNo: 'd4', url: 'https://photos.invalid/d4.jpg' }] }) });
  assert.equal(added.status, 200);
  const day = (await (await api(`${services.recognition}/roster`)).json()).day;
  // The mark POST /recognize-photo keeps (test/class-photo.test.ts makes one with real inference), written by the store
  // under the file lock the services share.
  const fromPhoto = { rollNo: 'd4', timestamp: new Date().toISOString().slice(0, 19) + 'Z', source: 'photo' as const, sessionId: 'photo-session-1', distance: 0.38 };
  assert.equal(await new JsonAttendanceStore(path.join(scratch, 'data')).markPresent(day, fromPhoto), 'marked');
  const errors: string[] = [];
  const teacher = await openPage(errors);
  await teacher.waitForSelector('#roster tbody tr[data-roll-no="d4"]');
  const shown = await row(teacher, 'd4');
  assert.match(shown.text, /^present at .*from a class photo$/);
  assert.equal(shown.action, 'Undo');

  await teacher.click('#roster tr[data-roll-no="d4"] .correction button');
  await teacher.fill('#roster tr[data-roll-no="d4"] .correction input', 'not in class today');
  await teacher.click('#roster tr[data-roll-no="d4"] .correction button[type=submit]');
  await rowIs(teacher, 'd4', 'removed-by-person', 'd4 to be unmarked on the page');
  const changes = (await (await api(`${services.recognition}/attendance/changes?date=${day}`)).json()).changes;
  assert.deepEqual(changes.at(-1).before, fromPhoto, 'the change keeps the photo record as it was');
  assert.deepEqual(errors, []);
  await teacher.close();
});

// Needs no browser, so it runs without Chromium too.
test('the correction routes refuse a request without the key, and change nothing', async () => {
  const day = (await (await api(`${services.recognition}/roster`)).json()).day;
  const before = await (await api(`${services.recognition}/attendance/changes?date=${day}`)).text();
  for (const [method, route] of [['PUT', `/attendance/${day}/a1`], ['DELETE', `/attendance/${day}/c3`], ['GET', `/attendance/changes?date=${day}`]] as const) {
    const response = await fetch(`${services.recognition}${route}`, { method });
    assert.equal(response.status, 401, `${method} ${route} without the key`);
  }
  assert.equal(await (await api(`${services.recognition}/attendance/changes?date=${day}`)).text(), before);
});
