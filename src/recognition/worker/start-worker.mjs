// Worker threads do not inherit tsx's module hooks from `node --import tsx`; register them here, then run the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./recognition-worker.ts');
