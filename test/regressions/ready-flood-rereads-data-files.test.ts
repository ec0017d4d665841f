// An anonymous flood of `GET /ready` took the service down: /ready is public and not rate limited, and every call
// re-read, parsed and validated all four data files (100 concurrent clients on a 12.6 MB attendance.json: 2-3 GB of
// memory, /status answering after 18 s). Now callers share one round of checks at a time, and a data file is parsed
// again only once it has changed: a flood reads each file at most once, and a damaged file still shows at once (and
// is logged once, not once per call).
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config/config.ts';
import { buildRecognitionApp } from '../../src/recognition/app.ts';
import { buildRegistrationApp } from '../../src/registration/app.ts';
import { JsonAttendanceStore } from '../../src/storage/json-attendance-store.ts';
import { JsonDescriptorStore } from '../../src/storage/json-descriptor-store.ts';
import { JsonEnrollmentStore } from '../../src/storage/json-enrollment-store.ts';
import { JsonStudentStore } from '../../src/storage/json-student-store.ts';
import { scratchFolder } from './helpers.ts';

let dir: string;
before(async () => {
  dir = await scratchFolder('ready-flood');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const FLOOD = 100;

/** The JSON stores, counting how often each data file is read whole. */
function countingStores(dataDir: string) {
  const reads = { students: 0, attendance: 0, enrollment: 0, descriptors: 0 };
  const students = new (class extends JsonStudentStore {
    override list() {
      reads.students++;
      return super.list();
    }
  })(dataDir);
  const attendance = new (class extends JsonAttendanceStore {
    override listDay(day: string) {
      reads.attendance++;
      return super.listDay(day);
    }
  })(dataDir);
  const enrollments = new (class extends JsonEnrollmentStore {
    override list() {
      reads.enrollment++;
      return super.list();
    }
  })(dataDir);
  const descriptors = new (class extends JsonDescriptorStore {
    override list(model: string) {
      reads.descriptors++;
      return super.list(model);
    }
  })(dataDir);
  return { reads, stores: { students, attendance, enrollments, descriptors } };
}

async function flood(base: string): Promise<number[]> {
  return Promise.all(Array.from({ length: FLOOD }, async () => (await fetch(`${base}/ready`)).status));
}

for (const service of ['registration', 'recognition'] as const) {
  test(`${FLOOD} concurrent /ready calls to ${service} read each data file at most once, and a file damaged after still shows`, async () => {
    const dataDir = path.join(dir, service);
    await rm(dataDir, { recursive: true, force: true });
    await mkdir(dataDir);
    await writeFile(path.join(dataDir, 'students_data.json'), '[]');
    await writeFile(path.join(dataDir, 'attendance.json'), '{}');
    await writeFile(path.join(dataDir, 'enrollment.json'), '{}');
    await writeFile(path.join(dataDir, 'descriptors.json'), '{"model":"","students":{}}');
    const config = loadConfig({ DATA_DIR: dataDir });
    const { reads, stores } = countingStores(dataDir);
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const app = service === 'registration' ? await buildRegistrationApp({ config, logger, ...stores }) : await buildRecognitionApp({ config, logger, ...stores });
    try {
      const base = await app.listen({ host: '127.0.0.1', port: 0 });
      assert.deepEqual(new Set(await flood(base)), new Set([200]));
      assert.deepEqual(reads, { students: 1, attendance: 1, enrollment: 1, descriptors: 1 });

      await writeFile(path.join(dataDir, 'attendance.json'), '[]\n');
      const damaged = await fetch(`${base}/ready`);
      assert.equal(damaged.status, 503);
      const checks = ((await damaged.json()) as { checks: { name: string; problem?: string }[] }).checks;
      assert.equal(checks.find((check) => check.name === 'attendance')?.problem, 'attendance.json is not a valid data file');

      assert.deepEqual(new Set(await flood(base)), new Set([503]));
      assert.deepEqual(reads, { students: 1, attendance: 2, enrollment: 1, descriptors: 1 }, 'the damaged file is not parsed again until it changes');
      const warnings = lines.filter((line) => line.msg === 'readiness check failed');
      assert.deepEqual(warnings.map((line) => line.check), ['attendance'], 'the failure is logged once, not once per call');
    } finally {
      await app.close();
    }
  });
}
