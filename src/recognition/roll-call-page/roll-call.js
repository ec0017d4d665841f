// The roll-call page. Every API call goes through `api()`, which adds the API key when one has been entered.
// The event stream is read with fetch rather than EventSource, because EventSource cannot send the key in a header
// and a key in a URL would end up in logs and browser history.
'use strict';

const KEY_STORAGE = 'attendance-api-key';
const BY_STORAGE = 'attendance-by';
const POLL_MS = 2000;
// With no session running the page still looks again now and then: the day changes at midnight (a page left open
// overnight must not correct yesterday), and a service that was restarted must be noticed.
const IDLE_POLL_MS = 30_000;
const SNAPSHOT_MS = 2000;
const RECONNECT_MS = 3000;
const ACTIVITY_ITEMS = 30;

const $ = (id) => document.getElementById(id);
const page = {
  day: $('day'),
  session: $('session'),
  start: $('start'),
  stop: $('stop'),
  csv: $('csv'),
  by: $('by'),
  keyForm: $('key-form'),
  key: $('key'),
  message: $('message'),
  rosterBody: document.querySelector('#roster tbody'),
  rosterEmpty: $('roster-empty'),
  counts: $('counts'),
  snapshot: $('snapshot'),
  snapshotCaption: $('snapshot-caption'),
  activity: $('activity'),
};

const state = {
  status: undefined,
  roster: undefined,
  lastEventId: undefined,
  snapshotUrl: undefined,
  snapshotBusy: false,
  following: false,
  unreachable: false,
  /** The rollNo whose mark the user is removing (the reason form is open in its row), if any. */
  undoing: undefined,
};

class Unauthorized extends Error {}

async function api(path, options = {}) {
  const key = sessionStorage.getItem(KEY_STORAGE);
  const headers = { ...options.headers, ...(key ? { 'x-api-key': key } : {}) };
  const response = await fetch(path, { ...options, headers, cache: 'no-store' });
  if (response.status === 401) {
    const body = await response.json().catch(() => ({}));
    askForKey(body);
    throw new Unauthorized(body.message ?? 'unauthorized');
  }
  return response;
}

async function apiJson(path, options) {
  const response = await api(path, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.message ?? `${path} answered ${response.status}`);
  return body;
}

function askForKey(body) {
  if (body.code === 'API_KEY_NOT_CONFIGURED') {
    showMessage(body.message);
    return;
  }
  page.keyForm.hidden = false;
  showMessage(sessionStorage.getItem(KEY_STORAGE) ? 'That API key was refused: enter the right one.' : 'This service needs its API key.');
  page.key.focus();
}

function showMessage(text) {
  page.message.textContent = text ?? '';
  page.message.hidden = !text;
}

function timeOf(timestamp) {
  return new Date(timestamp).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** Enrolled and past enrollment: students not marked yet are still to be seen (a folder or video may have ended). */
function isWatching(status) {
  return Boolean(status?.running) && (status.phase === 'watching' || status.phase === 'source-ended');
}

/** The camera is being read, so a snapshot can be had. */
function cameraLive(status) {
  return Boolean(status?.running) && status.phase === 'watching';
}

/** How a present student's mark was made, when it was not the camera (a source added later shows nothing). */
const MARKED_BY = { manual: 'marked by hand', photo: 'from a class photo' };

/** What the page says about one student: present, photo problem, not yet seen (enrolled, session watching), enrolled, or unchecked. */
function studentState(student, status) {
  if (student.presentAt) {
    return { state: 'present', label: `present at ${timeOf(student.presentAt)}`, detail: MARKED_BY[student.source] ?? '', time: student.presentAt };
  }
  if (student.removedByPerson) {
    return { state: 'removed-by-person', label: 'mark removed by hand', detail: 'the camera and class photos leave them unmarked today' };
  }
  if (student.photo.usable === false) return { state: 'photo-problem', label: 'photo problem', detail: student.photo.problem?.message ?? '' };
  if (student.photo.usable === true) {
    return isWatching(status) ? { state: 'not-yet-seen', label: 'not yet seen', detail: '' } : { state: 'enrolled', label: 'enrolled', detail: '' };
  }
  const enrolling = status?.running && status.phase === 'enrolling';
  return { state: 'unchecked', label: enrolling ? 'enrolling…' : 'registered', detail: enrolling ? '' : 'photo checked when a session starts' };
}

function renderRoster() {
  const students = state.roster?.students ?? [];
  page.day.textContent = state.roster ? ` · ${state.roster.day}` : '';
  const counts = {};
  // Rows are updated in place, so that a reason being typed into an open Undo form survives every refresh.
  const existing = new Map([...page.rosterBody.children].map((row) => [row.dataset.rollNo, row]));
  const rows = students.map((student) => {
    const view = studentState(student, state.status);
    counts[view.state] = (counts[view.state] ?? 0) + 1;
    const row = existing.get(student.rollNo) ?? newRow(student.rollNo);
    row.dataset.state = view.state;
    const cell = row.querySelector('.state');
    cell.replaceChildren();
    if (view.time) {
      const time = document.createElement('time');
      time.dateTime = view.time;
      time.textContent = view.label;
      cell.append(time);
    } else {
      cell.append(view.label);
    }
    if (view.detail) {
      const detail = document.createElement('small');
      detail.textContent = view.detail;
      cell.append(detail);
    }
    renderCorrection(row.querySelector('.correction'), student);
    return row;
  });
  const current = [...page.rosterBody.children];
  if (rows.length !== current.length || rows.some((row, index) => current[index] !== row)) page.rosterBody.replaceChildren(...rows);
  page.rosterEmpty.hidden = students.length > 0 || state.roster === undefined;
  page.counts.textContent = students.length === 0 ? '' : `· ${counts.present ?? 0} of ${students.length} present` +
    (counts['photo-problem'] ? ` · ${counts['photo-problem']} photo problem${counts['photo-problem'] === 1 ? '' : 's'}` : '');
}

function newRow(rollNo) {
  const row = document.createElement('tr');
  row.dataset.rollNo = rollNo;
  const name = document.createElement('td');
  name.textContent = rollNo;
  const stateCell = document.createElement('td');
  stateCell.className = 'state';
  const correction = document.createElement('td');
  correction.className = 'correction';
  row.append(name, stateCell, correction);
  return row;
}

/** The action that fits the student: "Mark present" when not present, "Undo" (then a short reason) when present. */
function renderCorrection(cell, student) {
  if (!student.presentAt && state.undoing === student.rollNo) state.undoing = undefined;
  const wanted = !student.presentAt ? 'mark' : state.undoing === student.rollNo ? 'reason' : 'undo';
  if (cell.dataset.action === wanted) return;
  cell.dataset.action = wanted;
  if (wanted === 'reason') {
    const form = document.createElement('form');
    form.className = 'undo-form';
    const reason = document.createElement('input');
    reason.name = 'reason';
    reason.required = true;
    reason.maxLength = 300;
    reason.placeholder = 'Why? (a few words)';
    reason.setAttribute('aria-label', `Why remove the mark of ${student.rollNo}`);
    const confirm = document.createElement('button');
    confirm.type = 'submit';
    confirm.textContent = 'Remove mark';
    const cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.textContent = 'Cancel';
    cancel.addEventListener('click', () => {
      state.undoing = undefined;
      renderRoster();
    });
    form.addEventListener('submit', (submit) => {
      submit.preventDefault();
      void correct('DELETE', student.rollNo, { reason: reason.value.trim() });
    });
    form.append(reason, confirm, cancel);
    cell.replaceChildren(form);
    reason.focus();
    return;
  }
  const button = document.createElement('button');
  button.type = 'button';
  if (wanted === 'mark') {
    button.textContent = 'Mark present';
    button.addEventListener('click', () => void correct('PUT', student.rollNo, {}));
  } else {
    button.textContent = 'Undo';
    button.addEventListener('click', () => {
      state.undoing = student.rollNo;
      renderRoster();
    });
  }
  cell.replaceChildren(button);
}

/** Marks (PUT) or unmarks (DELETE) a student today by hand, saying who (the name field) and, for an undo, why. */
async function correct(method, rollNo, note) {
  const day = state.roster?.day;
  if (!day) return;
  const by = page.by.value.trim();
  try {
    // A page left open past midnight shows yesterday until its next refresh: a click must not correct yesterday.
    const latest = await apiJson('/roster');
    if (latest.day !== day) {
      state.roster = latest;
      renderRoster();
      showMessage(`A new day has begun (${latest.day}) and the list now shows it: nothing was changed. Mark the student again if that is what you meant.`);
      return;
    }
    const body = await apiJson(`/attendance/${encodeURIComponent(day)}/${encodeURIComponent(rollNo)}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...note, ...(by ? { by } : {}) }),
    });
    showMessage('');
    if (state.undoing === rollNo) state.undoing = undefined;
    applyToRoster(day, rollNo, method === 'PUT' ? body.record : null);
  } catch (error) {
    if (!(error instanceof Unauthorized)) showMessage(error.message);
  }
}

/** Shows a student as present with `record`, or not present (`null`), if the page shows that day. */
function applyToRoster(day, rollNo, record) {
  const student = state.roster?.students.find((entry) => entry.rollNo === rollNo);
  if (!student || state.roster.day !== day) return;
  student.presentAt = record?.timestamp ?? null;
  student.source = record?.source ?? null;
  student.removedByPerson = !record;
  if (!record && state.undoing === rollNo) state.undoing = undefined;
  renderRoster();
}

function renderStatus() {
  const status = state.status;
  if (!status) return;
  page.session.dataset.phase = status.phase;
  const frames = `${status.framesProcessed} frame${status.framesProcessed === 1 ? '' : 's'}`;
  const texts = {
    idle: 'No session running.',
    enrolling: 'Starting: checking the students’ photos…',
    watching: `Watching the camera · ${frames} · ${status.recognizedThisSession} marked this session`,
    'source-ended': `The camera source has ended after ${frames} · ${status.recognizedThisSession} marked this session. Press Stop.`,
    stopping: 'Stopping…',
    failed: `The session failed: ${status.lastError ?? 'see the service log'}`,
  };
  page.session.textContent = texts[status.phase] ?? status.phase;
  if (status.lastError && status.phase !== 'failed') page.session.textContent += ` · camera problem: ${status.lastError}`;
  page.start.disabled = status.running;
  page.stop.disabled = !status.running;
}

async function refresh() {
  try {
    const [status, roster] = await Promise.all([apiJson('/status'), apiJson('/roster')]);
    state.status = status;
    state.roster = roster;
    renderStatus();
    renderRoster();
    if (!cameraLive(status)) showIdleSnapshot();
    if (state.unreachable) showMessage('');
    state.unreachable = false;
  } catch (error) {
    if (error instanceof Unauthorized) return;
    state.unreachable = true;
    showMessage(`Could not reach the service: ${error.message}`);
  }
}

function showIdleSnapshot() {
  page.snapshotCaption.textContent = state.snapshotUrl
    ? 'The last picture of the session.'
    : 'The camera picture shows here while a session watches.';
}

async function refreshSnapshot() {
  if (!cameraLive(state.status) || state.snapshotBusy || document.hidden) return;
  state.snapshotBusy = true;
  try {
    const response = await api('/snapshot.jpg');
    if (response.ok) {
      const url = URL.createObjectURL(await response.blob());
      if (state.snapshotUrl) URL.revokeObjectURL(state.snapshotUrl);
      state.snapshotUrl = url;
      page.snapshot.src = url;
      page.snapshot.hidden = false;
      page.snapshotCaption.textContent = `Taken at ${timeOf(response.headers.get('last-modified') ?? Date.now())}.`;
    } else {
      page.snapshotCaption.textContent = (await response.json()).message;
    }
  } catch (error) {
    if (!(error instanceof Unauthorized)) page.snapshotCaption.textContent = `No picture: ${error.message}`;
  } finally {
    state.snapshotBusy = false;
  }
}

function describeEvent(event) {
  switch (event.type) {
    case 'session-started': return `Session started (${event.students} students, ${event.camera})`;
    case 'session-stopped': return event.reason === 'failed' ? 'Session failed' : `Session stopped: ${event.recognizedThisSession} marked`;
    case 'student-present': return `${event.rollNo} present${event.source === 'photo' ? ' (class photo)' : ''}`;
    case 'attendance-corrected': {
      const { change } = event;
      const who = [change.by, change.reason].filter(Boolean).join(': ');
      const what = change.action === 'marked' ? `${change.rollNo} marked present by hand` : `${change.rollNo}'s mark removed`;
      return `${what}${change.date === state.roster?.day ? '' : ` for ${change.date}`}${who ? ` (${who})` : ''}`;
    }
    case 'recognition-ignored': return `${event.rollNo} seen, not marked: a person removed their mark today`;
    case 'enrollment-problem': return `${event.rollNo}: ${event.message}`;
    case 'camera-error': return `Camera: ${event.message}`;
    default: return event.type;
  }
}

function onEvent(event) {
  const item = document.createElement('li');
  item.textContent = `${timeOf(event.at)} ${describeEvent(event)}`;
  page.activity.prepend(item);
  while (page.activity.children.length > ACTIVITY_ITEMS) page.activity.lastElementChild.remove();
  // The row turns present at once; the refresh that follows brings the counts and the session line along.
  if (event.type === 'student-present') applyToRoster(event.day, event.rollNo, { timestamp: event.timestamp, source: event.source });
  if (event.type === 'attendance-corrected') applyToRoster(event.change.date, event.change.rollNo, event.record);
  void refresh();
}

/** Reads `GET /events` as a stream, forever: reconnects after a drop, asking for what it missed with Last-Event-ID. */
async function followEvents() {
  if (state.following) return;
  state.following = true;
  for (;;) {
    try {
      const headers = state.lastEventId === undefined ? {} : { 'last-event-id': state.lastEventId };
      const response = await api('/events', { headers });
      // Refused (too many pages open on this machine, say): the page polls meanwhile, and says why it is slower.
      state.liveUpdates = response.ok;
      if (!response.ok) showMessage(`Live updates are unavailable (${(await response.json().catch(() => ({}))).message ?? response.status}): the page refreshes every few seconds instead.`);
      if (response.ok) {
        if (page.message.textContent.startsWith('Live updates are unavailable')) showMessage('');
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value.replaceAll('\r\n', '\n');
          for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = block.split('\n').filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trimStart()).join('\n');
            const id = block.split('\n').find((line) => line.startsWith('id:'));
            if (id) state.lastEventId = id.slice(3).trim();
            if (data) onEvent(JSON.parse(data));
          }
        }
      }
    } catch (error) {
      if (error instanceof Unauthorized) {
        state.following = false;
        return;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
  }
}

async function post(path) {
  page.start.disabled = page.stop.disabled = true;
  try {
    const body = await apiJson(path, { method: 'POST' });
    showMessage('');
    return body;
  } catch (error) {
    if (!(error instanceof Unauthorized)) showMessage(error.message);
  } finally {
    await refresh();
  }
}

async function downloadCsv() {
  try {
    const response = await api('/attendance?format=csv&include=absent');
    if (!response.ok) throw new Error((await response.json()).message);
    const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? 'attendance.csv';
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement('a');
    link.href = url;
    link.download = name;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (error) {
    if (!(error instanceof Unauthorized)) showMessage(`Could not download the report: ${error.message}`);
  }
}

page.start.addEventListener('click', () => void post('/start-recognition'));
page.stop.addEventListener('click', () => void post('/stop-recognition'));
page.csv.addEventListener('click', () => void downloadCsv());
page.by.value = sessionStorage.getItem(BY_STORAGE) ?? '';
page.by.addEventListener('change', () => sessionStorage.setItem(BY_STORAGE, page.by.value.trim()));
page.keyForm.addEventListener('submit', (submit) => {
  submit.preventDefault();
  sessionStorage.setItem(KEY_STORAGE, page.key.value.trim());
  page.key.value = '';
  page.keyForm.hidden = true;
  showMessage('');
  void refresh();
  void followEvents();
});

let lastRefresh = Date.now();
setInterval(() => {
  // While unreachable too: once the service answers again, the buttons come back without a reload.
  if (state.status?.running || state.unreachable || state.liveUpdates === false || Date.now() - lastRefresh >= IDLE_POLL_MS) {
    lastRefresh = Date.now();
    void refresh();
  }
}, POLL_MS);
setInterval(() => void refreshSnapshot(), SNAPSHOT_MS);
void refresh();
void followEvents();
