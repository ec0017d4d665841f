const START_OF_IMAGE = Buffer.from([0xff, 0xd8]);
const END_OF_IMAGE = Buffer.from([0xff, 0xd9]);

/**
 * Cuts a byte stream of concatenated JPEG images (ffmpeg's `image2pipe` MJPEG output) into whole images.
 * Inside a JPEG's entropy-coded data 0xFF is always stuffed, so FF D9 only ever ends an image.
 */
export class JpegStreamSplitter {
  private pending: Buffer = Buffer.alloc(0);

  /** Feeds a chunk; returns the images it completed. */
  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const images: Buffer[] = [];
    for (;;) {
      const start = this.pending.indexOf(START_OF_IMAGE);
      if (start === -1) {
        this.pending = Buffer.alloc(0);
        break;
      }
      const end = this.pending.indexOf(END_OF_IMAGE, start + 2);
      if (end === -1) {
        this.pending = this.pending.subarray(start);
        break;
      }
      images.push(Buffer.from(this.pending.subarray(start, end + 2)));
      this.pending = this.pending.subarray(end + 2);
    }
    return images;
  }
}
