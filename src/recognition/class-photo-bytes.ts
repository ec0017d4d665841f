import { decodeImage } from '../faces/decode-image.ts';
import { PhotoDownloader, type PhotoDownloadOptions } from '../photos/download-photo.ts';

/** A class photo as posted: the picture itself, or a URL fetched under the rules for student photos. */
export type ClassPhotoSource = { bytes: Uint8Array } | { url: string };

/**
 * The class photo's bytes, once they are known to decode. A photo refused here starts no session: nothing is enrolled,
 * no student photo is fetched, nothing is written. An `EnrollmentError` says why, with the codes of student photos.
 */
export async function classPhotoBytes(source: ClassPhotoSource, download: PhotoDownloadOptions): Promise<Uint8Array> {
  let bytes: Uint8Array;
  if ('bytes' in source) {
    bytes = source.bytes;
  } else {
    const downloader = new PhotoDownloader(download);
    try {
      bytes = await downloader.download(source.url);
    } finally {
      await downloader.close();
    }
  }
  // Decoded small, under the same rules as in the worker: what it would refuse as no image is refused here, mostly (a
  // file damaged past what a small decode reads fails there), without the full picture's memory.
  await decodeImage(bytes, { maxSide: 64 });
  return bytes;
}
