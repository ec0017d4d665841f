import type { InferenceSession } from 'onnxruntime-node';
import type { RgbImage } from '../decode-image.ts';
import type { Point } from '../face-chip.ts';
import type { FaceBox, FaceNetworks } from '../face-engine.ts';
import { detectionsFromEncodings } from '../ssd-face-detector.ts';
import { boxesFromGrid, MEAN_RGB as LOCATOR_MEAN_RGB } from '../tiny-face-locator.ts';
import {
  DESCRIPTOR_INPUT_SIZE,
  descriptorGraph,
  LANDMARK_INPUT_SIZE,
  landmarkGraph,
  SSD_INPUT_SIZE,
  ssdGraph,
  tinyGraph,
  type LandmarkParams,
  type RecognitionParams,
  type SsdGraphParams,
  type TinyGraphParams,
  type WeightTensor,
} from './face-api-graphs.ts';
import { CONTEXT_LENGTH, DLIB_LENGTH } from '../face-descriptor.ts';
import { CONTEXT_INPUT_SIZE, CONTEXT_SCALING, contextGraphBytes } from './context-graph.ts';
import { readFaceApiWeights, ssdParamPath, type WeightTree } from './face-api-weights.ts';
import { writeSquareInput, type ChannelScaling } from './network-input.ts';

type Ort = typeof import('onnxruntime-node');

// face-api's normalizations: SSD maps 0..255 to -1..1; the tiny locator, face crops (landmarks) and chips
// (descriptors) subtract a mean per channel and divide by 255. The detectors' are applied inside their graphs.
const SSD_SCALING: ChannelScaling = { scale: 1 / 127.5, offsets: [-1, -1, -1] };
const meanScaling = ([r, g, b]: readonly number[]): ChannelScaling => ({ scale: 1 / 255, offsets: [-r! / 255, -g! / 255, -b! / 255] });
const LOCATOR_SCALING = meanScaling(LOCATOR_MEAN_RGB);
const FACE_SCALING = meanScaling([122.782, 117.001, 104.298]);

/**
 * The four networks on onnxruntime-node's CPU provider, one session each, each inference spread over `threads`
 * cores (intra-op threads). The graphs are built from face-api's weight files when the engine loads (a second
 * or so, without TensorFlow.js) and kept in memory only; the decoding and suppression of detections are the same
 * functions the tfjs backend runs.
 */
export async function loadOnnxNetworks(modelsDir: string, locatorInputSize: number, threads: number): Promise<FaceNetworks> {
  const ort = await import('onnxruntime-node');
  // Each session has its own intra-op threads, and by default they spin for a while after a run: through the next
  // network's run (landmarks after the detector, descriptors after landmarks) and through the JavaScript between them,
  // taking the cores those need. Not spinning: 5 faces at 640x480 42 -> 54-60 frames/s, 10 faces 33 -> 54-57; one
  // enrollment photo 94 -> 57 ms. Values below 1e-38 (denormals) are taken as zero: the CPU computes them in slow
  // microcode (the SSD at 512x512 37 -> 35.5 ms), and they are far below what a float32 output of these networks can
  // show. The setting is per thread: onnxruntime applies it to each session's pool threads, but to the calling thread
  // only for the first session in the process, so a later session's worker thread does its share of each run without.
  const options: InferenceSession.SessionOptions = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' }, set_denormal_as_zero: '1' } },
  };
  // One network at a time: each one's weights and graph bytes are garbage once its session exists.
  const ssdWeights = await readFaceApiWeights(modelsDir, 'ssd_mobilenetv1_model', ssdParamPath);
  const anchors = Float32Array.from(((ssdWeights.output_layer as WeightTree).extra_dim as WeightTensor).dataSync());
  const detector = await ort.InferenceSession.create(ssdGraph(ssdWeights as unknown as SsdGraphParams, SSD_SCALING), options);
  const tinyWeights = await readFaceApiWeights(modelsDir, 'tiny_face_detector_model');
  const locator = await ort.InferenceSession.create(tinyGraph(tinyWeights as unknown as TinyGraphParams, locatorInputSize, LOCATOR_SCALING), options);
  const { fc, ...features } = await readFaceApiWeights(modelsDir, 'face_landmark_68_model');
  const marker = await ort.InferenceSession.create(landmarkGraph({ features, fc } as unknown as LandmarkParams), options);
  const recognitionWeights = await readFaceApiWeights(modelsDir, 'face_recognition_model');
  const describer = await ort.InferenceSession.create(descriptorGraph(recognitionWeights as unknown as RecognitionParams), options);
  const contextDescriber = await ort.InferenceSession.create(await contextGraphBytes(modelsDir), options);
  // The face crops' input buffers are reused: a batch of ten descriptors is 2.7 MB, and with malloc's trim threshold
  // fixed (see src/config/malloc-tuning.ts) each fresh one would be mapped and unmapped again. Several runs may be
  // under way at once (enrollment lanes), so each takes a buffer of its own from the free ones.
  const freeInputs = new Map<number, Float32Array[]>();
  const run = async (session: InferenceSession, dims: number[], fill: (input: Float32Array) => void) => {
    const length = dims.reduce((product, dim) => product * dim, 1);
    const free = freeInputs.get(length) ?? [];
    freeInputs.set(length, free);
    const input = free.pop() ?? new Float32Array(length);
    try {
      fill(input);
      return await session.run({ input: new ort.Tensor('float32', input, dims) });
    } finally {
      free.push(input);
    }
  };

  /** The descriptor (`length` values) of each chip, all in one run of `session`. */
  const describeChips = async (session: InferenceSession, chips: readonly RgbImage[], size: number, scaling: ChannelScaling, length: number) => {
    if (chips.length === 0) return [];
    const { descriptor } = await run(session, [chips.length, 3, size, size], (input) =>
      chips.forEach((chip, i) =>
        writeSquareInput({ image: chip, region: { x: 0, y: 0, width: chip.width, height: chip.height } }, size, scaling, input, i * 3 * size * size),
      ),
    );
    const all = descriptor!.data as Float32Array;
    return chips.map((_, i) => all.slice(i * length, (i + 1) * length));
  };

  return {
    backend: 'onnx',
    nativeThreads: true,
    // No tensor outlives an inference, and onnxruntime's own memory is native and not visible from here.
    memory: () => ({ tensors: 0, tensorBytes: 0, heapBytes: null }),
    release: async () => {
      await Promise.all([detector, locator, marker, describer, contextDescriber].map((session) => session.release()));
    },

    async detect(image, minConfidence) {
      const { boxes, scores } = await detector.run(squareImageFeeds(ort, image, SSD_INPUT_SIZE));
      return detectionsFromEncodings(boxes!.data as Float32Array, scores!.data as Float32Array, anchors, image.width, image.height, minConfidence);
    },

    async locate(image, minScore) {
      const { grid } = await locator.run(squareImageFeeds(ort, image, locatorInputSize));
      return boxesFromGrid(grid!.data as Float32Array, grid!.dims[1]!, image.width, image.height, locatorInputSize, minScore);
    },

    async landmarks(image, crops) {
      if (crops.length === 0) return [];
      const size = LANDMARK_INPUT_SIZE;
      const { landmarks: output } = await run(marker, [crops.length, 3, size, size], (input) =>
        crops.forEach((region, i) => writeSquareInput({ image, region }, size, FACE_SCALING, input, i * 3 * size * size)),
      );
      const points = output!.data as Float32Array;
      return crops.map((crop, i) => pointsInImage(points.subarray(i * 136, (i + 1) * 136), crop));
    },

    describe: (chips) => describeChips(describer, chips, DESCRIPTOR_INPUT_SIZE, FACE_SCALING, DLIB_LENGTH),
    describeContext: (chips) => describeChips(contextDescriber, chips, CONTEXT_INPUT_SIZE, CONTEXT_SCALING, CONTEXT_LENGTH),
  };
}

/** The detector graphs' inputs for an image (see `squareImageInput` in face-api-graphs.ts). */
function squareImageFeeds({ Tensor }: Ort, { data, width, height }: RgbImage, size: number): InferenceSession.FeedsType {
  const side = Math.max(width, height);
  // Enough black after the shorter side for every output sample that blends with it to exist (one source step),
  // and no more: the float copy of the whole square would be 12.6 MB for a 1024 px portrait.
  const blackAfter = (length: number) => Math.min(side - length, Math.ceil(side / size));
  const scale = scaleOnto(side, size);
  return {
    image: new Tensor('uint8', data, [1, height, width, 3]),
    blackPads: new Tensor('int64', BigInt64Array.of(0n, 0n, 0n, 0n, 0n, 0n, BigInt(blackAfter(height)), BigInt(blackAfter(width))), [8]),
    scales: new Tensor('float32', Float32Array.of(1, 1, scale, scale), [4]),
  };
}

/**
 * The float32 scale that takes `side` onto `size` samples. onnxruntime's resize makes floor(scale * side) samples
 * in float32 arithmetic, and the nearest float32 to size/side can land just below `size` (one sample short, a black
 * edge): then the next float32 up, which moves each sample's source by about a ten-millionth of its position (0.0001
 * px at the far edge of a 1024 px photo).
 */
export function scaleOnto(side: number, size: number): number {
  const scale = Math.fround(size / side);
  if (Math.fround(scale * side) >= size) return scale;
  const next = new Float32Array([scale]);
  new Uint32Array(next.buffer)[0]! += 1;
  return next[0]!;
}

/**
 * The network's 68 points (fractions of the centred square it saw) in image pixels, as face-api's postProcess and
 * `shiftBy` place them: its padding taken as exactly half the difference of the sides.
 */
function pointsInImage(relative: Float32Array, crop: FaceBox): Point[] {
  const scale = LANDMARK_INPUT_SIZE / Math.max(crop.width, crop.height);
  const width = crop.width * scale;
  const height = crop.height * scale;
  const padX = width < height ? Math.abs(width - height) / 2 : 0;
  const padY = height < width ? Math.abs(width - height) / 2 : 0;
  return Array.from({ length: 68 }, (_, i) => ({
    x: ((relative[2 * i]! * LANDMARK_INPUT_SIZE - padX) / width) * crop.width + crop.x,
    y: ((relative[2 * i + 1]! * LANDMARK_INPUT_SIZE - padY) / height) * crop.height + crop.y,
  }));
}
