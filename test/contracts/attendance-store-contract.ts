// The behaviour every AttendanceStore must have, written once for all implementations (as @keyv/test-suite does for
// Keyv's stores): a test file calls `attendanceStoreContract` with a factory that gives a fresh, empty store.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { AttendanceStore, Correction } from '../../src/storage/attendance-store.ts';
import type { StillCurrent } from '../../src/storage/student-store.ts';

export interface StoreUnderTest {
  store: AttendanceStore;
  /** Releases what the factory made (a temporary folder, a database schema). */
  dispose(): Promise<void>;
}

const camera = (rollNo: string, timestamp: string) => ({ rollNo, timestamp, sessionId: 'session-1', distance: 0.41 });
const photo = (rollNo: string, timestamp: string) => ({ rollNo, timestamp, source: 'photo' as const, sessionId: 'photo-session-1', distance: 0.37, room: 'room-101' });
const byHand = (rollNo: string, at: string, by: string | null = 'Ms Rao', reason: string | null = 'came late'): Correction => ({ rollNo, at, by, reason });
const only =
  (...allowed: string[]): StillCurrent =>
  async (rollNos) =>
    new Set(rollNos.filter((rollNo) => allowed.includes(rollNo)));
const rollNosOf = (records: { rollNo: string }[]) => records.map((record) => record.rollNo);

export function attendanceStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`${name} keeps the AttendanceStore contract`, () => {
    let underTest: StoreUnderTest;
    let store: AttendanceStore;
    beforeEach(async () => {
      underTest = await makeStore();
      store = underTest.store;
    });
    afterEach(() => underTest.dispose());

    test('the camera marks a student once per day, with the session and the match distance', async () => {
      assert.equal(await store.markPresent('2025-09-06', camera('a1', '2025-09-06T03:30:00Z')), 'marked');
      assert.equal(await store.markPresent('2025-09-06', camera('a1', '2025-09-06T04:00:00Z')), 'already-present');
      assert.equal(await store.markPresent('2025-09-07', camera('a1', '2025-09-07T03:30:00Z')), 'marked');
      assert.deepEqual(await store.listDay('2025-09-06'), [
        { rollNo: 'a1', timestamp: '2025-09-06T03:30:00Z', source: 'camera', sessionId: 'session-1', distance: 0.41 },
      ]);
      assert.deepEqual(await store.listDay('2025-09-08'), []);
    });

    test('a camera mark without a session or a distance keeps them as null', async () => {
      await store.markPresent('2025-09-06', { rollNo: 'a1', timestamp: '2025-09-06T03:30:00Z' });
      assert.deepEqual(await store.listDay('2025-09-06'), [{ rollNo: 'a1', timestamp: '2025-09-06T03:30:00Z', source: 'camera', sessionId: null, distance: null }]);
    });

    test('a class photo marks a student once per day, saying so, with its session, the match distance and the room', async () => {
      assert.equal(await store.markPresent('2025-09-06', photo('a1', '2025-09-06T03:30:00Z')), 'marked');
      assert.equal(await store.markPresent('2025-09-06', photo('a1', '2025-09-06T03:40:00Z')), 'already-present', 'a second photo that day');
      assert.equal(await store.markPresent('2025-09-06', camera('a1', '2025-09-06T03:50:00Z')), 'already-present', 'the camera after the photo');
      assert.deepEqual((await store.markManually('2025-09-06', byHand('a1', '2025-09-06T04:00:00Z'))).outcome, 'already-present', 'a person after the photo');
      const fromPhoto = { rollNo: 'a1', timestamp: '2025-09-06T03:30:00Z', source: 'photo', sessionId: 'photo-session-1', distance: 0.37, room: 'room-101' };
      assert.deepEqual(await store.listDay('2025-09-06'), [fromPhoto]);
      assert.deepEqual(await store.listRange('2025-09-01', '2025-09-30'), [{ day: '2025-09-06', records: [fromPhoto] }]);
      assert.deepEqual(await store.listChanges('2025-09-06', '2025-09-06'), [], 'a photo mark is not a change by a person');
    });

    test('a student the camera or a person marked first is not marked again by a class photo, and keeps their record', async () => {
      await store.markPresent('2025-09-06', camera('a1', '2025-09-06T03:30:00Z'));
      await store.markManually('2025-09-06', byHand('b2', '2025-09-06T03:31:00Z'));
      assert.equal(await store.markPresent('2025-09-06', photo('a1', '2025-09-06T04:00:00Z')), 'already-present');
      assert.equal(await store.markPresent('2025-09-06', photo('b2', '2025-09-06T04:00:00Z')), 'already-present');
      assert.deepEqual((await store.listDay('2025-09-06')).map((record) => [record.rollNo, record.source]), [['a1', 'camera'], ['b2', 'manual']]);
    });

    test('a person removes a photo mark like any other; the change keeps it, and no class photo marks them again that day', async () => {
      await store.markPresent('2025-09-06', photo('a1', '2025-09-06T03:30:00Z'));
      const removed = await store.removeMark('2025-09-06', byHand('a1', '2025-09-06T06:00:00Z', 'Mr Iyer', 'wrong student'));
      assert.deepEqual(removed?.before, { rollNo: 'a1', timestamp: '2025-09-06T03:30:00Z', source: 'photo', sessionId: 'photo-session-1', distance: 0.37, room: 'room-101' });
      assert.deepEqual(await store.listChanges('2025-09-06', '2025-09-06'), [removed]);
      assert.equal(await store.markPresent('2025-09-06', photo('a1', '2025-09-06T07:00:00Z')), 'removed-by-person');
      assert.equal(await store.markPresent('2025-09-06', camera('a1', '2025-09-06T07:01:00Z')), 'removed-by-person');
      assert.deepEqual(await store.listDay('2025-09-06'), []);
      assert.deepEqual(await store.removeStudent('a1'), { records: 0, changes: 1 });
    });

    test('a student stillCurrent no longer allows is not marked, by the camera, a class photo or by hand', async () => {
      assert.equal(await store.markPresent('2025-09-06', camera('gone', '2025-09-06T03:30:00Z'), only('a1')), 'not-current');
      assert.equal(await store.markPresent('2025-09-06', photo('gone', '2025-09-06T03:30:00Z'), only('a1')), 'not-current', 'nor by a class photo');
      assert.deepEqual(await store.markManually('2025-09-06', byHand('gone', '2025-09-06T03:31:00Z'), only('a1')), { outcome: 'not-current' });
      assert.equal(await store.markPresent('2025-09-06', camera('a1', '2025-09-06T03:32:00Z'), only('a1')), 'marked');
      assert.deepEqual(rollNosOf(await store.listDay('2025-09-06')), ['a1']);
      assert.deepEqual(await store.markManually('2025-09-06', byHand('a1', '2025-09-06T03:33:00Z'), only()), { outcome: 'not-current' }, 'a kept record does not put a removed student back on the roster');
      assert.deepEqual(await store.listChanges('2025-09-06', '2025-09-06'), []);
    });

    test('a person marks a student present with who and why, and a change entry says so', async () => {
      const marked = await store.markManually('2025-09-06', byHand('b2', '2025-09-06T05:00:00Z'));
      const record = { rollNo: 'b2', timestamp: '2025-09-06T05:00:00Z', source: 'manual', by: 'Ms Rao', reason: 'came late' };
      const change = { at: '2025-09-06T05:00:00Z', date: '2025-09-06', rollNo: 'b2', action: 'marked', by: 'Ms Rao', reason: 'came late', before: null };
      assert.deepEqual(marked, { outcome: 'marked', record, change });
      assert.deepEqual(await store.listDay('2025-09-06'), [record]);
      assert.deepEqual(await store.listChanges('2025-09-06', '2025-09-06'), [change]);
    });

    test('marking by hand a student already present changes nothing and says who marked them', async () => {
      await store.markPresent('2025-09-06', camera('a1', '2025-09-06T03:30:00Z'));
      await store.markManually('2025-09-06', byHand('b2', '2025-09-06T05:00:00Z', null, null));
      const again = await store.markManually('2025-09-06', byHand('a1', '2025-09-06T05:01:00Z'));
      assert.deepEqual(again, { outcome: 'already-present', record: { rollNo: 'a1', timestamp: '2025-09-06T03:30:00Z', source: 'camera', sessionId: 'session-1', distance: 0.41 } });
      const twice = await store.markManually('2025-09-06', byHand('b2', '2025-09-06T05:02:00Z'));
      assert.deepEqual(twice, { outcome: 'already-present', record: { rollNo: 'b2', timestamp: '2025-09-06T05:00:00Z', source: 'manual', by: null, reason: null } });
      assert.equal((await store.listChanges('2025-09-06', '2025-09-06')).length, 1, 'only the first manual mark is a change');
    });

    test('a person removes a mark, whoever made it; the change keeps the record as it was', async () => {
      await store.markPresent('2025-09-06', camera('a1', '2025-09-06T03:30:00Z'));
      await store.markManually('2025-09-06', byHand('b2', '2025-09-06T05:00:00Z'));
      const removedCamera = await store.removeMark('2025-09-06', byHand('a1', '2025-09-06T06:00:00Z', 'Mr Iyer', 'wrong student'));
      assert.deepEqual(removedCamera, {
        at: '2025-09-06T06:00:00Z',
        date: '2025-09-06',
        rollNo: 'a1',
        action: 'removed',
        by: 'Mr Iyer',
        reason: 'wrong student',
        before: { rollNo: 'a1', timestamp: '2025-09-06T03:30:00Z', source: 'camera', sessionId: 'session-1', distance: 0.41 },
      });
      const removedManual = await store.removeMark('2025-09-06', byHand('b2', '2025-09-06T06:01:00Z', null, null));
      assert.deepEqual(removedManual?.before, { rollNo: 'b2', timestamp: '2025-09-06T05:00:00Z', source: 'manual', by: 'Ms Rao', reason: 'came late' });
      assert.deepEqual(await store.listDay('2025-09-06'), []);
      assert.deepEqual(await store.listRange('2025-09-01', '2025-09-30'), [], 'a day emptied by removals is no longer a day with a roll call');
    });

    test('removing a mark that does not exist resolves undefined and records nothing', async () => {
      await store.markPresent('2025-09-06', camera('a1', '2025-09-06T03:30:00Z'));
      assert.equal(await store.removeMark('2025-09-07', byHand('a1', '2025-09-07T06:00:00Z')), undefined);
      assert.equal(await store.removeMark('2025-09-06', byHand('b2', '2025-09-06T06:00:00Z')), undefined);
      assert.deepEqual(await store.listChanges('2025-01-01', '2025-12-31'), []);
    });

    test('the camera does not mark again that day a student whose mark a person removed', async () => {
      await store.markPresent('2025-09-06', camera('a1', '2025-09-06T03:30:00Z'));
      await store.removeMark('2025-09-06', byHand('a1', '2025-09-06T06:00:00Z'));
      assert.equal(await store.markPresent('2025-09-06', camera('a1', '2025-09-06T07:00:00Z')), 'removed-by-person');
      assert.deepEqual(await store.listDay('2025-09-06'), []);
      assert.equal(await store.markPresent('2025-09-07', camera('a1', '2025-09-07T03:30:00Z')), 'marked', 'the next day is a new day');
      assert.equal(await store.markPresent('2025-09-06', camera('b2', '2025-09-06T07:00:00Z')), 'marked', 'other students are not affected');
    });

    test('a person can mark again a student they removed; removed again, the camera still stays out', async () => {
      await store.markManually('2025-09-06', byHand('a1', '2025-09-06T05:00:00Z'));
      await store.removeMark('2025-09-06', byHand('a1', '2025-09-06T05:10:00Z'));
      assert.equal((await store.markManually('2025-09-06', byHand('a1', '2025-09-06T05:20:00Z'))).outcome, 'marked');
      assert.equal(await store.markPresent('2025-09-06', camera('a1', '2025-09-06T05:30:00Z')), 'already-present');
      await store.removeMark('2025-09-06', byHand('a1', '2025-09-06T05:40:00Z'));
      assert.equal(await store.markPresent('2025-09-06', camera('a1', '2025-09-06T05:50:00Z')), 'removed-by-person');
      const changes = await store.listChanges('2025-09-06', '2025-09-06');
      assert.deepEqual(changes.map((change) => [change.at, change.action]), [
        ['2025-09-06T05:00:00Z', 'marked'],
        ['2025-09-06T05:10:00Z', 'removed'],
        ['2025-09-06T05:20:00Z', 'marked'],
        ['2025-09-06T05:40:00Z', 'removed'],
      ]);
    });

    test('changes are listed for the days asked, oldest first, whatever day they changed', async () => {
      await store.markManually('2025-09-08', byHand('a1', '2025-09-08T05:00:00Z'));
      await store.markManually('2025-09-06', byHand('b2', '2025-09-08T05:01:00Z'));
      await store.markManually('2025-10-01', byHand('c3', '2025-10-01T05:00:00Z'));
      await store.removeMark('2025-09-08', byHand('a1', '2025-10-01T05:02:00Z'));
      const september = await store.listChanges('2025-09-01', '2025-09-30');
      assert.deepEqual(september.map((change) => [change.date, change.rollNo, change.action]), [
        ['2025-09-08', 'a1', 'marked'],
        ['2025-09-06', 'b2', 'marked'],
        ['2025-09-08', 'a1', 'removed'],
      ]);
      assert.deepEqual(rollNosOf(await store.listChanges('2025-09-06', '2025-09-06')), ['b2']);
      assert.deepEqual(await store.listChanges('2025-09-07', '2025-09-07'), []);
    });

    test("erasing a student removes their records and change entries on every day, and nobody else's", async () => {
      await store.markPresent('2025-09-06', camera('a1', '2025-09-06T03:30:00Z'));
      await store.markPresent('2025-09-06', camera('b2', '2025-09-06T03:31:00Z'));
      await store.removeMark('2025-09-06', byHand('a1', '2025-09-06T06:00:00Z'));
      await store.markManually('2025-09-07', byHand('a1', '2025-09-07T05:00:00Z'));
      await store.markManually('2025-09-07', byHand('b2', '2025-09-07T05:01:00Z'));
      assert.deepEqual(await store.removeStudent('a1'), { records: 1, changes: 2 });
      assert.deepEqual(rollNosOf(await store.listDay('2025-09-06')), ['b2']);
      assert.deepEqual(rollNosOf(await store.listDay('2025-09-07')), ['b2']);
      assert.deepEqual(rollNosOf(await store.listChanges('2025-09-01', '2025-09-30')), ['b2']);
      assert.deepEqual(await store.removeStudent('a1'), { records: 0, changes: 0 });
      assert.equal(await store.markPresent('2025-09-06', camera('a1', '2025-09-06T08:00:00Z')), 'marked', 'an erased removal no longer holds the camera off');
    });

    test('rollNos named like JavaScript built-ins are ordinary rollNos', async () => {
      for (const rollNo of ['toString', 'constructor', 'valueOf', 'hasOwnProperty']) {
        assert.equal(await store.markPresent('2025-09-06', camera(rollNo, '2025-09-06T03:30:00Z')), 'marked', rollNo);
        assert.ok(await store.removeMark('2025-09-06', byHand(rollNo, '2025-09-06T04:00:00Z')), rollNo);
        assert.equal(await store.markPresent('2025-09-06', camera(rollNo, '2025-09-06T05:00:00Z')), 'removed-by-person', rollNo);
        assert.equal((await store.markManually('2025-09-07', byHand(rollNo, '2025-09-07T05:00:00Z'))).outcome, 'marked', rollNo);
      }
      assert.deepEqual(rollNosOf(await store.listDay('2025-09-07')), ['toString', 'constructor', 'valueOf', 'hasOwnProperty']);
      assert.deepEqual(await store.removeStudent('toString'), { records: 1, changes: 2 });
      assert.deepEqual(await store.removeStudent('isPrototypeOf'), { records: 0, changes: 0 });
    });

    test('concurrent marks and removals of one student leave one consistent outcome', async () => {
      const outcomes = await Promise.all([
        store.markPresent('2025-09-06', camera('a1', '2025-09-06T03:30:00Z')),
        store.markManually('2025-09-06', byHand('a1', '2025-09-06T03:30:00Z')).then((marked) => marked.outcome),
        store.markPresent('2025-09-06', camera('a1', '2025-09-06T03:30:01Z')),
        store.markManually('2025-09-06', byHand('a1', '2025-09-06T03:30:01Z')).then((marked) => marked.outcome),
      ]);
      assert.equal(outcomes.filter((outcome) => outcome === 'marked').length, 1, `one mark wins: ${outcomes.join(', ')}`);
      assert.equal((await store.listDay('2025-09-06')).length, 1);
      const removals = await Promise.all([1, 2, 3].map((i) => store.removeMark('2025-09-06', byHand('a1', `2025-09-06T04:00:0${i}Z`))));
      assert.equal(removals.filter(Boolean).length, 1, 'one removal finds the mark');
      assert.deepEqual(await store.listDay('2025-09-06'), []);
      const changes = await store.listChanges('2025-09-06', '2025-09-06');
      assert.equal(changes.filter((change) => change.action === 'removed').length, 1);
    });
  });
}
