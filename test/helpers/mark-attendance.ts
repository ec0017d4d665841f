// Child process for the crash test: marks students present one after another and prints each acknowledged rollNo.
import { JsonAttendanceStore } from '../../src/storage/json-attendance-store.ts';

const [dataDir] = process.argv.slice(2);
const store = new JsonAttendanceStore(dataDir!);
for (let i = 0; ; i++) {
  const rollNo = `s${i}`;
  if ((await store.markPresent('2025-09-06', { rollNo, timestamp: '2025-09-06T08:00:00Z' })) === 'marked') process.stdout.write(`${rollNo}\n`);
}
