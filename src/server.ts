import { runServices } from './services.ts';

await runServices(['registration', 'recognition']);
