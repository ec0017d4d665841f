// Worker threads do not inherit tsx's module hooks from `node --import tsx`; register them here, then run the
// TypeScript module named by the worker's first argument (relative to this folder).
import { register } from 'tsx/esm/api';

register();
await import(new URL(process.argv[2], import.meta.url).href);
