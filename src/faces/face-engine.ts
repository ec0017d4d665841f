import { access } from 'node:fs/promises';
import path from 'node:path';
import type { RgbImage } from './decode-image.ts';
import { CHIP_SIZE, extractFaceChip } from './face-chip.ts';
import type { Tf } from './layer-by-layer.ts';
import { SsdFaceDetector, type SsdParams } from './ssd-face-detector.ts';
import { TinyFaceLocator, type TinyParams } from './tiny-face-locator.ts';

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
  /** `tensorflow` (native, @tensorflow/tfjs-node) or `wasm`. */
  readonly backend: string;
  /** Every face in the image with its 128-d descriptor, largest first: the accurate detector (enrollment photos). */
  detectFaces(image: RgbImage): Promise<DetectedFace[]>;
  /** Where the faces are, from the cheap detector (about a tenth of the accurate one's time): for following faces. */
  locateFaces(image: RgbImage): Promise<FaceBox[]>;
  /** The aligned descriptor of the face inside each box (landmarks found within the box); each box must show part of the image. */
  describeFaces(image: RgbImage, boxes: readonly FaceBox[]): Promise<Float32Array[]>;
  memory(): InferenceMemory;
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
];

/**
 * Names the weights and the steps descriptors come from: a cached descriptor is reused only under the same version.
 * `landmarks-in-crop`: enrollment landmarks are placed back from the crop they were found in (face-api shifted them by
 * the unrounded box, up to a pixel off; descriptors moved by up to 0.13).
 */
export const DESCRIPTOR_MODEL_VERSION = 'face-api-1/ssd-mobilenetv1+landmark68+dlib-resnet/aligned-150/landmarks-in-crop';

export class ModelsMissingError extends Error {
  readonly code = 'MODELS_MISSING';
}

type FaceApi = typeof import('@vladmandic/face-api/dist/face-api.node-wasm.js');
// face-api's bundled typings list only part of the tfjs namespace it re-exports.
type TfRuntime = {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  memory(): { numTensors: number; numBytes: number };
  backend(): { wasm?: { HEAP8?: Int8Array } };
};

// @tensorflow/tfjs-node needs a native download at install time; where it installed, it is several times faster.
async function importFaceApi(): Promise<{ faceapi: FaceApi; backend: string }> {
  try {
    // @ts-ignore: optional, absent where it cannot install
    await import('@tensorflow/tfjs-node');
    const faceapi = (await import('@vladmandic/face-api')) as unknown as FaceApi;
    return { faceapi, backend: 'tensorflow' };
  } catch {
    const faceapi = await import('@vladmandic/face-api/dist/face-api.node-wasm.js');
    await (faceapi.tf as unknown as TfRuntime).setBackend('wasm');
    return { faceapi, backend: 'wasm' };
  }
}

const DETECTOR_MIN_CONFIDENCE = 0.5;
const LOCATOR_MIN_SCORE = 0.5;
type TfTensor3D = import('@tensorflow/tfjs').Tensor3D;

// The cheap detector's input side: 416 keeps faces of about 40 px in a 640x480 frame (320 misses them).
const LOCATOR_INPUT_SIZE = 416;

let loading: Promise<FaceEngine> | undefined;

/** Loads the detector, landmark and descriptor networks from `modelsDir`, once per thread. */
export function loadFaceEngine(modelsDir: string): Promise<FaceEngine> {
  loading ??= load(modelsDir).catch((error) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

async function load(modelsDir: string): Promise<FaceEngine> {
  for (const file of MODEL_FILES) {
    try {
      await access(path.join(modelsDir, file));
    } catch {
      throw new ModelsMissingError(
        `Model file ${file} is missing from ${modelsDir}. Run \`npm install\` (it copies the models from @vladmandic/face-api) or set MODELS_DIR.`,
      );
    }
  }
  const { faceapi, backend } = await importFaceApi();
  await (faceapi.tf as unknown as TfRuntime).ready();
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelsDir);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(modelsDir);
  await faceapi.nets.faceRecognitionNet.loadFromDisk(modelsDir);
  await faceapi.nets.tinyFaceDetector.loadFromDisk(modelsDir);
  const tf = faceapi.tf as unknown as Tf;
  const runtime = faceapi.tf as unknown as TfRuntime;
  const detector = SsdFaceDetector.fromFaceApiParams(tf, faceapi.nets.ssdMobilenetv1.params as unknown as SsdParams);
  const locator = new TinyFaceLocator(tf, faceapi.nets.tinyFaceDetector.params as unknown as TinyParams, LOCATOR_INPUT_SIZE);

  // The descriptor network carries dlib's weights, trained on landmark-aligned chips rather than detector boxes.
  const describeAligned = async (image: RgbImage, landmarks: readonly { x: number; y: number }[]): Promise<Float32Array> => {
    const chip = extractFaceChip(image, landmarks);
    const input = tf.tensor3d(chip.data, [CHIP_SIZE, CHIP_SIZE, 3], 'int32');
    try {
      return (await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(input as never)) as Float32Array;
    } finally {
      input.dispose();
    }
  };

  /** Landmarks found inside each crop (`cropOf`) of `tensor` (the image's), then the aligned descriptor of each face. */
  const describeInCrops = async (tensor: TfTensor3D, image: RgbImage, cropped: readonly FaceBox[]): Promise<Float32Array[]> => {
    // Whole pixels inside the image, so that the crop and the shift back to image coordinates agree at its edges.
    const rects = cropped.map((crop) => new faceapi.Rect(crop.x, crop.y, crop.width, crop.height));
    const crops = await faceapi.extractFaceTensors(tensor as never, rects);
    try {
      const descriptors: Float32Array[] = [];
      for (const [i, crop] of crops.entries()) {
        const landmarks = (await faceapi.nets.faceLandmark68Net.detectLandmarks(crop)) as InstanceType<FaceApi['FaceLandmarks68']>;
        descriptors.push(await describeAligned(image, landmarks.shiftBy(rects[i]!.x, rects[i]!.y).positions));
      }
      return descriptors;
    } finally {
      for (const crop of crops) crop.dispose();
    }
  };

  return {
    backend,
    memory(): InferenceMemory {
      const { numTensors, numBytes } = runtime.memory();
      return { tensors: numTensors, tensorBytes: numBytes, heapBytes: runtime.backend().wasm?.HEAP8?.length ?? null };
    },

    async detectFaces(image: RgbImage): Promise<DetectedFace[]> {
      const tensor = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
      try {
        const detections = (await detector.detect(tensor, DETECTOR_MIN_CONFIDENCE)).flatMap((detection) => {
          const crop = cropOf(detection.box, image);
          return crop ? [{ ...detection, crop }] : [];
        });
        const descriptors = await describeInCrops(tensor, image, detections.map(({ crop }) => crop));
        return detections
          .map(({ box, score }, i) => ({ box, score, descriptor: descriptors[i]! }))
          .sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
      } finally {
        tensor.dispose();
      }
    },

    async locateFaces(image: RgbImage): Promise<FaceBox[]> {
      const tensor = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
      try {
        return (await locator.locate(tensor, LOCATOR_MIN_SCORE)).filter((box) => cropOf(box, image));
      } finally {
        tensor.dispose();
      }
    },

    async describeFaces(image: RgbImage, boxes: readonly FaceBox[]): Promise<Float32Array[]> {
      if (boxes.length === 0) return [];
      const cropped = boxes.map((box) => {
        const crop = cropOf(box, image);
        if (!crop) throw new RangeError(`face box ${JSON.stringify(box)} shows no pixel of the ${image.width}x${image.height} image`);
        return crop;
      });
      const tensor = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
      try {
        return await describeInCrops(tensor, image, cropped);
      } finally {
        tensor.dispose();
      }
    },
  };
}

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
