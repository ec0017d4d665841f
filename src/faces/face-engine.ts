import { access } from 'node:fs/promises';
import path from 'node:path';
import type { RgbImage } from './decode-image.ts';
import { CHIP_SIZE, extractFaceChip } from './face-chip.ts';

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

export interface FaceEngine {
  /** `tensorflow` (native, @tensorflow/tfjs-node) or `wasm`. */
  readonly backend: string;
  /** Every face in the image with its 128-d descriptor, largest first. */
  detectFaces(image: RgbImage): Promise<DetectedFace[]>;
}

export const MODEL_FILES = [
  'ssd_mobilenetv1_model-weights_manifest.json',
  'ssd_mobilenetv1_model.bin',
  'face_landmark_68_model-weights_manifest.json',
  'face_landmark_68_model.bin',
  'face_recognition_model-weights_manifest.json',
  'face_recognition_model.bin',
];

export class ModelsMissingError extends Error {
  readonly code = 'MODELS_MISSING';
}

type FaceApi = typeof import('@vladmandic/face-api/dist/face-api.node-wasm.js');
// face-api's bundled typings list only part of the tfjs namespace it re-exports.
type TfRuntime = { setBackend(name: string): Promise<boolean>; ready(): Promise<void> };

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
  const detectorOptions = new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 });

  // The descriptor network carries dlib's weights, trained on landmark-aligned chips rather than detector boxes.
  const describeAligned = async (image: RgbImage, landmarks: readonly { x: number; y: number }[]): Promise<Float32Array> => {
    const chip = extractFaceChip(image, landmarks);
    const input = faceapi.tf.tensor3d(chip.data, [CHIP_SIZE, CHIP_SIZE, 3], 'int32');
    try {
      return (await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(input as never)) as Float32Array;
    } finally {
      input.dispose();
    }
  };

  return {
    backend,
    async detectFaces(image: RgbImage): Promise<DetectedFace[]> {
      const tensor = faceapi.tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
      try {
        const results = await faceapi.detectAllFaces(tensor as never, detectorOptions).withFaceLandmarks();
        const faces: DetectedFace[] = [];
        for (const { detection, landmarks } of results) {
          faces.push({
            box: { x: detection.box.x, y: detection.box.y, width: detection.box.width, height: detection.box.height },
            score: detection.score,
            descriptor: await describeAligned(image, landmarks.positions),
          });
        }
        return faces.sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
      } finally {
        tensor.dispose();
      }
    },
  };
}
