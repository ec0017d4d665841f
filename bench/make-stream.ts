import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ffmpegBinary } from '../src/camera/ffmpeg-source.ts';
import { FIXTURES, TILE_SIZE } from './bench-faces.ts';

const run = promisify(execFile);

export const STREAM_WIDTH = 640;
export const STREAM_HEIGHT = 480;
export const STREAM_FPS = 15;

/**
 * Encodes an MJPEG video with ffmpeg (640x480 and 112 px tiles unless `layout` says otherwise): the empty-room fixture
 * as the background and each tile drifting slowly around its place on a grid (5 across at 640 px), so that faces move
 * between frames the way people standing in a doorway or sitting in a classroom do.
 */
export async function makeStream(
  tiles: readonly string[],
  seconds: number,
  output: string,
  layout: { width: number; height: number; tileSize: number } = { width: STREAM_WIDTH, height: STREAM_HEIGHT, tileSize: TILE_SIZE },
): Promise<string> {
  const { width, height, tileSize } = layout;
  const across = Math.floor((width - 16) / (tileSize + 14));
  const inputs = ['-loop', '1', '-i', path.join(FIXTURES, 'frames/01-empty-room.jpg')];
  const filters = [`[0]scale=${width}:${height}:force_original_aspect_ratio=increase,crop=${width}:${height}[v0]`];
  tiles.forEach((tile, i) => {
    inputs.push('-loop', '1', '-i', tile);
    const x = 8 + (i % across) * (tileSize + 14);
    const y = 70 + Math.floor(i / across) * (tileSize + 90);
    filters.push(`[v${i}][${i + 1}]overlay=x='${x}+6*sin(2*PI*t/3+${i})':y='${y}+4*cos(2*PI*t/4+${i})':shortest=1[v${i + 1}]`);
  });
  await run(ffmpegBinary(), [
    '-hide_banner', '-loglevel', 'error', '-y',
    ...inputs,
    '-filter_complex', filters.join(';'),
    '-map', `[v${tiles.length}]`,
    '-t', String(seconds), '-r', String(STREAM_FPS),
    '-c:v', 'mjpeg', '-q:v', '3',
    output,
  ]);
  return output;
}
