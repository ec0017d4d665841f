import pino, { type Logger } from 'pino';

/** JSON lines when the output is a file or pipe; readable, coloured lines in a terminal. */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  const pretty = process.stdout.isTTY && level !== 'silent';
  return pino({
    level,
    base: bindings,
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } } : {}),
  });
}
