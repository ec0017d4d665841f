// The behaviour every StudentStore, EnrollmentStore and DescriptorStore must have, written once for all
// implementations: a test file calls each contract with a factory that gives fresh, empty stores.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { DESCRIPTOR_LENGTH } from '../../src/faces/face-descriptor.ts';
import type { DescriptorStore } from '../../src/storage/descriptor-store.ts';
import type { EnrollmentStore } from '../../src/storage/enrollment-store.ts';
import type { StudentErasure } from '../../src/storage/student-erasure.ts';
import type { RosterLookup, StillCurrent, StudentStore } from '../../src/storage/student-store.ts';
import type { AttendanceStore } from '../../src/storage/attendance-store.ts';

export interface StoresUnderTest {
  students: StudentStore;
  enrollments: EnrollmentStore;
  descriptors: DescriptorStore;
  attendance: AttendanceStore;
  erasure: StudentErasure;
  /** Releases what the factory made (a temporary folder, a database). */
  dispose(): Promise<void>;
}

const AT = '2025-09-06T03:00:00.000Z';
const student = (rollNo: string, url = `https://photos.example/${rollNo}.jpg`) => ({ rollNo, url });
const usable = (url: string) => ({ usable: true as const, url, checkedAt: '2025-09-06T03:30:00Z' });
const photo = (url: string, byte: number) => ({ url, sha256: byte.toString(16).padStart(2, '0').repeat(32), descriptor: Buffer.alloc(DESCRIPTOR_LENGTH * 4, byte).toString('base64') });
/** Allows the students the roster still has, reading it the way the store offers (inside its write, when it can). */
const registered =
  (students: StudentStore): StillCurrent =>
  async (rollNos, lookup?: RosterLookup) => {
    const found = lookup ? await lookup(rollNos) : await students.list();
    return new Set(found.map((one) => one.rollNo).filter((rollNo) => rollNos.includes(rollNo)));
  };
const BUILT_INS = ['toString', 'constructor', 'valueOf', 'hasOwnProperty'];

function withStores(name: string, makeStores: () => Promise<StoresUnderTest>, body: (stores: () => StoresUnderTest) => void): void {
  describe(name, () => {
    let underTest: StoresUnderTest;
    beforeEach(async () => {
      underTest = await makeStores();
    });
    afterEach(() => underTest.dispose());
    body(() => underTest);
  });
}

export function studentStoreContract(name: string, makeStores: () => Promise<StoresUnderTest>): void {
  withStores(`${name} keeps the StudentStore contract`, makeStores, (stores) => {
    test('adds new students in order, skips rollNos already registered or repeated in the request', async () => {
      const { students } = stores();
      assert.deepEqual(await students.addMany([student('a1'), student('b2'), student('a1', 'https://photos.example/other.jpg')], AT), { added: 2, skipped: 1 });
      assert.deepEqual(await students.addMany([student('b2'), student('c3')], AT), { added: 1, skipped: 1 });
      assert.deepEqual(await students.list(), [
        { rollNo: 'a1', url: 'https://photos.example/a1.jpg', registeredAt: AT },
        { rollNo: 'b2', url: 'https://photos.example/b2.jpg', registeredAt: AT },
        { rollNo: 'c3', url: 'https://photos.example/c3.jpg', registeredAt: AT },
      ]);
      assert.deepEqual(await students.get('b2'), { rollNo: 'b2', url: 'https://photos.example/b2.jpg', registeredAt: AT });
      assert.equal(await students.get('zz'), undefined);
    });

    test('keeps every photo of a student, url first', async () => {
      const { students } = stores();
      const urls = ['https://photos.example/a1.jpg', 'https://photos.example/a1-side.jpg'];
      await students.addMany([{ rollNo: 'a1', url: urls[0]!, urls }], AT);
      assert.deepEqual(await students.get('a1'), { rollNo: 'a1', url: urls[0], urls, registeredAt: AT });
    });

    test('with a classId, new students are in the class and registered ones join it without being counted as added', async () => {
      const { students } = stores();
      await students.addMany([student('a1')], AT);
      assert.deepEqual(await students.addMany([student('a1'), student('b2')], AT, '7-b'), { added: 1, skipped: 1 });
      assert.deepEqual(await students.addMany([student('a1')], AT, '8-a'), { added: 0, skipped: 1 });
      assert.deepEqual(await students.addMany([student('a1')], AT, '8-a'), { added: 0, skipped: 1 }, 'joining twice changes nothing');
      const byRollNo = new Map((await students.list()).map((one) => [one.rollNo, one.classes]));
      assert.deepEqual(byRollNo.get('a1'), ['7-b', '8-a']);
      assert.deepEqual(byRollNo.get('b2'), ['7-b']);
    });

    test('new photos replace every earlier one, one or several; removal says whether the student was there', async () => {
      const { students } = stores();
      await students.addMany([{ rollNo: 'a1', url: 'https://photos.example/1.jpg', urls: ['https://photos.example/1.jpg', 'https://photos.example/2.jpg'] }], AT);
      const updated = await students.replacePhoto('a1', { url: 'https://photos.example/3.jpg' }, '2025-09-07T00:00:00.000Z');
      assert.deepEqual(updated, { rollNo: 'a1', url: 'https://photos.example/3.jpg', registeredAt: AT, photoReplacedAt: '2025-09-07T00:00:00.000Z' });
      assert.deepEqual(await students.get('a1'), updated);
      assert.equal(await students.replacePhoto('zz', { url: 'https://photos.example/3.jpg' }, AT), undefined);
      const several = { url: 'https://photos.example/4.jpg', urls: ['https://photos.example/4.jpg', 'https://photos.example/5.jpg'] };
      assert.deepEqual(await students.replacePhoto('a1', several, 'later'), { ...updated, ...several, photoReplacedAt: 'later' }, 'several new photos are kept as several');
      assert.deepEqual((await students.get('a1'))?.urls, several.urls);
      assert.equal(await students.remove('a1'), true);
      assert.equal(await students.remove('a1'), false);
      assert.deepEqual(await students.list(), []);
    });

    test('concurrent additions of overlapping students store each once', async () => {
      const { students } = stores();
      const batches = [0, 1, 2, 3].map((batch) => Array.from({ length: 20 }, (_, i) => student(`s${batch * 10 + i}`)));
      const results = await Promise.all(batches.map((batch) => students.addMany(batch, AT)));
      assert.equal(results.reduce((sum, result) => sum + result.added, 0), 50);
      const rollNos = (await students.list()).map((one) => one.rollNo);
      assert.equal(rollNos.length, 50);
      assert.equal(new Set(rollNos).size, 50);
    });

    test('rollNos named like JavaScript built-ins are ordinary rollNos', async () => {
      const { students } = stores();
      assert.deepEqual(await students.addMany(BUILT_INS.map((rollNo) => student(rollNo)), AT), { added: 4, skipped: 0 });
      assert.deepEqual(await students.addMany([student('toString')], AT), { added: 0, skipped: 1 });
      assert.equal((await students.get('constructor'))?.rollNo, 'constructor');
      assert.equal(await students.get('isPrototypeOf'), undefined);
      assert.equal(await students.remove('valueOf'), true);
    });
  });
}

export function enrollmentStoreContract(name: string, makeStores: () => Promise<StoresUnderTest>): void {
  withStores(`${name} keeps the EnrollmentStore contract`, makeStores, (stores) => {
    test('records, replaces, reads and forgets outcomes', async () => {
      const { enrollments } = stores();
      const problem = { usable: false as const, url: 'https://photos.example/b2.jpg', checkedAt: '2025-09-06T03:30:00Z', code: 'NO_FACE_FOUND' as const, message: 'no face' };
      await enrollments.recordMany({ a1: usable('https://photos.example/a1.jpg'), b2: problem });
      await enrollments.recordMany({ a1: usable('https://photos.example/a1-new.jpg') });
      assert.deepEqual(await enrollments.list(), { a1: usable('https://photos.example/a1-new.jpg'), b2: problem });
      assert.deepEqual(await enrollments.get('b2'), problem);
      assert.equal(await enrollments.get('c3'), undefined);
      assert.equal(await enrollments.remove('b2'), true);
      assert.equal(await enrollments.remove('b2'), false);
      assert.deepEqual(Object.keys(await enrollments.list()), ['a1']);
    });

    test('keeps the count of background faces a usable photo had, and an outcome without it stays without', async () => {
      const { enrollments } = stores();
      const withBackground = { ...usable('https://photos.example/a1.jpg'), backgroundFaces: 2 };
      await enrollments.recordMany({ a1: withBackground, b2: usable('https://photos.example/b2.jpg') });
      assert.deepEqual(await enrollments.get('a1'), withBackground);
      assert.deepEqual(await enrollments.list(), { a1: withBackground, b2: usable('https://photos.example/b2.jpg') });
    });

    test('records only the students stillCurrent allows', async () => {
      const { students, enrollments } = stores();
      await students.addMany([student('a1')], AT);
      await enrollments.recordMany({ a1: usable('u1'), gone: usable('u2') }, registered(students));
      assert.deepEqual(Object.keys(await enrollments.list()), ['a1']);
    });

    test('rollNos named like JavaScript built-ins are ordinary rollNos', async () => {
      const { enrollments } = stores();
      await enrollments.recordMany(Object.fromEntries(BUILT_INS.map((rollNo) => [rollNo, usable(rollNo)])));
      assert.deepEqual((await enrollments.get('toString'))?.url, 'toString');
      assert.equal(await enrollments.get('isPrototypeOf'), undefined);
      assert.equal(await enrollments.remove('isPrototypeOf'), false);
      assert.equal(await enrollments.remove('constructor'), true);
      assert.deepEqual(Object.keys(await enrollments.list()).sort(), ['hasOwnProperty', 'toString', 'valueOf']);
    });
  });
}

export function descriptorStoreContract(name: string, makeStores: () => Promise<StoresUnderTest>): void {
  withStores(`${name} keeps the DescriptorStore contract`, makeStores, (stores) => {
    test('keeps the photos of each student for one model version, replacing a student’s photos as a whole', async () => {
      const { students, descriptors } = stores();
      await students.addMany([student('a1'), student('b2')], AT);
      await descriptors.recordMany('model-1', { a1: [photo('u1', 1), photo('u2', 2)], b2: [photo('u3', 3)] }, registered(students));
      await descriptors.recordMany('model-1', { a1: [photo('u4', 4)] }, registered(students));
      assert.deepEqual(await descriptors.list('model-1'), { a1: [photo('u4', 4)], b2: [photo('u3', 3)] });
      assert.deepEqual(await descriptors.list('model-2'), {}, 'another model version knows nothing');
      await descriptors.recordMany('model-2', { b2: [photo('u5', 5)] }, registered(students));
      assert.deepEqual(await descriptors.list('model-2'), { b2: [photo('u5', 5)] }, 'a new model version drops the older entries');
      assert.deepEqual(await descriptors.list('model-1'), {});
    });

    test('keeps the count of background faces beside a photo that had them, and none beside one that had none', async () => {
      const { students, descriptors } = stores();
      await students.addMany([student('a1')], AT);
      const withBackground = { ...photo('u1', 1), backgroundFaces: 3 };
      await descriptors.recordMany('model-1', { a1: [withBackground, photo('u2', 2)] }, registered(students));
      assert.deepEqual(await descriptors.list('model-1'), { a1: [withBackground, photo('u2', 2)] });
    });

    test('writes back nothing for a student removed since, and forgets a student on remove', async () => {
      const { students, descriptors } = stores();
      await students.addMany([student('a1'), student('b2')], AT);
      await students.remove('b2');
      await descriptors.recordMany('model-1', { a1: [photo('u1', 1)], b2: [photo('u2', 2)] }, registered(students));
      assert.deepEqual(Object.keys(await descriptors.list('model-1')), ['a1']);
      assert.equal(await descriptors.remove('a1'), true);
      assert.equal(await descriptors.remove('a1'), false);
      assert.deepEqual(await descriptors.list('model-1'), {});
    });

    test('rollNos named like JavaScript built-ins are ordinary rollNos', async () => {
      const { students, descriptors } = stores();
      await students.addMany(BUILT_INS.map((rollNo) => student(rollNo)), AT);
      await descriptors.recordMany('model-1', Object.fromEntries(BUILT_INS.map((rollNo, i) => [rollNo, [photo(rollNo, i)]])), registered(students));
      assert.deepEqual(Object.keys(await descriptors.list('model-1')).sort(), [...BUILT_INS].sort());
      assert.equal(await descriptors.remove('isPrototypeOf'), false);
      assert.equal(await descriptors.remove('toString'), true);
    });
  });
}

export function erasureContract(name: string, makeStores: () => Promise<StoresUnderTest>): void {
  withStores(`${name} keeps the StudentErasure contract`, makeStores, (stores) => {
    test('erasure removes the student and everything derived from them, attendance only when asked', async () => {
      const { students, enrollments, descriptors, attendance, erasure } = stores();
      await students.addMany([student('a1'), student('b2')], AT);
      await enrollments.recordMany({ a1: usable('u1'), b2: usable('u2') });
      await descriptors.recordMany('model-1', { a1: [photo('u1', 1)], b2: [photo('u2', 2)] }, registered(students));
      await attendance.markPresent('2025-09-06', { rollNo: 'a1', timestamp: '2025-09-06T03:30:00Z' });
      await attendance.markPresent('2025-09-06', { rollNo: 'b2', timestamp: '2025-09-06T03:31:00Z' });
      assert.deepEqual(await erasure.erase('a1', false), {
        removedFromRoster: true,
        removedEnrollmentOutcome: true,
        removedDescriptors: true,
        removedAttendanceRecords: 0,
        removedAttendanceChanges: 0,
      });
      assert.deepEqual((await attendance.listDay('2025-09-06')).map((record) => record.rollNo), ['a1', 'b2'], 'attendance is kept by default');
      assert.deepEqual(await erasure.erase('b2', true), {
        removedFromRoster: true,
        removedEnrollmentOutcome: true,
        removedDescriptors: true,
        removedAttendanceRecords: 1,
        removedAttendanceChanges: 0,
      });
      assert.deepEqual(await students.list(), []);
      assert.deepEqual(await enrollments.list(), {});
      assert.deepEqual(await descriptors.list('model-1'), {});
      assert.deepEqual((await attendance.listDay('2025-09-06')).map((record) => record.rollNo), ['a1']);
    });

    test('a mark checked against the roster while the student is erased is either erased with them or not written', async () => {
      const { students, attendance, erasure } = stores();
      await students.addMany([student('a1')], AT);
      const [outcome] = await Promise.all([
        attendance.markPresent('2025-09-06', { rollNo: 'a1', timestamp: '2025-09-06T03:30:00Z' }, registered(students)),
        erasure.erase('a1', true),
      ]);
      assert.ok(outcome === 'marked' || outcome === 'not-current', outcome);
      assert.deepEqual(await attendance.listDay('2025-09-06'), [], 'no mark outlives the erasure');
    });
  });
}
