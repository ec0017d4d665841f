import { access } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { InferenceBackend } from '../config/config.ts';
import type { RgbImage } from './decode-image.ts';
import { chipCoverage, extractFaceChip, type ChipLayout, type Point } from './face-chip.ts';
import { combineDescriptors, contextWeightOfCoverage } from './face-descriptor.ts';
import type { SsdDetection } from './ssd-face-detector.ts';
import { loadTfjsNetworks } from './tfjs-networks.ts';

export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface DetectedFace {
  box: FaceBox;
  score: number;
  descriptor: Float32Array;
}

/** What inference holds right now: for telling a steady session from a leaking one. */
export interface InferenceMemory {
  tensors: number;
  tensorBytes: number;
  /** The WebAssembly heap on the wasm backend (it grows to its peak and never shrinks); null where there is none. */
  heapBytes: number | null;
}

export interface FaceEngine {
  /** `onnx` (onnxruntime-node), `tensorflow` (native, @tensorflow/tfjs-node) or `wasm`. */
  readonly backend: string;
  /** Each inference already uses every core: more inference threads would only add memory. */
  readonly nativeThreads: boolean;
  /**
   * Every face in the image with its descriptor (face-descriptor.ts), largest first: the accurate detector (enrollment
   * photos). `content`: where the photo is when the image is the photo in a border, the rest of the image being no part of it.
   */
  detectFaces(image: RgbImage, content?: FaceBox): Promise<DetectedFace[]>;
  /** Where the faces are, from the cheap detector (about a tenth of the accurate one's time): for following faces. */
  locateFaces(image: RgbImage): Promise<FaceBox[]>;
  /** The aligned descriptor of the face inside each box (landmarks found within the box); each box must show part of the image. */
  describeFaces(image: RgbImage, boxes: readonly FaceBox[]): Promise<Float32Array[]>;
  memory(): InferenceMemory;
  /**
   * Frees what the runtime holds outside JavaScript; the engine is unusable afterwards and the next load builds a new
   * one. A worker thread calls it before it ends: onnxruntime's sessions are native memory that a thread's exit does
   * not free (each start/stop cycle kept about 180 MB).
   */
  release(): Promise<void>;
}

/** The four networks, run by one backend; the pipeline around them (crops, alignment, order) is the same for all. */
export interface FaceNetworks {
  readonly backend: string;
  readonly nativeThreads: boolean;
  /** What the runtime holds now, for `/status` diagnostics. */
  memory(): InferenceMemory;
  /** The accurate detector (SSD MobileNet v1): faces scoring above `minConfidence`. */
  detect(image: RgbImage, minConfidence: number): Promise<SsdDetection[]>;
  /** The cheap detector (tiny YOLO): faces scoring above `minScore`. */
  locate(image: RgbImage, minScore: number): Promise<FaceBox[]>;
  /** The 68 landmarks of the face in each crop (whole pixels inside the image), in image pixels. */
  landmarks(image: RgbImage, crops: readonly FaceBox[]): Promise<Point[][]>;
  /** dlib's 128-d descriptor of each aligned 150x150 face chip. */
  describe(chips: readonly RgbImage[]): Promise<Float32Array[]>;
  /** faceres's 1024-d descriptor (not normalised) of each aligned CONTEXT_CHIP face chip. */
  describeContext(chips: readonly RgbImage[]): Promise<Float32Array[]>;
  release(): Promise<void>;
}

export const MODEL_FILES = [
  'ssd_mobilenetv1_model-weights_manifest.json',
  'ssd_mobilenetv1_model.bin',
  'face_landmark_68_model-weights_manifest.json',
  'face_landmark_68_model.bin',
  'face_recognition_model-weights_manifest.json',
  'face_recognition_model.bin',
  'tiny_face_detector_model-weights_manifest.json',
  'tiny_face_detector_model.bin',
  'faceres.json',
  'faceres.bin',
];

/**
 * faceres's chip: 224x224 as the network takes, aligned like dlib's but with 60% padding, so that it sees the hair and
 * the outline of the face that dlib's tight chip leaves out (measured on ../shared/faces: 25% and 40% gave fewer right
 * students; docs/recognition.md, "Two networks").
 */
export const CONTEXT_CHIP: ChipLayout = { size: 224, padding: 0.6 };

/**
 * Names the weights and the steps descriptors come from: a cached descriptor is reused only under the same version.
 * `landmarks-in-crop`: enrollment landmarks are placed back from the crop they were found in (face-api shifted them by
 * the unrounded box, up to a pixel off; descriptors moved by up to 0.13).
 * Both backends give the same descriptors (within 1e-4 in distance; test/inference-backends.test.ts), so the
 * backend is not part of the version.
 */
export const DESCRIPTOR_MODEL_VERSION = 'face-api-1/ssd-mobilenetv1+landmark68+dlib-resnet/aligned-150/landmarks-in-crop+faceres-3.3.6/aligned-224-0.6/weighted-by-coverage-cubed';

export class ModelsMissingError extends Error {
  readonly code = 'MODELS_MISSING';
}

export class BackendUnavailableError extends Error {
  readonly code = 'BACKEND_UNAVAILABLE';
}

const DETECTOR_MIN_CONFIDENCE = 0.5;
const LOCATOR_MIN_SCORE = 0.5;

// The cheap detector's input side: 416 keeps faces of about 40 px in a 640x480 frame (320 misses them).
const LOCATOR_INPUT_SIZE = 416;

const loading = new Map<string, Promise<FaceEngine>>();

/**
 * Loads the detector, landmark and descriptor networks from `modelsDir` on `backend`, once per thread, backend and
 * thread count. `threads`: the cores one onnx inference is spread over (wasm always uses one).
 */
export function loadFaceEngine(modelsDir: string, backend: InferenceBackend, threads = os.availableParallelism()): Promise<FaceEngine> {
  const key = `${backend}/${threads}`;
  let engine = loading.get(key);
  if (!engine) {
    const forget = () => loading.delete(key);
    engine = load(modelsDir, backend, threads, forget).catch((error) => {
      loading.delete(key);
      throw error;
    });
    loading.set(key, engine);
  }
  return engine;
}

async function load(modelsDir: string, backend: InferenceBackend, threads: number, forget: () => void): Promise<FaceEngine> {
  for (const file of MODEL_FILES) {
    try {
      await access(path.join(modelsDir, file));
    } catch {
      throw new ModelsMissingError(
        `Model file ${file} is missing from ${modelsDir}. Run \`npm install\` (it copies the models from @vladmandic/face-api and @vladmandic/human) or set MODELS_DIR.`,
      );
    }
  }
  if (backend === 'wasm') return engineOver(await loadTfjsNetworks(modelsDir, LOCATOR_INPUT_SIZE), forget);
  try {
    const { loadOnnxNetworks } = await import('./onnx/onnx-networks.ts');
    return engineOver(await loadOnnxNetworks(modelsDir, LOCATOR_INPUT_SIZE, threads), forget);
  } catch (error) {
    if (backend === 'onnx') {
      throw new BackendUnavailableError(`INFERENCE_BACKEND=onnx but onnxruntime-node did not load: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    return engineOver(await loadTfjsNetworks(modelsDir, LOCATOR_INPUT_SIZE), forget);
  }
}

/** The pipeline over the networks: crops in whole pixels, landmarks within each crop, dlib-aligned chips, descriptors. */
function engineOver(networks: FaceNetworks, forget: () => void): FaceEngine {
  // The descriptor network carries dlib's weights, trained on landmark-aligned chips rather than detector boxes; faceres
  // gets its own chip from the same landmarks.
  const describeInCrops = async (image: RgbImage, crops: readonly FaceBox[], content: FaceBox = wholeImage(image)): Promise<Float32Array[]> => {
    const landmarks = await networks.landmarks(image, crops);
    const dlib = await networks.describe(landmarks.map((points) => extractFaceChip(image, points)));
    const context = await networks.describeContext(landmarks.map((points) => extractFaceChip(image, points, CONTEXT_CHIP)));
    return dlib.map((descriptor, i) => combineDescriptors(descriptor, context[i]!, contextWeightOfCoverage(chipCoverage(landmarks[i]!, CONTEXT_CHIP, content))));
  };

  return {
    backend: networks.backend,
    nativeThreads: networks.nativeThreads,
    memory: () => networks.memory(),

    async release() {
      forget();
      await networks.release();
    },

    async detectFaces(image: RgbImage, content?: FaceBox): Promise<DetectedFace[]> {
      const detections = (await networks.detect(image, DETECTOR_MIN_CONFIDENCE)).flatMap((detection) => {
        const crop = cropOf(detection.box, image);
        return crop ? [{ ...detection, crop }] : [];
      });
      const descriptors = await describeInCrops(image, detections.map(({ crop }) => crop), content);
      return detections
        .map(({ box, score }, i) => ({ box, score, descriptor: descriptors[i]! }))
        .sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
    },

    async locateFaces(image: RgbImage): Promise<FaceBox[]> {
      return (await networks.locate(image, LOCATOR_MIN_SCORE)).filter((box) => cropOf(box, image));
    },

    async describeFaces(image: RgbImage, boxes: readonly FaceBox[]): Promise<Float32Array[]> {
      if (boxes.length === 0) return [];
      const crops = boxes.map((box) => {
        const crop = cropOf(box, image);
        if (!crop) throw new RangeError(`face box ${JSON.stringify(box)} shows no pixel of the ${image.width}x${image.height} image`);
        return crop;
      });
      return describeInCrops(image, crops);
    },
  };
}

const wholeImage = ({ width, height }: RgbImage): FaceBox => ({ x: 0, y: 0, width, height });

/**
 * The whole pixels of the image a box covers, as face-api crops faces (clipped to the image, then floored), or
 * undefined when it covers none: a detector can report a sliver at the image's edge or a box in the padding around it.
 */
function cropOf(box: FaceBox, image: { width: number; height: number }): FaceBox | undefined {
  const x = Math.max(box.x, 0);
  const y = Math.max(box.y, 0);
  const width = Math.floor(Math.min(box.x + box.width - x, image.width - x));
  const height = Math.floor(Math.min(box.y + box.height - y, image.height - y));
  return width > 0 && height > 0 ? { x: Math.floor(x), y: Math.floor(y), width, height } : undefined;
}
