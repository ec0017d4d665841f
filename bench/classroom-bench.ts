// `npm run bench`'s classroom runs: a seated class at 1280x720 (24 and 40 seats) and at 1920x1080 (40 seats) through the real recognition service,
// and a 12-megapixel class photo of 30 posted to /recognize-photo; from ../shared/faces when it is there (enough people
// for 21 present students), else from the test fixtures.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CLASSROOM_24, CLASSROOM_40, CLASSROOM_40_1080P, composeClassroom, faceInPhoto, seatOf, type ClassroomLayout, type Occupant } from '../src/evaluation/classroom-scene.ts';
import { loadLabelledSet } from '../src/evaluation/labelled-photos.ts';
import type { FaceBox, FaceEngine } from '../src/faces/face-engine.ts';
import { findPortraitFaces } from '../src/faces/find-faces.ts';
import { FIXTURES } from './bench-faces.ts';
import { markedIn, peakRssMb, servePhotos, startRecognition } from './service-bench.ts';
import { round } from './stream-throughput.ts';

const SHARED_MANIFEST = path.resolve(import.meta.dirname, '../../shared/faces/MANIFEST.tsv');
const FIXTURE_MANIFEST = path.join(FIXTURES, 'MANIFEST.tsv');
const PRESENT = 21;
const FRAMES = 60;
const POLL_MS = 50;
/** A phone photo of a class of 30 from the front: 4032x3024, faces 100 px wide at the back to 170 px at the front. */
const CLASS_PHOTO_30: ClassroomLayout = { width: 4032, height: 3024, rows: 5, columns: 6, backFaceWidth: 100, frontFaceWidth: 170 };

export interface ClassroomRun {
  frame: string;
  seats: number;
  faceWidths: string;
  registered: number;
  present: number;
  marked: number;
  wrong: number;
  /** From the first processed frame to the last present student's mark (null when some were never marked). */
  secondsToMarkAll: number | null;
  secondsToMarkHalf: number | null;
  framesPerSecond: number;
  peakRssMb: number;
}

interface Cast {
  /** rollNo → enrollment photo bytes. */
  roster: Map<string, Buffer>;
  present: Occupant[];
  strangers: Occupant[];
  source: string;
}

/** Each person with two usable photos: enrolled from the first, seated with the second; strangers from `unknown`. */
async function castFrom(manifest: string, engine: FaceEngine): Promise<Cast> {
  const set = await loadLabelledSet(manifest);
  const faceOf = async (bytes: Buffer) => {
    const portrait = await findPortraitFaces(bytes, engine);
    return portrait.faces.length === 1 ? faceInPhoto(bytes, portrait, portrait.faces[0]!.box) : undefined;
  };
  const roster = new Map<string, Buffer>();
  const present: Occupant[] = [];
  const strangers: Occupant[] = [];
  const photosOf = new Map<string, string[]>();
  for (const photo of set.photos.filter((p) => p.role === 'identity' && !p.derived && p.person)) {
    photosOf.set(photo.person!, [...(photosOf.get(photo.person!) ?? []), photo.path]);
  }
  for (const [person, files] of photosOf) {
    const usable: { bytes: Buffer; face: NonNullable<Awaited<ReturnType<typeof faceOf>>> }[] = [];
    for (const file of files) {
      if (usable.length === 2) break;
      const bytes = await readFile(path.join(set.root, file));
      const face = await faceOf(bytes);
      if (face) usable.push({ bytes, face });
    }
    if (usable.length === 0) continue;
    roster.set(person, usable[0]!.bytes);
    if (usable[1] && present.length < PRESENT) present.push({ photo: usable[1].bytes, face: usable[1].face, person });
  }
  for (const photo of set.photos.filter((p) => p.role === 'unknown')) {
    const bytes = await readFile(path.join(set.root, photo.path));
    const face = await faceOf(bytes);
    if (face) strangers.push({ photo: bytes, face });
  }
  return { roster, present, strangers, source: path.relative(process.cwd(), manifest) };
}

/** The cast's enrollment photos served from 127.0.0.1, and a data folder registering them all. */
async function rosterService(cast: Cast, dataDir: string) {
  const host = await servePhotos(new Map([...cast.roster].map(([rollNo, bytes]) => [`/${rollNo}.jpg`, bytes])));
  await mkdir(dataDir, { recursive: true });
  await writeFile(path.join(dataDir, 'students_data.json'), JSON.stringify([...cast.roster.keys()].map((rollNo) => ({ rollNo, url: `${host.origin}/${rollNo}.jpg` }))));
  return { host, dataDir };
}

const presentIn = (occupants: readonly Occupant[]) => new Set(occupants.flatMap((occupant) => (occupant.person ? [occupant.person] : [])));

/** Present students spread evenly over the seats, strangers in the others. */
function seating(cast: Cast, seats: number): Occupant[] {
  const students = cast.present.slice(0, seats);
  const studentSeats = new Map(students.map((occupant, k) => [Math.floor((k * seats) / students.length), occupant]));
  let stranger = 0;
  return Array.from({ length: seats }, (_, seat) => studentSeats.get(seat) ?? cast.strangers[stranger++ % cast.strangers.length]).filter(
    (occupant): occupant is Occupant => occupant !== undefined,
  );
}

async function classroomRun(work: string, cast: Cast, layout: ClassroomLayout, progress: (message: string) => void): Promise<ClassroomRun> {
  const seats = layout.rows * layout.columns;
  const name = `classroom-${seats}-${layout.height}p`;
  const occupants = seating(cast, seats);
  const folder = path.join(work, `${name}-frames`);
  await mkdir(folder, { recursive: true });
  const background = await readFile(path.join(FIXTURES, 'frames/01-empty-room.jpg'));
  for (let frame = 1; frame <= FRAMES; frame++) {
    const { jpeg } = await composeClassroom(background, occupants, layout, 3, frame);
    await writeFile(path.join(folder, `${String(frame).padStart(3, '0')}.jpg`), jpeg);
  }
  const { host, dataDir } = await rosterService(cast, path.join(work, `${name}-data`));
  const presentRollNos = presentIn(occupants);
  const service = await startRecognition(dataDir, folder);
  try {
    progress(`classroom: ${seats} seats, ${presentRollNos.size} present`);
    const status = async () => (await (await fetch(`${service.recognition}/status`)).json()) as { phase: string; framesProcessed: number; sourceEnded: boolean };
    await fetch(`${service.recognition}/start-recognition`, { method: 'POST' });
    let watchingSince: number | undefined;
    const markedAt = new Map<string, number>();
    let last = await status();
    for (;;) {
      last = await status();
      const now = Date.now();
      if (watchingSince === undefined && last.framesProcessed >= 1) watchingSince = now;
      const attendance = await readFile(path.join(dataDir, 'attendance.json'), 'utf8').catch(() => '{"days":{}}');
      for (const rollNo of markedIn(attendance)) if (!markedAt.has(rollNo)) markedAt.set(rollNo, now);
      const allMarked = [...presentRollNos].every((rollNo) => markedAt.has(rollNo));
      if (last.sourceEnded || last.phase === 'failed' || allMarked) break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const ended = Date.now();
    const right = [...markedAt].filter(([rollNo]) => presentRollNos.has(rollNo)).map(([, at]) => at - watchingSince!).sort((a, b) => a - b);
    return {
      frame: `${layout.width}x${layout.height}`,
      seats,
      faceWidths: `${layout.backFaceWidth}-${layout.frontFaceWidth} px`,
      registered: cast.roster.size,
      present: presentRollNos.size,
      marked: right.length,
      wrong: markedAt.size - right.length,
      secondsToMarkAll: right.length === presentRollNos.size ? round(right.at(-1)! / 1000, 1) : null,
      secondsToMarkHalf: right.length >= presentRollNos.size / 2 ? round(right[Math.ceil(presentRollNos.size / 2) - 1]! / 1000, 1) : null,
      framesPerSecond: round(last.framesProcessed / ((ended - watchingSince!) / 1000), 2),
      peakRssMb: await peakRssMb(service.child.pid!),
    };
  } finally {
    await service.stop();
    await host.close();
  }
}

export interface ClassPhotoRun {
  photo: string;
  seats: number;
  faceWidths: string;
  registered: number;
  present: number;
  facesListed: number;
  marked: number;
  wrong: number;
  /** A stranger's face recognised as a registered student. */
  strangersMarked: number;
  /** POST /recognize-photo to its answer: the first with the roster enrolled cold, the second from the descriptor cache. */
  firstAnswerSeconds: number;
  secondAnswerSeconds: number;
  peakRssMb: number;
}

/** A teacher's 12-megapixel phone photo of a class of 30, posted to /recognize-photo twice. */
async function classPhotoRun(work: string, cast: Cast, progress: (message: string) => void): Promise<ClassPhotoRun> {
  const layout = CLASS_PHOTO_30;
  const seats = layout.rows * layout.columns;
  const occupants = seating(cast, seats);
  const background = await readFile(path.join(FIXTURES, 'frames/01-empty-room.jpg'));
  const { jpeg, faces } = await composeClassroom(background, occupants, layout, 0, 1);
  const { host, dataDir } = await rosterService(cast, path.join(work, 'class-photo-data'));
  const present = presentIn(occupants);
  const service = await startRecognition(dataDir, path.join(work, 'no-camera'));
  try {
    progress(`class photo: ${layout.width}x${layout.height}, ${seats} seats, ${present.size} present`);
    const post = async () => {
      const started = Date.now();
      const response = await fetch(`${service.recognition}/recognize-photo`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(jpeg) });
      if (response.status !== 200) throw new Error(`recognize-photo: ${response.status} ${await response.text()}`);
      const answer = (await response.json()) as { faces: { verdict: string; rollNo: string | null; box: FaceBox }[] };
      return { seconds: round((Date.now() - started) / 1000, 1), answer };
    };
    const first = await post();
    const second = await post();
    // Each recognised face against whoever sits where it was found; one found where nobody sits is a wrong mark too.
    const recognized = first.answer.faces
      .filter((face) => face.verdict === 'recognized')
      .map((face) => {
        const seat = seatOf(faces, face.box);
        return { rollNo: face.rollNo!, seated: seat === undefined ? undefined : faces[seat] };
      });
    return {
      photo: `${layout.width}x${layout.height} JPEG, ${round(jpeg.length / 2 ** 20, 1)} MB`,
      seats,
      faceWidths: `${layout.backFaceWidth}-${layout.frontFaceWidth} px`,
      registered: cast.roster.size,
      present: present.size,
      facesListed: first.answer.faces.length,
      marked: recognized.filter(({ rollNo, seated }) => seated?.person === rollNo).length,
      wrong: recognized.filter(({ rollNo, seated }) => !seated || (seated.person && seated.person !== rollNo)).length,
      strangersMarked: recognized.filter(({ seated }) => seated && !seated.person).length,
      firstAnswerSeconds: first.seconds,
      secondAnswerSeconds: second.seconds,
      peakRssMb: await peakRssMb(service.child.pid!),
    };
  } finally {
    await service.stop();
    await host.close();
  }
}

/** The classroom layouts and the class photo, from ../shared/faces when present. */
export async function classroomBench(work: string, engine: FaceEngine, progress: (message: string) => void): Promise<{ source: string; runs: ClassroomRun[]; classPhoto: ClassPhotoRun }> {
  const cast = await castFrom(existsSync(SHARED_MANIFEST) ? SHARED_MANIFEST : FIXTURE_MANIFEST, engine);
  const runs: ClassroomRun[] = [];
  for (const layout of [CLASSROOM_24, CLASSROOM_40, CLASSROOM_40_1080P]) runs.push(await classroomRun(work, cast, layout, progress));
  return { source: cast.source, runs, classPhoto: await classPhotoRun(work, cast, progress) };
}
