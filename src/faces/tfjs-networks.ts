import { VGG_MEAN_RGB, CONTEXT_OUTPUT, readContextModel } from './context-network.ts';
import type { Point } from './face-chip.ts';
import type { FaceNetworks, InferenceMemory } from './face-engine.ts';
import type { Tf } from './layer-by-layer.ts';
import { SsdFaceDetector, type SsdParams } from './ssd-face-detector.ts';
import { TinyFaceLocator, type TinyParams } from './tiny-face-locator.ts';

export type FaceApi = typeof import('@vladmandic/face-api/dist/face-api.node-wasm.js');
// face-api's bundled typings list only part of the tfjs namespace it re-exports.
type TfRuntime = {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  memory(): { numTensors: number; numBytes: number };
  backend(): { wasm?: { HEAP8?: Int8Array } };
};

/** TensorFlow.js's tensors alive, and its WebAssembly heap where it runs on wasm. */
export function tfjsMemory(faceapi: FaceApi): InferenceMemory {
  const tf = faceapi.tf as unknown as TfRuntime;
  const { numTensors, numBytes } = tf.memory();
  return { tensors: numTensors, tensorBytes: numBytes, heapBytes: tf.backend().wasm?.HEAP8?.length ?? null };
}

/**
 * face-api with a TensorFlow.js backend ready: @tensorflow/tfjs-node where it installed (it needs a native download
 * at install time), else WebAssembly.
 */
export async function importFaceApi(): Promise<{ faceapi: FaceApi; backend: string }> {
  try {
    // @ts-ignore: optional, absent where it cannot install
    await import('@tensorflow/tfjs-node');
    const faceapi = (await import('@vladmandic/face-api')) as unknown as FaceApi;
    return { faceapi, backend: 'tensorflow' };
  } catch {
    // the WebAssembly build below
  }
  const faceapi = await import('@vladmandic/face-api/dist/face-api.node-wasm.js');
  const tf = faceapi.tf as unknown as TfRuntime;
  await tf.setBackend('wasm');
  await tf.ready();
  return { faceapi, backend: 'wasm' };
}

/**
 * The four networks on TensorFlow.js (face-api's shared `nets`): the detectors run by the project's layer-by-layer
 * ports, landmarks and descriptors by face-api one face at a time.
 */
export async function loadTfjsNetworks(modelsDir: string, locatorInputSize: number): Promise<FaceNetworks> {
  const { faceapi, backend } = await importFaceApi();
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelsDir);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(modelsDir);
  await faceapi.nets.faceRecognitionNet.loadFromDisk(modelsDir);
  await faceapi.nets.tinyFaceDetector.loadFromDisk(modelsDir);
  const tf = faceapi.tf as unknown as Tf;
  const tfjs = faceapi.tf as unknown as typeof import('@tensorflow/tfjs');
  const { json, weightData } = await readContextModel(modelsDir);
  const contextNet = await tfjs.loadGraphModel(
    tfjs.io.fromMemory({
      modelTopology: json.modelTopology as never,
      weightSpecs: json.weightsManifest.flatMap((group) => group.weights) as never,
      weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength) as ArrayBuffer,
    }),
  );
  const detector = SsdFaceDetector.fromFaceApiParams(tf, faceapi.nets.ssdMobilenetv1.params as unknown as SsdParams);
  const locator = new TinyFaceLocator(tf, faceapi.nets.tinyFaceDetector.params as unknown as TinyParams, locatorInputSize);
  const withImageTensor = async <T>(image: { data: Uint8Array; width: number; height: number }, use: (tensor: import('@tensorflow/tfjs').Tensor3D) => Promise<T>) => {
    const tensor = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
    try {
      return await use(tensor);
    } finally {
      tensor.dispose();
    }
  };

  return {
    backend,
    // tfjs-node's own threading is not measured here: it keeps the extra enrollment threads it always had.
    nativeThreads: false,
    memory: () => tfjsMemory(faceapi),
    // The weights are face-api's shared nets, kept for the thread's next engine; the WebAssembly heap ends with the thread.
    release: async () => {},
    detect: (image, minConfidence) => withImageTensor(image, (tensor) => detector.detect(tensor, minConfidence)),
    locate: (image, minScore) => withImageTensor(image, (tensor) => locator.locate(tensor, minScore)),

    landmarks: (image, crops) =>
      withImageTensor(image, async (tensor) => {
        const rects = crops.map((crop) => new faceapi.Rect(crop.x, crop.y, crop.width, crop.height));
        const faces = await faceapi.extractFaceTensors(tensor as never, rects);
        try {
          const found: Point[][] = [];
          for (const [i, face] of faces.entries()) {
            const landmarks = (await faceapi.nets.faceLandmark68Net.detectLandmarks(face)) as InstanceType<FaceApi['FaceLandmarks68']>;
            found.push(landmarks.shiftBy(rects[i]!.x, rects[i]!.y).positions);
          }
          return found;
        } finally {
          for (const face of faces) face.dispose();
        }
      }),

    async describe(chips) {
      const descriptors: Float32Array[] = [];
      for (const chip of chips) {
        descriptors.push(
          await withImageTensor(chip, async (input) => (await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(input as never)) as Float32Array),
        );
      }
      return descriptors;
    },

    async describeContext(chips) {
      return chips.map((chip) =>
        tfjs.tidy(() => {
          const rgb = tfjs.tensor4d(Float32Array.from(chip.data), [1, chip.height, chip.width, 3]);
          const bgr = tfjs.reverse(tfjs.sub(rgb, tfjs.tensor1d(VGG_MEAN_RGB as unknown as number[])), 3);
          return Float32Array.from((contextNet.execute(bgr, CONTEXT_OUTPUT) as import('@tensorflow/tfjs').Tensor).dataSync());
        }),
      );
    },
  };
}
