import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DESCRIPTOR_LENGTH, DLIB_LENGTH } from '../src/faces/face-descriptor.ts';
import { otherClassDescriptors } from '../src/recognition/other-class-descriptors.ts';
import { encodeDescriptor, type CachedStudents } from '../src/storage/descriptor-store.ts';
import type { Student } from '../src/storage/student-store.ts';
import { fusedDescriptor } from './helpers/descriptors.ts';

const descriptorOf = (value: number) => fusedDescriptor([value]);
const photo = (url: string, value: number, length = DESCRIPTOR_LENGTH) => ({
  url,
  sha256: '0'.repeat(64),
  descriptor: encodeDescriptor(length === DESCRIPTOR_LENGTH ? descriptorOf(value) : new Float32Array(length)),
});

test("a room compares the other classes' cached students: not its own, not an old photo, not someone erased", () => {
  const roster: Student[] = [
    { rollNo: 'in-class', url: 'https://p.invalid/a.jpg', classes: ['7-b'] },
    { rollNo: 'in-both', url: 'https://p.invalid/b.jpg', classes: ['7-b', '8-a'] },
    { rollNo: 'other-class', url: 'https://p.invalid/c.jpg', urls: ['https://p.invalid/c.jpg', 'https://p.invalid/c2.jpg'], classes: ['8-a'] },
    { rollNo: 'no-class', url: 'https://p.invalid/d.jpg' },
    { rollNo: 'new-photo', url: 'https://p.invalid/e-new.jpg', classes: ['8-a'] },
    { rollNo: 'never-encoded', url: 'https://p.invalid/f.jpg', classes: ['8-a'] },
    { rollNo: 'corrupt', url: 'https://p.invalid/g.jpg', classes: ['8-a'] },
  ];
  const cached: CachedStudents = {
    'in-class': [photo('https://p.invalid/a.jpg', 1)],
    'in-both': [photo('https://p.invalid/b.jpg', 2)],
    'other-class': [photo('https://p.invalid/c.jpg', 3), photo('https://p.invalid/c2.jpg', 4)],
    'no-class': [photo('https://p.invalid/d.jpg', 5)],
    'new-photo': [photo('https://p.invalid/e-old.jpg', 6)],
    // dlib's 128 values alone, as cached before faceres: left out.
    corrupt: [photo('https://p.invalid/g.jpg', 7, DLIB_LENGTH)],
    erased: [photo('https://p.invalid/h.jpg', 8)],
  };
  const inClass = roster.filter((student) => student.classes?.includes('7-b'));
  const firstValues = otherClassDescriptors(roster, inClass, cached).map((photos) => photos.map((descriptor) => descriptor[0]));
  assert.deepEqual(firstValues, [[3, 4], [5]], 'the other class with both photos, and the student in no class');
});
