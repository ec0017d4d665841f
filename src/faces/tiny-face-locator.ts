import type * as tfjs from '@tensorflow/tfjs';
import { overlapOfEdges, type Edges } from './box-overlap.ts';
import type { FaceBox } from './face-engine.ts';
import { freeingInput, imageShareOfSquare, toSquareInput, type Tf } from './layer-by-layer.ts';

// face-api's TinyFaceDetector constants (tinyFaceDetector/const.ts).
export const MEAN_RGB = [117.001, 114.697, 97.404];
const ANCHORS = [
  [1.603231, 2.094468],
  [6.041143, 7.080126],
  [2.882459, 3.518061],
  [4.266906, 5.178857],
  [9.041765, 10.66308],
] as const;
const IOU_THRESHOLD = 0.4;
const LEAKY_SLOPE = 0.10000000149011612;

interface ConvParams {
  filters: tfjs.Tensor4D;
  bias: tfjs.Tensor1D;
}
interface SeparableConvParams {
  depthwise_filter: tfjs.Tensor4D;
  pointwise_filter: tfjs.Tensor4D;
  bias: tfjs.Tensor1D;
}
/** The shape of face-api's `nets.tinyFaceDetector.params` (no conv6 and conv7 in the face model). */
export interface TinyParams {
  conv0: ConvParams;
  conv1: SeparableConvParams;
  conv2: SeparableConvParams;
  conv3: SeparableConvParams;
  conv4: SeparableConvParams;
  conv5: SeparableConvParams;
  conv8: ConvParams;
}

/**
 * face-api's tiny face detector (a Tiny YOLO v2 with separable convolutions) with the same weights, anchors and
 * suppression, run layer by layer (`freeingInput`) with bias and leaky relu fused into the convolutions.
 */
export class TinyFaceLocator {
  constructor(
    private readonly tf: Tf,
    private readonly params: TinyParams,
    private readonly inputSize: number,
  ) {}

  /** Faces in an RGB image tensor ([height, width, 3]) scoring above `minScore`, in image pixels. */
  async locate(image: tfjs.Tensor3D, minScore: number): Promise<FaceBox[]> {
    const { tf, params } = this;
    const [height, width] = image.shape;
    let features = tf.tidy(() => tf.div(tf.sub(toSquareInput(tf, image, this.inputSize), tf.tensor1d(MEAN_RGB)), 255) as tfjs.Tensor4D);
    features = freeingInput(features, (x) => this.conv(x, params.conv0.filters, params.conv0.bias, 'valid', 'leakyrelu'));
    for (const layer of [params.conv1, params.conv2, params.conv3, params.conv4, params.conv5]) {
      features = freeingInput(features, (x) => tf.maxPool(x, [2, 2], [2, 2], 'same'));
      features = freeingInput(features, (x) => tf.depthwiseConv2d(x, layer.depthwise_filter, [1, 1], 'same'));
      features = freeingInput(features, (x) => this.conv(x, layer.pointwise_filter, layer.bias, 'same', 'leakyrelu'));
    }
    const output = freeingInput(features, (x) => tf.maxPool(x, [2, 2], [1, 1], 'same'));
    const cells = output.shape[1];
    const prediction = freeingInput(output, (x) => this.conv(x, params.conv8.filters, params.conv8.bias, 'valid', 'linear'));
    let encodings: Float32Array;
    try {
      encodings = (await prediction.data()) as Float32Array;
    } finally {
      prediction.dispose();
    }
    return boxesFromGrid(encodings, cells, width, height, this.inputSize, minScore);
  }

  private conv(x: tfjs.Tensor4D, filter: tfjs.Tensor4D, bias: tfjs.Tensor1D, pad: 'same' | 'valid', activation: 'leakyrelu' | 'linear'): tfjs.Tensor4D {
    return this.tf.fused.conv2d({ x, filter, bias, strides: [1, 1], pad, activation, leakyreluAlpha: LEAKY_SLOPE });
  }
}

/**
 * face-api's decoding of the network's grid (cells × cells × anchors × (x, y, w, h, score), NHWC) for an `inputSize`
 * square: the faces scoring above `minScore`, overlaps suppressed, in pixels of the `width` x `height` image.
 */
export function boxesFromGrid(encodings: Float32Array, cells: number, width: number, height: number, inputSize: number, minScore: number): FaceBox[] {
  const share = imageShareOfSquare(width, height, inputSize);
  const found: { box: Edges; score: number }[] = [];
  for (let row = 0; row < cells; row++) {
    for (let col = 0; col < cells; col++) {
      for (const [anchor, [anchorWidth, anchorHeight]] of ANCHORS.entries()) {
        const offset = ((row * cells + col) * ANCHORS.length + anchor) * 5;
        const score = sigmoid(encodings[offset + 4]!);
        if (score <= minScore) continue;
        const centerX = (col + sigmoid(encodings[offset]!)) / cells / share.across;
        const centerY = (row + sigmoid(encodings[offset + 1]!)) / cells / share.down;
        const boxWidth = (Math.exp(encodings[offset + 2]!) * anchorWidth) / cells / share.across;
        const boxHeight = (Math.exp(encodings[offset + 3]!) * anchorHeight) / cells / share.down;
        const left = centerX - boxWidth / 2;
        const top = centerY - boxHeight / 2;
        found.push({ box: { left, top, right: left + boxWidth, bottom: top + boxHeight }, score });
      }
    }
  }
  return suppressOverlaps(found).map(({ left, top, right, bottom }) => ({
    x: left * width,
    y: top * height,
    width: (right - left) * width,
    height: (bottom - top) * height,
  }));
}

/** face-api's greedy suppression for this detector: the best remaining box wins (the later one of equal scores). */
function suppressOverlaps(found: { box: Edges; score: number }[]): Edges[] {
  const remaining = found.map((_, i) => i).sort((a, b) => found[a]!.score - found[b]!.score);
  const kept: Edges[] = [];
  for (let best = remaining.pop(); best !== undefined; best = remaining.pop()) {
    const box = found[best]!.box;
    kept.push(box);
    for (let i = remaining.length - 1; i >= 0; i--) if (overlapOfEdges(box, found[remaining[i]!]!.box) > IOU_THRESHOLD) remaining.splice(i, 1);
  }
  return kept;
}

function sigmoid(value: number): number {
  return 1 / (1 + Math.exp(-value));
}
