// Child process for the lock takeover race: for each line `<dataDir> <rollNo>` on stdin, registers that student in that
// folder and prints `<rollNo> <added>` once the write is acknowledged (or `<rollNo> error <message>`).
import { createInterface } from 'node:readline';
import { JsonStudentStore } from '../../src/storage/json-student-store.ts';

for await (const line of createInterface({ input: process.stdin })) {
  const [dataDir, rollNo] = line.split(' ') as [string, string];
  try {
    const { added } = await new JsonStudentStore(dataDir).addMany([{ rollNo, url: `https://photos.invalid/${rollNo}.jpg` }], new Date().toISOString());
    process.stdout.write(`${rollNo} ${added}\n`);
  } catch (error) {
    process.stdout.write(`${rollNo} error ${(error as Error).message}\n`);
  }
}
