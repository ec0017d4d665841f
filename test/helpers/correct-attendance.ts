// Child process for the crash test of corrections: marks and removes students by hand, one after another, and prints
// each acknowledged correction as `<action> <rollNo>`.
import { JsonAttendanceStore } from '../../src/storage/json-attendance-store.ts';

const [dataDir] = process.argv.slice(2);
const store = new JsonAttendanceStore(dataDir!);
for (let i = 0; ; i++) {
  const rollNo = `s${i % 7}`;
  const correction = { rollNo, at: '2025-09-06T08:00:00Z', by: 'crash test', reason: `correction ${i}` };
  if ((await store.markManually('2025-09-06', correction)).outcome === 'marked') process.stdout.write(`marked ${rollNo} ${i}\n`);
  else if (await store.removeMark('2025-09-06', correction)) process.stdout.write(`removed ${rollNo} ${i}\n`);
}
