// npm run eval [-- <MANIFEST.tsv | folder of <person>/<photo>>] [--out eval/results] [--enroll-photos N] [--folds K] [--cache file.json]
// Without a set it reads ../shared/faces/MANIFEST.tsv, or test/fixtures/MANIFEST.tsv on a clone without ../shared.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.ts';
import { EnrollmentError } from '../errors.ts';
import { loadFaceEngine, type DetectedFace, type FaceEngine } from '../faces/face-engine.ts';
import { decide, type EnrolledFace } from '../faces/face-matcher.ts';
import { enrollmentFace, findFrameFaces, findPortraitFaces, type PortraitFaces } from '../faces/find-faces.ts';
import { classTrials } from './class-trials.ts';
import { crossValidate } from './cross-validation.ts';
import { distanceChartSvg } from './distance-chart.ts';
import { loadLabelledSet, type LabelledPhoto } from './labelled-photos.ts';
import { operatingPoint, rankProbes, thresholdSweep, type Probe, type RankedProbe } from './open-set.ts';
import { photoKind, PHOTO_KINDS, type PhotoKind } from './photo-kind.ts';
import { rosterGrowth } from './roster-growth.ts';
import { trackTrials } from './track-trials.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SHARED_MANIFEST = path.resolve(ROOT, '../shared/faces/MANIFEST.tsv');
const FIXTURE_SET = path.join(ROOT, 'test/fixtures/MANIFEST.tsv');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string', default: path.join(ROOT, 'eval/results') },
    'enroll-photos': { type: 'string', default: '1' },
    folds: { type: 'string', default: '5' },
    cache: { type: 'string' },
  },
});
const location = positionals[0] ? path.resolve(positionals[0]) : (existsSync(SHARED_MANIFEST) ? SHARED_MANIFEST : FIXTURE_SET);
const enrollPhotos = Number(values['enroll-photos']);
const folds = Number(values.folds);
const config = loadConfig();
const rule = { threshold: config.MATCH_THRESHOLD, margin: config.MATCH_MARGIN };

type Analysis = PortraitFaces | { error: string };
type CachedFace = Omit<DetectedFace, 'descriptor'> & { descriptor: number[] };
type CachedAnalysis = (Omit<PortraitFaces, 'faces'> & { faces: CachedFace[] }) | { error: string };

const cache: Record<string, CachedAnalysis> = values.cache && existsSync(values.cache) ? JSON.parse(await readFile(values.cache, 'utf8')) : {};

function revive(entry: CachedAnalysis): Analysis {
  if ('error' in entry) return entry;
  return { ...entry, faces: entry.faces.map((face) => ({ ...face, descriptor: Float32Array.from(face.descriptor) })) };
}

async function analyse(engine: FaceEngine, root: string, photo: LabelledPhoto): Promise<Analysis> {
  const bytes = await readFile(path.join(root, photo.path));
  const key = `${photo.path}:${bytes.length}`;
  const cached = cache[key];
  if (cached) return revive(cached);
  let analysis: Analysis;
  try {
    analysis = await findPortraitFaces(bytes, engine);
  } catch (error) {
    if (!(error instanceof EnrollmentError)) throw error;
    analysis = { error: error.code };
  }
  cache[key] = 'error' in analysis ? analysis : { ...analysis, faces: analysis.faces.map((face) => ({ ...face, descriptor: [...face.descriptor] })) };
  return analysis;
}

function enrollmentOutcome(analysis: Analysis): DetectedFace | string {
  if ('error' in analysis) return analysis.error;
  try {
    return enrollmentFace(analysis).face;
  } catch (error) {
    if (error instanceof EnrollmentError) return error.code;
    throw error;
  }
}

/** A probe is what the camera path would match: the largest face of the photo. */
function probeDescriptor(analysis: Analysis): Float32Array | undefined {
  return 'error' in analysis ? undefined : analysis.faces[0]?.descriptor;
}

const isTightCrop = (analysis: Analysis) => !('error' in analysis) && Math.max(analysis.width, analysis.height) <= 160;
const percent = (n: number, of: number) => (of === 0 ? 'n/a' : `${((100 * n) / of).toFixed(1)}%`);

const set = await loadLabelledSet(location);
const engine = await loadFaceEngine(config.MODELS_DIR, config.INFERENCE_BACKEND, config.INFERENCE_THREADS);
const started = Date.now();
const analyses = new Map<string, Analysis>();
for (const photo of set.photos.filter((p) => p.role === 'identity' || p.role === 'unknown')) {
  analyses.set(photo.path, await analyse(engine, set.root, photo));
}
if (values.cache) await writeFile(values.cache, JSON.stringify(cache));

// Enrollment: every identity photo tried as an enrollment photo.
const identity = set.photos.filter((p) => p.role === 'identity');
const enrollmentFailures: Record<string, number> = {};
let tightCrops = 0;
let tightCropsEnrolled = 0;
for (const photo of identity) {
  const analysis = analyses.get(photo.path)!;
  const outcome = enrollmentOutcome(analysis);
  if (typeof outcome === 'string') enrollmentFailures[outcome] = (enrollmentFailures[outcome] ?? 0) + 1;
  if (isTightCrop(analysis)) {
    tightCrops += 1;
    if (typeof outcome !== 'string') tightCropsEnrolled += 1;
  }
}

// Open set: the first photos of each person that enroll are the gallery, the person's other photos probe it.
// DERIVED copies are left out entirely so no probe is a copy of an enrollment photo.
const enrollmentPhotos: (Probe & { person: string; descriptor: Float32Array })[] = [];
const probes: Probe[] = [];
const notEnrolled: string[] = [];
const byPerson = new Map<string, LabelledPhoto[]>();
for (const photo of identity.filter((p) => !p.derived && p.person)) {
  byPerson.set(photo.person!, [...(byPerson.get(photo.person!) ?? []), photo]);
}
for (const [person, photos] of byPerson) {
  const enrolledPaths = new Set<string>();
  for (const photo of photos) {
    if (enrolledPaths.size === enrollPhotos) break;
    const outcome = enrollmentOutcome(analyses.get(photo.path)!);
    if (typeof outcome === 'string') continue;
    enrollmentPhotos.push({ path: photo.path, person, descriptor: outcome.descriptor });
    enrolledPaths.add(photo.path);
  }
  if (enrolledPaths.size === 0) {
    notEnrolled.push(person);
    continue;
  }
  for (const photo of photos.filter((p) => !enrolledPaths.has(p.path))) {
    probes.push({ path: photo.path, person, descriptor: probeDescriptor(analyses.get(photo.path)!) });
  }
}
for (const photo of set.photos.filter((p) => p.role === 'unknown')) {
  probes.push({ path: photo.path, descriptor: probeDescriptor(analyses.get(photo.path)!) });
}
const gallery: EnrolledFace[] = enrollmentPhotos.map(({ person, descriptor }) => ({ rollNo: person, descriptor }));
const ranked = rankProbes(gallery, probes);
const atDefault = operatingPoint(ranked, rule);
const sweep = thresholdSweep(ranked, rule.margin);
const marginSweep = [0, 0.02, 0.04, 0.06, 0.08, 0.1].map((margin) => operatingPoint(ranked, { threshold: rule.threshold, margin }));
const zeroStranger = sweep.filter((p) => p.strangerAcceptRate === 0 && p.wrongAccepts === 0).at(-1);
// Look-alikes: each enrolled person's photos, enrollment photos included, ranked with that person left out of the
// roster. People enrolled nowhere rarely resemble a student; someone left out of a roster of similar people often does.
const leftOut = [...new Set(gallery.map((face) => face.rollNo))].flatMap((person) =>
  rankProbes(
    gallery.filter((face) => face.rollNo !== person),
    [...enrollmentPhotos, ...probes].filter((photo) => photo.person === person).map(({ path, descriptor }) => ({ path, descriptor })),
  ).map((probe) => ({ ...probe, leftOut: person })),
);
const crossValidation = crossValidate(ranked, folds, rule, leftOut);
const leftOutOfRoster = {
  strangers: leftOut.length,
  strangerAccepts: operatingPoint(leftOut, rule).strangerAccepts,
  accepted: leftOut.flatMap((probe) => {
    const accepted = decide(probe.ranking, rule);
    return accepted ? [{ path: probe.path, as: accepted.rollNo, distance: accepted.distance }] : [];
  }),
  sweep: thresholdSweep(leftOut, rule.margin).map(({ threshold, strangerAccepts }) => ({ threshold, strangerAccepts })),
};
const genuineProbes = probes.filter((probe) => probe.person !== undefined);
const rosterSizes = rosterGrowth(gallery, genuineProbes, probes.filter((probe) => probe.person === undefined), rule);
const classResults = classTrials(gallery, genuineProbes, rule);
const tracks = trackTrials(
  gallery,
  [...byPerson.keys()].filter((person) => !notEnrolled.includes(person)).map((person) => ({
    person,
    enrolled: enrollmentPhotos.filter((photo) => photo.person === person).map((photo) => photo.descriptor),
    probes: probes.flatMap((probe) => (probe.person === person && probe.descriptor ? [probe.descriptor] : [])),
  })),
  rule,
  config.MATCH_MIN_FRAMES,
);

// Genuine probes at the defaults, by the kind of photo they are.
const photoByPath = new Map(set.photos.map((photo) => [photo.path, photo]));
const kindOf = (probe: RankedProbe): PhotoKind => {
  const analysis = analyses.get(probe.path)!;
  const photo = photoByPath.get(probe.path)!;
  if ('error' in analysis) return photoKind({ width: photo.width, height: photo.height });
  return photoKind({ width: analysis.width, height: analysis.height, largestFace: analysis.faces[0]?.box });
};
const byKind = Object.fromEntries(
  PHOTO_KINDS.map((kind) => {
    const genuine = ranked.filter((p) => p.person !== undefined && kindOf(p) === kind);
    const point = operatingPoint(genuine, rule);
    return [kind, { genuine: point.genuine, rightAccepts: point.rightAccepts, wrongAccepts: point.wrongAccepts, withoutFace: genuine.filter((p) => !p.ranking).length }];
  }),
);

// Detection recall on group photos whose face count is known, through the camera path.
const groups = [];
for (const photo of set.photos.filter((p) => p.role === 'group' && p.faceCount !== undefined)) {
  const found = (await findFrameFaces(await readFile(path.join(set.root, photo.path)), engine)).faces.length;
  groups.push({ path: photo.path, expected: photo.faceCount!, found });
}
const expectedFaces = groups.reduce((sum, g) => sum + g.expected, 0);
const foundFaces = groups.reduce((sum, g) => sum + Math.min(g.found, g.expected), 0);

const name = location === SHARED_MANIFEST ? 'shared-faces' : location === FIXTURE_SET ? 'fixtures' : path.basename(location, '.tsv');
const genuineDistances = ranked.flatMap((p) => (p.person !== undefined && p.ownDistance !== undefined ? [p.ownDistance] : []));
const strangerDistances = ranked.flatMap((p) => (p.person === undefined && p.ranking ? [p.ranking.best.distance] : []));
const summary = {
  set: path.relative(ROOT, location),
  command: `npm run eval${positionals[0] ? ` -- ${positionals[0]}` : ''}${enrollPhotos !== 1 ? ` --enroll-photos ${enrollPhotos}` : ''}${folds !== 5 ? ` --folds ${folds}` : ''}`,
  backend: engine.backend,
  seconds: Math.round((Date.now() - started) / 1000),
  rule,
  enrollment: {
    photos: identity.length,
    enrolled: identity.length - Object.values(enrollmentFailures).reduce((a, b) => a + b, 0),
    failures: enrollmentFailures,
    tightCrops,
    tightCropsEnrolled,
  },
  openSet: {
    enrollPhotosPerPerson: enrollPhotos,
    people: byPerson.size,
    peopleEnrolled: byPerson.size - notEnrolled.length,
    notEnrolled,
    genuineProbesWithoutFace: ranked.filter((p) => p.person !== undefined && !p.ranking).length,
    strangersWithoutFace: ranked.filter((p) => p.person === undefined && !p.ranking).length,
    atDefault,
    bestThresholdWithoutStrangerOrWrongAccept: zeroStranger ?? null,
    marginSweep,
    sweep,
    byKind,
    crossValidation,
    leftOutOfRoster,
    rosterGrowth: rosterSizes,
    classes: classResults,
  },
  tracks,
  groupDetection: { photos: groups.length, expectedFaces, foundFaces, recall: expectedFaces === 0 ? null : foundFaces / expectedFaces, groups },
  probes: ranked.map((p) => ({
    path: p.path,
    person: p.person ?? null,
    best: p.ranking?.best.rollNo ?? null,
    distance: p.ranking?.best.distance ?? null,
    runnerUp: p.ranking?.runnerUpDistance ?? null,
    own: p.ownDistance ?? null,
  })),
};

await mkdir(values.out, { recursive: true });
await writeFile(path.join(values.out, `${name}.json`), `${JSON.stringify(summary, null, 1)}\n`);
await writeFile(
  path.join(values.out, `${name}.svg`),
  distanceChartSvg({ title: `${summary.command} (threshold ${rule.threshold}, margin ${rule.margin})`, genuineDistances, strangerDistances, sweep, threshold: rule.threshold }),
);

const a = atDefault;
console.log(`set: ${summary.set} (${engine.backend}, ${summary.seconds} s)`);
console.log(`enrollment: ${summary.enrollment.enrolled}/${identity.length} photos usable; failures ${JSON.stringify(enrollmentFailures)}; ` +
  `tight crops ${tightCropsEnrolled}/${tightCrops} (${percent(tightCropsEnrolled, tightCrops)})`);
console.log(`open set: ${summary.openSet.peopleEnrolled}/${byPerson.size} people enrolled with ${enrollPhotos} photo(s), ${a.genuine} genuine probes, ${a.strangers} strangers`);
console.log(`at threshold ${rule.threshold}, margin ${rule.margin}: right ${a.rightAccepts}/${a.genuine} (${percent(a.rightAccepts, a.genuine)}), ` +
  `wrong ${a.wrongAccepts}, strangers accepted ${a.strangerAccepts}/${a.strangers} (${percent(a.strangerAccepts, a.strangers)})`);
if (zeroStranger) {
  console.log(`highest threshold with no stranger and no wrong accept: ${zeroStranger.threshold} (right ${percent(zeroStranger.rightAccepts, zeroStranger.genuine)})`);
}
for (const p of sweep.filter((_, i) => i % 5 === 0)) {
  console.log(`  threshold ${p.threshold.toFixed(2)}: right ${percent(p.rightAccepts, p.genuine)}, wrong ${p.wrongAccepts}, strangers ${percent(p.strangerAccepts, p.strangers)}`);
}
const kindLine = Object.entries(byKind).map(([kind, k]) => `${kind} ${k.rightAccepts}/${k.genuine}`).join(', ');
console.log(`right student by kind of photo: ${kindLine}`);
const cv = crossValidation;
console.log(`${cv.folds}-fold cross-validation (rule chosen on the other folds, reported on each): right ${cv.heldOut.rightAccepts}/${cv.heldOut.genuine} ` +
  `(${percent(cv.heldOut.rightAccepts, cv.heldOut.genuine)}), wrong ${cv.heldOut.wrongAccepts}, strangers ${cv.heldOut.strangerAccepts}/${cv.heldOut.strangers}; ` +
  `people left out of the roster ${cv.lookAlikes.heldOutAccepts}/${cv.lookAlikes.photos} (defaults: ${cv.lookAlikes.defaultsAccepts}); ` +
  `chosen ${cv.perFold.map((f) => `${f.chosen.threshold}/${f.chosen.margin}`).join(', ')} (threshold/margin per fold)`);
const leftOutAccepted = leftOutOfRoster.accepted.map((a) => `${a.path} as ${a.as} at ${a.distance.toFixed(3)}`);
console.log(`enrolled people left out of the roster, as strangers: ${leftOutOfRoster.strangerAccepts}/${leftOutOfRoster.strangers} photos accepted` +
  (leftOutAccepted.length ? ` (${leftOutAccepted.join(', ')})` : ''));
console.log(`as the roster grows by people enrolled nowhere: right ${rosterSizes.map((r) => `${r.rightAccepts}/${r.genuine} with ${summary.openSet.peopleEnrolled} + ${r.extraStudents} enrolled`).join(', ')}`);
const classLine = (counts: typeof classResults.classAlone) =>
  `right ${counts.right}/${classResults.genuine}, wrong ${counts.wrong}, other classes' students accepted ${counts.otherClassAccepts}/${classResults.otherClassPhotos}`;
console.log(`people dealt into ${classResults.classes} classes, each its own roster: class alone ${classLine(classResults.classAlone)}; ` +
  `with the other classes compared too (CLASS_ID) ${classLine(classResults.withOtherClasses)}`);
const trackLine = (marks: typeof tracks.frameVotes) =>
  `right ${marks.rightMarks}/${tracks.genuineTracks}, wrong ${marks.wrongMarks}, strangers ${marks.strangerMarks}/${tracks.strangerTracks}`;
console.log(`students seen in ${tracks.photosPerTrack} photos in a row (camera tracks): frame votes ${trackLine(tracks.frameVotes)}; ` +
  `votes or mean descriptor (the service) ${trackLine(tracks.votesOrMean)}`);
console.log(`group detection: ${foundFaces}/${expectedFaces} faces (${percent(foundFaces, expectedFaces)}) in ${groups.length} photos`);
console.log(`wrote ${path.relative(ROOT, path.join(values.out, name))}.{json,svg}`);
