// Child process for the store tests: adds `count` students (rollNos `<first>`…) one request at a time, all concurrently.
import { JsonStudentStore } from '../../src/storage/json-student-store.ts';

const [dataDir, first, count] = process.argv.slice(2);
const store = new JsonStudentStore(dataDir!);
await Promise.all(
  Array.from({ length: Number(count) }, (_, i) => {
    const rollNo = String(Number(first) + i);
    return store.addMany([{ rollNo, url: `http://photos.invalid/${rollNo}.jpg` }], new Date().toISOString());
  }),
);
