import { DESCRIPTOR_LENGTH } from '../faces/face-descriptor.ts';
import { decodeDescriptor, type CachedStudents } from '../storage/descriptor-store.ts';
import { ownEntry, photoUrls, type Student } from '../storage/student-store.ts';

/**
 * The cached descriptors of each registered student outside a session's class: photos some session has encoded, under
 * the student's current URLs, for `FaceMatcher`'s `otherClasses` (compared with every face, never marked). Students
 * in no class count as outside it. No rollNos: the worker needs none. A cache entry of someone no longer on the roster
 * is never used, and a descriptor of the wrong length is left out rather than failing every room's session.
 */
export function otherClassDescriptors(roster: readonly Student[], inClass: readonly Student[], cached: CachedStudents): Float32Array[][] {
  const classRollNos = new Set(inClass.map((student) => student.rollNo));
  return roster.flatMap((student) => {
    if (classRollNos.has(student.rollNo)) return [];
    const urls = photoUrls(student);
    const descriptors = (ownEntry(cached, student.rollNo) ?? [])
      .filter((photo) => urls.includes(photo.url))
      .map((photo) => decodeDescriptor(photo.descriptor))
      .filter((descriptor) => descriptor.length === DESCRIPTOR_LENGTH);
    return descriptors.length > 0 ? [descriptors] : [];
  });
}
