import dns, { type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, errors as undiciErrors, request } from 'undici';
import { EnrollmentError } from '../errors.ts';
import { isForbiddenAddress } from './address-policy.ts';

export interface PhotoDownloadOptions {
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
  /** Lifts the address check, for campus-internal photo servers and tests on 127.0.0.1. */
  allowPrivateUrls: boolean;
  /** Host names (or literal addresses) that may be private while the check stays on for every other host. */
  privateHosts: string[];
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

// Checking the address the socket actually connects to (not an earlier, separate resolution) closes DNS rebinding.
function lookupPublicAddressesOnly(privateHosts: ReadonlySet<string>) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const forbidden = privateHosts.has(hostname.toLowerCase()) ? undefined : addresses.find((entry) => isForbiddenAddress(entry.address));
      if (forbidden) {
        return callback(forbiddenUrl(`${hostname} resolves to ${forbidden.address}, a private or reserved address`), []);
      }
      if (options.all) return callback(null, addresses);
      const [first] = addresses;
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}

// What the person who sees the message can do about it, said once here for every refusal and failure.
const PRIVATE_HINT = 'photos on the school\'s own network need their host in PRIVATE_URL_HOSTS (README, Configuration)';
const REPLACE_HINT = 'check that the URL opens in a browser, or give the student another photo (PUT /students/{rollNo}/photo)';

function forbiddenUrl(reason: string): EnrollmentError {
  return new EnrollmentError('PHOTO_URL_FORBIDDEN', `photo URL refused: ${reason}${/private or reserved/.test(reason) ? `; ${PRIVATE_HINT}` : ''}`);
}

function checkUrl(url: URL, allowPrivateUrls: boolean, privateHosts: ReadonlySet<string>): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw forbiddenUrl(`only http and https are allowed, not ${url.protocol.replace(/:$/, '')}`);
  }
  if (url.username || url.password) throw forbiddenUrl('credentials in the URL are not allowed');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivateUrls && isIP(host) && isForbiddenAddress(host) && !privateHosts.has(host)) {
    throw forbiddenUrl(`${host} is a private or reserved address`);
  }
}

/**
 * Downloads a photo from an untrusted URL: http(s) only, private addresses refused (on every redirect),
 * at most `maxBytes`, all within `timeoutMs`. Failures are `EnrollmentError`s with a stable code.
 */
export class PhotoDownloader {
  private readonly dispatcher: Agent;
  private readonly privateHosts: ReadonlySet<string>;

  constructor(private readonly options: PhotoDownloadOptions) {
    this.privateHosts = new Set(options.privateHosts.map((host) => host.toLowerCase()));
    this.dispatcher = new Agent({
      connect: options.allowPrivateUrls ? {} : { lookup: lookupPublicAddressesOnly(this.privateHosts) },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connections: 4,
    });
  }

  async download(photoUrl: string, signal?: AbortSignal): Promise<Buffer> {
    const deadline = AbortSignal.timeout(this.options.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, deadline]) : deadline;
    try {
      return await this.follow(photoUrl, combined);
    } catch (error) {
      if (error instanceof EnrollmentError) throw error;
      if (deadline.aborted || error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError) {
        throw new EnrollmentError('PHOTO_TIMEOUT', `photo download took longer than ${this.options.timeoutMs} ms`, { cause: error });
      }
      const cause = (error as { cause?: unknown }).cause;
      if (cause instanceof EnrollmentError) throw cause;
      throw new EnrollmentError('PHOTO_DOWNLOAD_FAILED', `photo download failed: ${describe(error)}; ${REPLACE_HINT}`, { cause: error });
    }
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }

  private async follow(photoUrl: string, signal: AbortSignal): Promise<Buffer> {
    let url = parseUrl(photoUrl);
    for (let redirects = 0; ; redirects++) {
      checkUrl(url, this.options.allowPrivateUrls, this.privateHosts);
      const response = await request(url, {
        dispatcher: this.dispatcher,
        method: 'GET',
        signal,
        headers: { accept: 'image/*', 'user-agent': 'face-attendance/1 (photo enrollment)' },
      });
      const location = response.headers.location;
      if (response.statusCode >= 300 && response.statusCode < 400 && typeof location === 'string') {
        await response.body.dump();
        if (redirects >= this.options.maxRedirects) {
          throw new EnrollmentError('PHOTO_DOWNLOAD_FAILED', `photo download failed: more than ${this.options.maxRedirects} redirects`);
        }
        url = parseUrl(location, url);
        continue;
      }
      if (response.statusCode !== 200) {
        await response.body.dump();
        throw new EnrollmentError('PHOTO_DOWNLOAD_FAILED', `photo download failed: HTTP ${response.statusCode}; ${REPLACE_HINT}`);
      }
      return this.readCapped(response.body, Number(response.headers['content-length'] ?? Number.NaN));
    }
  }

  private async readCapped(body: AsyncIterable<Buffer> & { destroy(): void }, declaredLength: number): Promise<Buffer> {
    const tooLarge = () =>
      new EnrollmentError('PHOTO_TOO_LARGE', `photo is larger than the ${this.options.maxBytes} byte limit`);
    if (declaredLength > this.options.maxBytes) {
      body.destroy();
      throw tooLarge();
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of body) {
      total += chunk.length;
      if (total > this.options.maxBytes) {
        body.destroy();
        throw tooLarge();
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, total);
  }
}

function parseUrl(value: string, base?: URL): URL {
  try {
    return new URL(value, base);
  } catch {
    throw forbiddenUrl('not a valid URL');
  }
}

function describe(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' && !message.includes(code) ? `${code} ${message}` : message;
}
