import sharp from 'sharp';
import { EnrollmentError } from '../errors.ts';

// libvips keeps recent operations (up to 50 MB) in case the same image is processed again; every camera frame and photo
// here is new, so the cache only held memory, and it filled a little more with each session (idle RSS crept up about
// 2 MB a start/stop cycle). The cache is the process's, so this covers every thread's use of sharp.
sharp.cache(false);

export interface RgbImage {
  /** Packed RGB, 3 bytes per pixel, row by row. */
  data: Uint8Array;
  width: number;
  height: number;
}

export interface DecodeOptions {
  /** Larger images are scaled down to fit this many pixels on their longer side. */
  maxSide: number;
  /** Images that declare more pixels than this are refused before decoding (decompression bombs). */
  maxInputPixels?: number;
}

/** The formats the service promises to read, as sharp names them (AVIF is HEIF compressed with AV1). */
const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif']);
const ACCEPTED_NAMES = 'JPEG, PNG, WebP, GIF, TIFF or AVIF';

/** Decodes JPEG/PNG/WebP/GIF/TIFF/AVIF bytes into RGB, with EXIF orientation applied; refuses any other format. */
export async function decodeImage(bytes: Uint8Array, options: DecodeOptions): Promise<RgbImage> {
  const input = { limitInputPixels: options.maxInputPixels ?? 40_000_000, failOn: 'error' } as const;
  try {
    // sharp reads whatever its libraries know, whatever the content type said: a few hundred bytes of SVG filters (or a
    // PDF) can take minutes to render. The header says which format it is, before anything is decoded.
    const { format, compression } = await sharp(bytes, input).metadata();
    if (!ACCEPTED_FORMATS.has(format) || (format === 'heif' && compression !== 'av1')) {
      const name = format === 'heif' ? 'HEIC' : format.toUpperCase();
      throw new EnrollmentError('PHOTO_NOT_AN_IMAGE', `${name} is not accepted: send a ${ACCEPTED_NAMES} image`);
    }
    const { data, info } = await sharp(bytes, input)
      .rotate()
      .resize({ width: options.maxSide, height: options.maxSide, fit: 'inside', withoutEnlargement: true })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  } catch (error) {
    if (error instanceof EnrollmentError) throw error;
    const message = (error as Error).message;
    if (/pixel limit/i.test(message)) {
      throw new EnrollmentError('PHOTO_TOO_LARGE', 'image has too many pixels to decode safely', { cause: error });
    }
    throw new EnrollmentError('PHOTO_NOT_AN_IMAGE', `not a readable image: ${message}`, { cause: error });
  }
}
