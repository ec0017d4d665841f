import { FfmpegSource } from '../src/camera/ffmpeg-source.ts';
import { decodeImage } from '../src/faces/decode-image.ts';
import type { FaceEngine } from '../src/faces/face-engine.ts';
import type { FaceMatcher } from '../src/faces/face-matcher.ts';
import { findFrameFaces, FRAME_MAX_SIDE } from '../src/faces/find-faces.ts';
import { FaceTracks } from '../src/recognition/worker/face-tracks.ts';
import { FrameRecognizer } from '../src/recognition/worker/frame-recognizer.ts';

export type ProcessFrame = (frame: Buffer, now: number) => Promise<unknown>;

const TRACK_RULE = { minFrames: 2, maxGapFrames: 2 };

/** The pipeline before this benchmark existed: accurate detection, landmarks and a descriptor for every face of every frame. */
export function naivePipeline(engine: FaceEngine, matcher: FaceMatcher): ProcessFrame {
  const tracks = new FaceTracks(TRACK_RULE);
  return async (frame) => {
    const { faces } = await findFrameFaces(frame, engine);
    return tracks.observe(faces.map((face) => ({ box: face.box, match: matcher.match(face.descriptor) })));
  };
}

/** What the recognition worker runs. */
export function projectPipeline(engine: FaceEngine, matcher: FaceMatcher): ProcessFrame {
  const recognizer = new FrameRecognizer(engine, matcher, new FaceTracks(TRACK_RULE), TRACK_RULE.minFrames);
  return async (frame, now) => recognizer.recognize(await decodeImage(frame, { maxSide: FRAME_MAX_SIDE }), now);
}

export interface Throughput {
  frames: number;
  seconds: number;
  framesPerSecond: number;
}

/** Frames per second sustained over `budgetMs` (or the whole video), every frame of the video read by ffmpeg in turn. */
export async function measureThroughput(video: string, process: ProcessFrame, budgetMs: number): Promise<Throughput> {
  const source = new FfmpegSource(video);
  let frames = 0;
  const started = performance.now();
  try {
    for (;;) {
      const frame = await source.nextFrame();
      if (!frame) break;
      await process(frame, Date.now());
      frames += 1;
      if (performance.now() - started >= budgetMs) break;
    }
  } finally {
    await source.close();
  }
  const seconds = (performance.now() - started) / 1000;
  return { frames, seconds: round(seconds, 2), framesPerSecond: round(frames / seconds, 2) };
}

export const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
