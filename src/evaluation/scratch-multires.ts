// npm run eval:classroom [-- <MANIFEST.tsv | folder of <person>/<photo>>] [--out eval/results]
// Faces by size band in seated-class frames (1280x720): how many the camera path finds, and how many of those it
// recognises right, wrong, or (strangers) accepts. Without a set it reads ../shared/faces/MANIFEST.tsv, or the test
// fixtures on a clone without ../shared.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.ts';
import { EnrollmentError } from '../errors.ts';
import { decodeImage } from '../faces/decode-image.ts';
import { loadFaceEngine, type FaceBox, type FaceEngine } from '../faces/face-engine.ts';
import { FaceMatcher, type EnrolledFace } from '../faces/face-matcher.ts';
import { FRAME_MAX_SIDE, enrollmentFace, findPortraitFaces } from '../faces/find-faces.ts';
import { locateFacesInTiles } from '../faces/tiled-locator.ts';
import { composeClassroom, faceInPhoto, seatOf, sizeBand, SIZE_BANDS, type ClassroomLayout, type Occupant } from './classroom-scene.ts';
import { loadLabelledSet } from './labelled-photos.ts';
import sharp from 'sharp';
const TEMPLATE_WIDTHS = (process.env.TW ?? '44,64,96').split(',').map(Number);
const MODE = process.env.MODE ?? 'base';
async function lowResDescriptors(engine: FaceEngine, bytes: Uint8Array, box: FaceBox): Promise<Map<number, Float32Array>> {
  const out = new Map<number, Float32Array>();
  const meta = await sharp(bytes).rotate().metadata();
  const w0 = meta.autoOrient?.width ?? meta.width!;
  for (const target of TEMPLATE_WIDTHS) {
    const s = target / box.width;
    if (s >= 1) continue;
    const width = Math.max(1, Math.round(w0 * s));
    const jpeg = await sharp(bytes).rotate().resize({ width }).jpeg({ quality: 88 }).toBuffer();
    const image = await decodeImage(jpeg, { maxSide: FRAME_MAX_SIDE });
    const k = image.width / w0;
    const [d] = await engine.describeFaces(image, [{ x: box.x * k, y: box.y * k, width: box.width * k, height: box.height * k }]);
    out.set(target, d!);
  }
  return out;
}
const lowRes = new Map<string, Map<number, Float32Array>>();


const ROOT = path.resolve(import.meta.dirname, '../..');
const SHARED_MANIFEST = path.resolve(ROOT, '../shared/faces/MANIFEST.tsv');
const FIXTURE_SET = path.join(ROOT, 'test/fixtures/MANIFEST.tsv');
const BACKGROUND = path.join(ROOT, 'test/fixtures/frames/01-empty-room.jpg');
// Up to this many probe photos per person: a few people with many photos would otherwise fill the class.
const PROBES_PER_PERSON = 3;

// One class per band, face widths inside the band (back row to front row). Large faces get two rows: three rows of
// them in 720 px put each front row's heads over the faces behind it.
const LAYOUTS: ClassroomLayout[] = [
  { width: 1280, height: 720, rows: 5, columns: 8, backFaceWidth: 40, frontFaceWidth: 46 },
  { width: 1280, height: 720, rows: 4, columns: 6, backFaceWidth: 52, frontFaceWidth: 76 },
  { width: 1280, height: 720, rows: 2, columns: 6, backFaceWidth: 84, frontFaceWidth: 110 },
];
// A face of which less than this share shows (the rest behind a head in front) is not one anybody could be asked to find.
const MIN_VISIBLE = 0.75;

const { values, positionals } = parseArgs({ allowPositionals: true, options: { out: { type: 'string', default: path.join(ROOT, 'eval/results') } } });
const location = positionals[0] ? path.resolve(positionals[0]) : existsSync(SHARED_MANIFEST) ? SHARED_MANIFEST : FIXTURE_SET;
const config = loadConfig();
const rule = { threshold: config.MATCH_THRESHOLD, margin: config.MATCH_MARGIN };

interface BandCounts {
  /** Faces mostly covered by the row in front (less than MIN_VISIBLE of them showing): left out of the other counts but for wrong and stranger accepts. */
  hidden: number;
  faces: number;
  found: number;
  students: number;
  studentsFound: number;
  right: number;
  wrong: number;
  strangers: number;
  strangersFound: number;
  strangersAccepted: number;
}

const progress = (message: string) => process.stderr.write(`eval:classroom: ${message}\n`);

/** The one face of a portrait (as enrollment chooses it, its box in the photo's own pixels), or undefined when there is none to use. */
async function portraitFace(engine: FaceEngine, bytes: Uint8Array): Promise<{ box: FaceBox; descriptor: Float32Array } | undefined> {
  try {
    const portrait = await findPortraitFaces(bytes, engine);
    const { face } = enrollmentFace(portrait);
    return { box: await faceInPhoto(bytes, portrait, face.box), descriptor: face.descriptor };
  } catch (error) {
    if (error instanceof EnrollmentError) return undefined;
    throw error;
  }
}

/** Each person enrolled from their first usable photo and seated with their others; strangers seated from `unknown`. */
async function castFrom(engine: FaceEngine): Promise<{ enrolled: EnrolledFace[]; students: Occupant[]; strangers: Occupant[] }> {
  const set = await loadLabelledSet(location);
  const photosOf = new Map<string, string[]>();
  // A derived photo is a resized or cropped copy of another: never enrolled or seated, so no pair is one photo twice.
  for (const photo of set.photos.filter((p) => p.role === 'identity' && !p.derived && p.person)) photosOf.set(photo.person!, [...(photosOf.get(photo.person!) ?? []), photo.path]);
  const enrolled: EnrolledFace[] = [];
  const students: Occupant[] = [];
  for (const [person, files] of photosOf) {
    const usable: Occupant[] = [];
    for (const file of files) {
      if (usable.length > PROBES_PER_PERSON) break;
      const bytes = await readFile(path.join(set.root, file));
      const face = await portraitFace(engine, bytes);
      if (!face) continue;
      if (usable.length === 0) { enrolled.push({ rollNo: person, descriptor: face.descriptor }); lowRes.set(person, await lowResDescriptors(engine, bytes, face.box)); }
      usable.push({ photo: bytes, face: face.box, person, path: file } as any);
    }
    students.push(...usable.slice(1));
  }
  const strangers: Occupant[] = [];
  for (const photo of set.photos.filter((p) => p.role === 'unknown' && !p.derived)) {
    const bytes = await readFile(path.join(set.root, photo.path));
    const face = await portraitFace(engine, bytes);
    if (face) strangers.push({ photo: bytes, face: face.box });
  }
  return { enrolled, students, strangers };
}

async function evaluateLayout(engine: FaceEngine, matcherFor: (w: number) => FaceMatcher, layout: ClassroomLayout, occupants: Occupant[], counts: Map<string, BandCounts>) {
  const background = await readFile(BACKGROUND);
  const seats = layout.rows * layout.columns;
  for (let first = 0; first < occupants.length; first += seats) {
    const { jpeg, faces } = await composeClassroom(background, occupants.slice(first, first + seats), layout, 0, first + 1);
    const image = await decodeImage(jpeg, { maxSide: FRAME_MAX_SIDE });
    const boxes = await locateFacesInTiles(engine, image);
    const seated = boxes.flatMap((box) => {
      const seat = seatOf(faces, box);
      return seat === undefined ? [] : [{ box, seat }];
    });
    const descriptors = await engine.describeFaces(image, seated.map(({ box }) => box));
    const verdicts = new Map<number, string | null>();
    seated.forEach(({ seat }, i) => {
      if (!verdicts.has(seat)) { const m = matcherFor(seated[i]!.box.width); verdicts.set(seat, m.match(descriptors[i]!)?.rollNo ?? null); const r = m.rank(descriptors[i]!); const occ = (occupants as any)[first + seat]; if (occ.person) console.error('FACE', layout.backFaceWidth, occ.path, occ.person, Math.round(seated[i]!.box.width), r?.best.rollNo, r?.best.distance.toFixed(3), r?.runnerUpDistance.toFixed(3)); }
    });
    faces.forEach((face, seat) => {
      const band = counts.get(sizeBand(face.box))!;
      const found = verdicts.has(seat);
      const verdict = verdicts.get(seat);
      if (face.visible < MIN_VISIBLE) {
        // Not asked to be found, but a wrong name on what shows of it would still mark someone.
        band.hidden += 1;
        if (verdict && face.person && verdict !== face.person) band.wrong += 1;
        if (verdict && !face.person) band.strangersAccepted += 1;
        return;
      }
      band.faces += 1;
      band.found += found ? 1 : 0;
      if (face.person) {
        band.students += 1;
        band.studentsFound += found ? 1 : 0;
        if (verdict === face.person) band.right += 1;
        else if (verdict) band.wrong += 1;
      } else {
        band.strangers += 1;
        band.strangersFound += found ? 1 : 0;
        if (verdict) band.strangersAccepted += 1;
      }
    });
  }
}

const engine = await loadFaceEngine(config.MODELS_DIR, config.INFERENCE_BACKEND, config.INFERENCE_THREADS);
progress(`${engine.backend}: enrolling and choosing faces from ${path.relative(process.cwd(), location)}`);
const { enrolled, students, strangers } = await castFrom(engine);
const matcher = new FaceMatcher(enrolled, rule);
const matchers = new Map<string, FaceMatcher>();
function matcherFor(w: number): FaceMatcher {
  if (MODE === 'base') return matcher;
  if (MODE === 'all') {
    return matchers.get('all') ?? (matchers.set('all', new FaceMatcher([...enrolled, ...enrolled.flatMap((e) => [...lowRes.get(e.rollNo)!.values()].map((descriptor) => ({ rollNo: e.rollNo, descriptor })))], rule)), matchers.get('all')!);
  }
  // nearest template width to w (log scale), with original when the original is nearer
  const key = TEMPLATE_WIDTHS.reduce((a, b) => (Math.abs(Math.log(b / w)) < Math.abs(Math.log(a / w)) ? b : a));
  const id = `${MODE}-${key}`;
  if (!matchers.has(id)) {
    matchers.set(id, new FaceMatcher(enrolled.flatMap((e) => {
      const t = lowRes.get(e.rollNo)!.get(key);
      if (!t) return [e];
      return MODE === 'pair' ? [e, { rollNo: e.rollNo, descriptor: t }] : [{ rollNo: e.rollNo, descriptor: t }];
    }), rule));
  }
  return matchers.get(id)!;
}
const counts = new Map(SIZE_BANDS.map((band) => [band.name, { hidden: 0, faces: 0, found: 0, students: 0, studentsFound: 0, right: 0, wrong: 0, strangers: 0, strangersFound: 0, strangersAccepted: 0 } as BandCounts]));
// Students and strangers take turns in the seats, so every frame has both.
const occupants = Array.from({ length: Math.max(students.length, strangers.length) }, (_, i) => [students[i], strangers[i]]).flat().filter((o): o is Occupant => o !== undefined);
for (const layout of LAYOUTS) {
  progress(`faces ${layout.backFaceWidth}-${layout.frontFaceWidth} px: ${occupants.length} faces in ${Math.ceil(occupants.length / (layout.rows * layout.columns))} frames`);
  await evaluateLayout(engine, matcherFor, layout, occupants, counts);
}
const bands = [...counts].map(([band, c]) => ({ band, ...c, recall: c.faces ? Math.round((c.found / c.faces) * 1000) / 1000 : null }));
const result = { date: new Date().toISOString(), set: path.relative(ROOT, location), backend: engine.backend, rule, frame: '1280x720', enrolled: enrolled.length, students: students.length, strangers: strangers.length, bands };
await mkdir(values.out!, { recursive: true });
const name = location === SHARED_MANIFEST ? 'shared-faces' : location === FIXTURE_SET ? 'fixtures' : path.basename(location, '.tsv');
const file = path.join(values.out!, `classroom-${name}.json`);
await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(`${enrolled.length} enrolled; each face judged on one 1280x720 frame (the camera confirms over ${config.MATCH_MIN_FRAMES} frames of a track)`);
console.log('face width | faces found | students right | wrong | not recognised | strangers accepted | hidden (left out)');
for (const b of bands) {
  console.log(`${b.band} | ${b.found}/${b.faces} | ${b.right}/${b.students} | ${b.wrong} | ${b.students - b.right - b.wrong} | ${b.strangersAccepted}/${b.strangers} | ${b.hidden}`);
}
console.log(`written to ${path.relative(process.cwd(), file)}`);
