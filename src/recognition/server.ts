import { runServices } from '../services.ts';

await runServices(['recognition']);
