import os from 'node:os';
import path from 'node:path';
import { isIP } from 'node:net';
import proxyAddr from '@fastify/proxy-addr';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { withoutCredentials } from './without-credentials.ts';
import { QUERY_TIMEOUT_MS } from '../storage/pg-database.ts';

const port = z.coerce.number().int().min(0).max(65535);
const flag = z
  .enum(['0', '1', 'true', 'false', 'yes', 'no', ''])
  .transform((value) => value === '1' || value === 'true' || value === 'yes');

function isKnownTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

// Everything after `webcam:` or `ffmpeg:` reaches a child process; a plain character set keeps it one argument, never shell syntax.
const cameraArgument = z
  .string()
  .regex(/^[A-Za-z0-9_./:@?=&%+,~-]+$/, 'may only contain letters, digits and _ . / : @ ? = & % + , ~ -');

export const FrameSizeSchema = z
  .string()
  .regex(/^\d{2,4}x\d{2,4}$/, 'expected WIDTHxHEIGHT (example: 1280x720)')
  .transform((value) => {
    const [width, height] = value.split('x').map(Number) as [number, number];
    return { width, height };
  })
  .refine(({ width, height }) => width >= 160 && height >= 120 && width <= 3840 && height <= 2160, 'from 160x120 to 3840x2160');
export type FrameSize = z.output<typeof FrameSizeSchema>;

export const CameraSettingSchema = z.discriminatedUnion(
  'kind',
  [
    // `size` comes from CAMERA_SIZE, not from the CAMERA string.
    z.object({ kind: z.literal('webcam'), device: cameraArgument.optional(), size: z.object({ width: z.number(), height: z.number() }).optional() }),
    z.object({ kind: z.literal('ffmpeg'), input: cameraArgument, size: z.object({ width: z.number(), height: z.number() }).optional() }),
    z.object({ kind: z.literal('dir'), folder: z.string().min(1).transform((folder) => path.resolve(folder)) }),
  ],
  { error: 'expected webcam, webcam:<device>, ffmpeg:<input> or dir:<folder>' },
);
export type CameraSetting = z.infer<typeof CameraSettingSchema>;

function splitCameraSetting(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const colon = value.indexOf(':');
  if (colon === -1) return { kind: value };
  const argument = value.slice(colon + 1);
  return { kind: value.slice(0, colon), device: argument, input: argument, folder: argument };
}

// Short names that end up in every attendance record and URL query: no spaces, no slashes.
const shortName = z
  .string()
  .max(40, 'at most 40 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'may only contain ASCII letters, digits, . _ and - (example: room-101)');

export const ClassIdSchema = shortName;
export const RoomSchema = shortName;

// The URL carries a password: it is checked here, and never repeated in a message (see SECRET_SETTINGS).
const databaseUrl = z
  .string()
  .refine((value) => URL.canParse(value) && /^postgres(ql)?:$/.test(new URL(value).protocol), 'expected postgres://user:password@host:5432/database')
  .optional();

/** Settings whose value is never shown, even when it is wrong. */
const SECRET_SETTINGS = new Set(['DATABASE_URL', 'API_KEY', 'REGISTRATION_API_KEY', 'RECOGNITION_API_KEY']);

/** Which runtime runs the networks: onnxruntime-node, TensorFlow.js on WebAssembly, or onnx where it loads. */
export const InferenceBackendSchema = z.enum(['onnx', 'wasm', 'auto']);
export type InferenceBackend = z.infer<typeof InferenceBackendSchema>;

const apiKey = z.string().min(16, 'an API key must be at least 16 characters (try: openssl rand -hex 24)').optional();

const commaList = (value: string) => value.split(',').map((item) => item.trim()).filter(Boolean);

/**
 * A host as a photo URL's host name reads (lowercase, punycode, IPv4 in full, IPv6 without brackets), or undefined
 * when the entry is not a bare host: a scheme, port or path would never match.
 */
function urlHostName(entry: string): string | undefined {
  const literal = isIP(entry) === 6 ? `[${entry}]` : entry;
  // A colon outside brackets is a port, even the default one the URL parser would drop.
  if (!URL.canParse(`http://${literal}/`) || /:/.test(literal.replace(/^\[.*\]$/, ''))) return undefined;
  const url = new URL(`http://${literal}/`);
  const bare = url.pathname === '/' && !url.username && !url.password && !url.search && !url.hash && !literal.includes('/');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // A wildcard (`*.school.lan`) parses as a host name but would never match one.
  return bare && (isIP(host) !== 0 || /^[a-z0-9_.-]+$/.test(host)) ? host : undefined;
}

const hostList = z
  .string()
  .default('')
  .transform((value, context) => {
    const hosts = commaList(value).map((entry) => ({ entry, host: urlHostName(entry) }));
    const wrong = hosts.find(({ host }) => host === undefined);
    if (wrong) {
      context.addIssue({ code: 'custom', message: `"${wrong.entry}" is not a host name or IP address (no scheme, port or path), comma-separated` });
      return z.NEVER;
    }
    return hosts.map(({ host }) => host!);
  });

// Fastify's trustProxy: true (believe X-Forwarded-For from anyone) or the proxies' addresses and ranges, checked here
// with the library Fastify uses, so that a typo is named at start rather than failing inside Fastify.
const trustProxy = z
  .string()
  .default('false')
  .transform((raw, context): boolean | string[] => {
    const value = raw.trim();
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0' || value === '') return false;
    const proxies = commaList(value);
    const problem = proxies.some((item) => /^\d+$/.test(item)) ? 'a hop count is not supported: list the proxies\' addresses' : compileProblem(proxies);
    if (problem) {
      context.addIssue({ code: 'custom', message: `must be true, false, or the proxies' addresses or ranges (10.0.0.0/8, loopback), comma-separated: ${problem}` });
      return z.NEVER;
    }
    return proxies;
  });

function compileProblem(proxies: string[]): string | undefined {
  try {
    proxyAddr.compile(proxies);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

export const ConfigSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  REGISTRATION_PORT: port.default(8000),
  RECOGNITION_PORT: port.default(8001),
  DATA_DIR: z.string().min(1).default('./data').transform((dir) => path.resolve(dir)),
  MODELS_DIR: z.string().min(1).default('./models').transform((dir) => path.resolve(dir)),
  CAMERA: z.preprocess((value) => splitCameraSetting(value ?? 'webcam'), CameraSettingSchema),
  CAMERA_SIZE: FrameSizeSchema.optional(),
  MATCH_THRESHOLD: z.coerce.number().gt(0).lt(2).default(0.5),
  MATCH_MARGIN: z.coerce.number().min(0).lt(2).default(0.1),
  MATCH_MIN_FRAMES: z.coerce.number().int().min(1).max(100).default(2),
  TIME_ZONE: z
    .string()
    .default(() => Intl.DateTimeFormat().resolvedOptions().timeZone)
    .refine(isKnownTimeZone, { message: 'unknown IANA time zone (example: Asia/Kolkata)' }),
  ALLOW_PRIVATE_URLS: flag.default(false),
  PRIVATE_URL_HOSTS: hostList,
  API_KEY: apiKey,
  REGISTRATION_API_KEY: apiKey,
  RECOGNITION_API_KEY: apiKey,
  TRUST_PROXY: trustProxy,
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(300),
  PHOTO_MAX_BYTES: z.coerce.number().int().positive().default(10 * 1024 * 1024),
  PHOTO_TIMEOUT_MS: z.coerce.number().int().positive().default(15_000),
  PHOTO_MAX_REDIRECTS: z.coerce.number().int().min(0).max(20).default(5),
  INFERENCE_BACKEND: InferenceBackendSchema.default('auto'),
  INFERENCE_THREADS: z.coerce.number().int().min(1).max(64).default(() => os.availableParallelism()),
  ENROLLMENT_THREADS: z.coerce.number().int().min(1).max(16).default(() => os.availableParallelism()),
  MAX_STUDENTS_PER_REQUEST: z.coerce.number().int().positive().default(1000),
  DATABASE_URL: databaseUrl,
  ROOM: RoomSchema.optional(),
  CLASS_ID: ClassIdSchema.optional(),
  MARK_QUEUE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  /** How long a database statement may go unanswered before its request is answered 503 (a silent server). */
  DATABASE_QUERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(QUERY_TIMEOUT_MS),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof ConfigSchema>;

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const known = Object.fromEntries(
    Object.keys(ConfigSchema.shape).map((key) => [key, env[key] === '' ? undefined : env[key]]),
  );
  const parsed = ConfigSchema.safeParse(known);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? 'config');
      const value = known[key] ?? '';
      // A secret is never printed, even a wrong one: a key may be the real one with a character missing. Nor is the
      // password of a URL in another setting (a camera's).
      const shown = !SECRET_SETTINGS.has(key) ? JSON.stringify(withoutCredentials(value)) : key === 'DATABASE_URL' ? '(hidden)' : `(${value.length} characters, hidden)`;
      return `${key}=${shown}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}
