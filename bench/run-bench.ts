// npm run bench: see README, "Performance". Real models on real faces, a real ffmpeg stream and real service processes.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { InferenceBackendSchema, loadConfig, type InferenceBackend } from '../src/config/config.ts';
import { loadFaceEngine } from '../src/faces/face-engine.ts';
import { FaceMatcher, type EnrolledFace } from '../src/faces/face-matcher.ts';
import { describeEnrollmentPhoto } from '../src/faces/find-faces.ts';
import { FIXTURES, makeFaceTiles, PEOPLE } from './bench-faces.ts';
import { makeStream, STREAM_HEIGHT, STREAM_WIDTH } from './make-stream.ts';
import { matchingCost, otherClassesCost } from './matching-cost.ts';
import { classroomBench } from './classroom-bench.ts';
import { postgresBench, printPostgres, type PostgresBench } from './postgres-bench.ts';
import { coldEnrollment, registrationLoad, timeToMark, warmStart } from './service-bench.ts';
import { measureThroughput, naivePipeline, projectPipeline, round } from './stream-throughput.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const RESULTS = path.join(ROOT, 'bench/results/latest.json');
const FACE_COUNTS = [0, 1, 5, 10];
const STREAM_SECONDS = 20;
const BUDGET_MS = Number(process.env.BENCH_STREAM_MS ?? 12_000);
const MATCH_SIZES = [1_000, 10_000, 100_000];
const OTHER_CLASS_SIZES = [1_000, 10_000];
const MARK_ROUNDS = Number(process.env.BENCH_MARK_ROUNDS ?? 4);
// 1000 cold students take about 3.5 minutes on 2 cores: BENCH_COLD_1000=0 leaves them out.
const COLD_SIZES = process.env.BENCH_COLD_1000 === '0' ? [100] : [100, 1_000];
const WARM_SIZES = [1_000, 10_000];
// The classroom runs (24 and 40 seats at 1280x720, 40 at 1920x1080, a class photo) take a few minutes: BENCH_CLASSROOM=0 leaves them out.
const CLASSROOM = process.env.BENCH_CLASSROOM !== '0';

const require = createRequire(import.meta.url);
const versionOf = (name: string) => (require(`${name}/package.json`) as { version: string }).version;

// Both backends side by side by default; BENCH_BACKENDS=onnx (or wasm) runs one.
const BACKENDS = InferenceBackendSchema.array().parse((process.env.BENCH_BACKENDS ?? 'onnx,wasm').split(','));

const config = loadConfig({ MODELS_DIR: path.join(ROOT, 'models'), INFERENCE_THREADS: process.env.INFERENCE_THREADS });
const rule = { threshold: config.MATCH_THRESHOLD, margin: config.MATCH_MARGIN };
const work = await mkdtemp(path.join(os.tmpdir(), 'attendance-bench-'));
const progress = (message: string) => process.stderr.write(`bench: ${message}\n`);
try {
  const results: Record<string, any> = {
    date: new Date().toISOString(),
    machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', memoryGb: round(os.totalmem() / 2 ** 30, 1), platform: `${os.platform()} ${os.release()}` },
    versions: {
      node: process.version,
      faceApi: versionOf('@vladmandic/face-api'),
      tfjs: versionOf('@tensorflow/tfjs'),
      onnxruntime: versionOf('onnxruntime-node'),
      sharp: sharp.versions.sharp,
    },
    photos: 'test/fixtures',
    backends: {},
  };
  await mkdir(path.dirname(RESULTS), { recursive: true });
  for (const backend of BACKENDS) {
    progress(`--- INFERENCE_BACKEND=${backend}`);
    results.backends[backend] = await benchBackend(backend);
    // Written after each backend, so a later failure keeps what was measured.
    await writeFile(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  }
  printTables(results);
  console.log(`\nwritten to ${path.relative(process.cwd(), RESULTS)}`);
} finally {
  await rm(work, { recursive: true, force: true });
}

/** Every measurement on one backend: in this process for the stream, in service processes for the rest. */
async function benchBackend(backend: InferenceBackend): Promise<Record<string, unknown>> {
  const engine = await loadFaceEngine(config.MODELS_DIR, backend, config.INFERENCE_THREADS);
  // The service processes inherit this environment.
  process.env.INFERENCE_BACKEND = backend;
  const results: Record<string, unknown> = { backend: engine.backend, inferenceThreads: backend === 'wasm' ? 1 : config.INFERENCE_THREADS };
  // Each backend's service runs start from empty data folders: no descriptor cache or attendance of the other's.
  const folder = path.join(work, backend);
  await mkdir(folder, { recursive: true });
  progress('enrolling the stream roster and cutting face tiles');
  const enrolled: EnrolledFace[] = [];
  for (const person of PEOPLE) {
    if (person.rollNo && person.enrollPhoto) {
      enrolled.push({ rollNo: person.rollNo, descriptor: (await describeEnrollmentPhoto(await readFile(path.join(FIXTURES, person.enrollPhoto)), engine)).descriptor });
    }
  }
  const matcher = new FaceMatcher(enrolled, rule);
  const tiles = await makeFaceTiles(engine, path.join(folder, 'tiles'));

  const stream: Record<string, unknown>[] = [];
  for (const faces of FACE_COUNTS) {
    const video = await makeStream(tiles.slice(0, faces), STREAM_SECONDS, path.join(folder, `stream-${faces}.avi`));
    progress(`stream with ${faces} face(s): naive pipeline`);
    const naive = await measureThroughput(video, naivePipeline(engine, matcher), BUDGET_MS);
    progress(`stream with ${faces} face(s): project pipeline`);
    const project = await measureThroughput(video, projectPipeline(engine, matcher), BUDGET_MS);
    const enrolledInView = PEOPLE.slice(0, faces).filter((person) => person.rollNo).length;
    stream.push({ faces, enrolledInView, naive, project, ratio: round(project.framesPerSecond / naive.framesPerSecond, 2) });
  }
  results.stream = { width: STREAM_WIDTH, height: STREAM_HEIGHT, secondsPerRun: BUDGET_MS / 1000, runs: stream };

  progress('matching cost');
  const query = (await describeEnrollmentPhoto(await readFile(path.join(FIXTURES, 'photos/obama-3.jpg')), engine)).descriptor;
  results.matching = MATCH_SIZES.map((size) => ({ descriptors: size, ...matchingCost(enrolled.map((face) => face.descriptor), query, size, rule) }));
  results.matchingWithOtherClasses = OTHER_CLASS_SIZES.map((others) => ({ classStudents: enrolled.length, otherClassDescriptors: others, ...otherClassesCost(enrolled, query, others, rule) }));

  progress('time to mark (recognition service process)');
  results.timeToMark = await timeToMark(folder, MARK_ROUNDS, progress);
  const enrollment: Record<string, unknown>[] = [];
  for (const size of COLD_SIZES) {
    progress(`cold enrollment of ${size} students (recognition service process)`);
    enrollment.push({ kind: 'cold', ...(await coldEnrollment(folder, size)) });
  }
  for (const size of WARM_SIZES) {
    progress(`warm start with ${size} students (recognition service process)`);
    enrollment.push({ kind: 'warm', ...(await warmStart(folder, size, enrolled.map((face) => face.descriptor))) });
  }
  results.enrollment = enrollment;
  if (CLASSROOM) {
    progress('classroom (recognition service process)');
    results.classroom = await classroomBench(folder, engine, progress);
  }
  progress('registration service under 5 000 registrations');
  const registration = await registrationLoad(folder, 5_000);
  const streamRunPeak = (results.timeToMark as { peakRssMb: number }).peakRssMb;
  results.memory = {
    recognitionStreamRunPeakRssMb: streamRunPeak,
    recognitionPeakRssMb: Math.max(streamRunPeak, ...enrollment.map((row) => row.peakRssMb as number)),
    registrationPeakRssMb: registration.peakRssMb,
    registrationLoad: registration,
  };
  if (process.env.TEST_DATABASE_URL) results.postgres = await postgresBench(folder, enrolled.map((face) => face.descriptor), progress);
  else progress('PostgreSQL section skipped: TEST_DATABASE_URL is not set');

  return results;
}

function printTables({ machine, versions, backends }: Record<string, any>): void {
  console.log(`machine: ${machine.cores} cores, ${machine.cpu}, ${machine.memoryGb} GB; node ${versions.node}, face-api ${versions.faceApi}, tfjs ${versions.tfjs}, onnxruntime-node ${versions.onnxruntime}`);
  for (const [name, results] of Object.entries(backends)) {
    console.log(`\n=== INFERENCE_BACKEND=${name} (runs: ${(results as { backend: string }).backend})`);
    printTable(results as Record<string, any>);
  }
  const names = Object.keys(backends);
  if (names.length < 2) return;
  console.log(`\nside by side | ${names.join(' | ')}`);
  const row = (label: string, value: (results: any) => unknown) => console.log(`${label} | ${names.map((name) => String(value(backends[name]))).join(' | ')}`);
  for (const faces of FACE_COUNTS) row(`${faces} faces, project frames/s`, (r) => r.stream.runs.find((run: any) => run.faces === faces)?.project.framesPerSecond);
  row('time to mark median ms', (r) => r.timeToMark.medianMs);
  for (const size of COLD_SIZES) row(`cold enrollment ${size}, students/s`, (r) => r.enrollment.find((e: any) => e.kind === 'cold' && e.students === size)?.studentsPerSecond);
  row('recognition peak RSS MB (all runs)', (r) => r.memory.recognitionPeakRssMb);
}

function printTable(results: Record<string, any>): void {
  console.log(`\nstream throughput, ${results.stream.width}x${results.stream.height}, frames/s over ${results.stream.secondsPerRun} s per run`);
  console.log('faces in view (enrolled) | naive fps | project fps | ratio');
  for (const run of results.stream.runs) {
    console.log(`${`${run.faces} (${run.enrolledInView})`.padEnd(24)} | ${String(run.naive.framesPerSecond).padStart(9)} | ${String(run.project.framesPerSecond).padStart(11)} | ${run.ratio}x`);
  }
  console.log('\nmatching one face: descriptors | median ms | p95 ms');
  for (const row of results.matching) console.log(`${String(row.descriptors).padStart(30)} | ${String(row.medianMs).padStart(9)} | ${row.p95Ms}`);
  console.log(`\nmatching a face its class (${results.matchingWithOtherClasses[0].classStudents} students) accepts: other-class descriptors | median ms | p95 ms`);
  for (const row of results.matchingWithOtherClasses) console.log(`${String(row.otherClassDescriptors).padStart(30)} | ${String(row.medianMs).padStart(9)} | ${row.p95Ms}`);
  const mark = results.timeToMark;
  console.log(`\ntime to mark (first frame read -> record in attendance.json): median ${mark.medianMs} ms, p95 ${mark.p95Ms} ms; ${mark.marked}/${mark.appearances} appearances marked over ${mark.rounds} service runs`);
  console.log('\nenrollment      | students | enrolled | start -> first frame ms | worker enrollment ms | students/s | cores used | peak RSS MB');
  for (const row of results.enrollment) {
    console.log(`${row.kind.padEnd(15)} | ${String(row.students).padStart(8)} | ${String(row.enrolled).padStart(8)} | ${String(row.startToFirstFrameMs).padStart(23)} | ${String(row.enrollmentMs).padStart(20)} | ${String(row.studentsPerSecond ?? '').padStart(10)} | ${String(row.coresUsed).padStart(10)} | ${row.peakRssMb}`);
  }
  if (results.classroom) {
    console.log(`\nclassroom, frames replayed as fast as the worker takes them (${results.classroom.source}): frame | seats | faces | present | marked | wrong | s to mark half | s to mark all | frames/s | peak RSS MB`);
    for (const run of results.classroom.runs) {
      console.log(`${run.frame} | ${run.seats} | ${run.faceWidths} | ${run.present} | ${run.marked} | ${run.wrong} | ${run.secondsToMarkHalf ?? '-'} | ${run.secondsToMarkAll ?? '-'} | ${run.framesPerSecond} | ${run.peakRssMb}`);
    }
    const photo = results.classroom.classPhoto;
    console.log(`\nclass photo (POST /recognize-photo): photo | seats | faces | present | faces listed | marked | wrong | strangers marked | first answer s (roster enrolled cold) | second answer s | peak RSS MB`);
    console.log(`${photo.photo} | ${photo.seats} | ${photo.faceWidths} | ${photo.present} | ${photo.facesListed} | ${photo.marked} | ${photo.wrong} | ${photo.strangersMarked} | ${photo.firstAnswerSeconds} | ${photo.secondAnswerSeconds} | ${photo.peakRssMb}`);
  }
  const memory = results.memory;
  console.log(`\npeak RSS (VmHWM): recognition service during the stream run (time to mark) ${memory.recognitionStreamRunPeakRssMb} MB, largest over all its runs above ${memory.recognitionPeakRssMb} MB; registration service registering ${memory.registrationLoad.students} students ${memory.registrationPeakRssMb} MB`);
  if (results.postgres) printPostgres(results.postgres as PostgresBench);
}
