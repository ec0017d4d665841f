// Event ids started again at 1 when the recognition service restarted, so a dashboard reconnecting with the id it last
// saw (a browser's EventSource does) was replayed nothing and missed every event until it reloaded. Ids now grow
// across restarts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SessionEvents, type PublishedEvent } from '../../src/recognition/session-events.ts';

test('a client reconnecting with an id from before a restart is replayed the new run’s events', () => {
  const before = new SessionEvents(new Date('2026-12-01T08:00:00Z'));
  for (let i = 0; i < 50; i++) before.publish({ type: 'session-started', sessionId: `s${i}`, students: 1, camera: 'dir', room: null });
  const lastSeen = (() => {
    let last = 0;
    before.subscribe((published) => (last = published.id), 0)();
    return last;
  })();

  const after = new SessionEvents(new Date('2026-12-01T08:00:05Z'));
  after.publish({ type: 'session-started', sessionId: 'after-restart', students: 1, camera: 'dir', room: null });
  const replayed: PublishedEvent[] = [];
  after.subscribe((published) => replayed.push(published), lastSeen)();
  assert.deepEqual(replayed.map((published) => (published.event as { sessionId: string }).sessionId), ['after-restart']);
  assert.ok(Number.isSafeInteger(replayed[0]!.id), 'ids stay exact as JSON numbers');
});

test('after a restart with the clock set back, a reconnecting client is replayed everything kept rather than nothing', () => {
  const before = new SessionEvents(new Date('2026-12-01T08:00:00Z'));
  before.publish({ type: 'session-started', sessionId: 'before', students: 1, camera: 'dir', room: null });
  let lastSeen = 0;
  before.subscribe((published) => (lastSeen = published.id), 0)();

  const after = new SessionEvents(new Date('2026-12-01T07:00:00Z'));
  after.publish({ type: 'session-started', sessionId: 'after-restart', students: 1, camera: 'dir', room: null });
  const replayed: string[] = [];
  after.subscribe((published) => replayed.push((published.event as { sessionId: string }).sessionId), lastSeen)();
  assert.deepEqual(replayed, ['after-restart']);
  let newest = 0;
  after.subscribe((published) => (newest = published.id), 0)();
  const upToDate: string[] = [];
  after.subscribe((published) => upToDate.push((published.event as { sessionId: string }).sessionId), newest)();
  assert.deepEqual(upToDate, [], 'a client that saw the newest event is replayed nothing');
});
