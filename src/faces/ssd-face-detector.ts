import type * as tfjs from '@tensorflow/tfjs';
import { overlapOfEdges, type Edges } from './box-overlap.ts';
import type { FaceBox } from './face-engine.ts';
import { freeingInput, imageShareOfSquare, toSquareInput, type Tf } from './layer-by-layer.ts';

type Tensor4D = tfjs.Tensor4D;

const INPUT_SIZE = 512;
const BATCH_NORM_EPSILON = 0.0010000000474974513;
const IOU_THRESHOLD = 0.5;
const MAX_RESULTS = 100;
// MobileNet v1 layers whose depthwise convolution halves the feature map.
const STRIDE_TWO_LAYERS = new Set([2, 4, 6, 12]);
// Prediction-layer convolutions: odd ones halve the feature map.
const PREDICTION_CONVS = 8;

export interface SsdDetection {
  box: FaceBox;
  score: number;
}

/** A convolution with batch norm already folded in, run as one fused kernel with relu6 or no activation. */
interface FusedConv {
  filter: tfjs.Tensor4D;
  bias: tfjs.Tensor1D;
}

/**
 * face-api's SSD MobileNet v1 face detector with the same weights, anchors and suppression, run layer by layer
 * (`freeingInput`): 48 MB of live tensors at the peak instead of face-api's 162. Each layer is one fused kernel
 * (batch norm folded into the weights, bias and relu6 in the convolution).
 */
export class SsdFaceDetector {
  private constructor(
    private readonly tf: Tf,
    private readonly backbone: { conv0: FusedConv; pairs: { depthwise: FusedConv; pointwise: FusedConv }[] },
    private readonly extraLayers: FusedConv[],
    private readonly predictors: { boxes: FusedConv; classes: FusedConv }[],
    private readonly anchors: Float32Array,
  ) {}

  /** Takes the weights face-api loaded (`nets.ssdMobilenetv1.params`); folds them once. */
  static fromFaceApiParams(tf: Tf, params: SsdParams): SsdFaceDetector {
    const { mobilenetv1, prediction_layer: prediction, output_layer: output } = params;
    const pointwise = ({ filters, batch_norm_offset }: PointwiseParams): FusedConv => ({ filter: filters, bias: batch_norm_offset });
    const depthwise = (layer: DepthwiseParams): FusedConv =>
      tf.tidy(() => {
        const scale = tf.div(layer.batch_norm_scale, tf.sqrt(tf.add(layer.batch_norm_variance, BATCH_NORM_EPSILON)));
        return {
          filter: tf.mul(layer.filters, tf.reshape(scale, [1, 1, -1, 1])) as tfjs.Tensor4D,
          bias: tf.sub(layer.batch_norm_offset, tf.mul(layer.batch_norm_mean, scale)) as tfjs.Tensor1D,
        };
      });
    const pairs = Array.from({ length: 13 }, (_, i) => {
      const layer = mobilenetv1[`conv_${i + 1}`] as { depthwise_conv: DepthwiseParams; pointwise_conv: PointwiseParams };
      return { depthwise: depthwise(layer.depthwise_conv), pointwise: pointwise(layer.pointwise_conv) };
    });
    const extraLayers = Array.from({ length: PREDICTION_CONVS }, (_, i) => pointwise(prediction[`conv_${i}`] as PointwiseParams));
    const predictors = Array.from({ length: 6 }, (_, i) => {
      const predictor = prediction[`box_predictor_${i}`] as { box_encoding_predictor: ConvParams; class_predictor: ConvParams };
      return {
        boxes: { filter: predictor.box_encoding_predictor.filters, bias: predictor.box_encoding_predictor.bias },
        classes: { filter: predictor.class_predictor.filters, bias: predictor.class_predictor.bias },
      };
    });
    const anchors = output.extra_dim.dataSync() as Float32Array;
    return new SsdFaceDetector(tf, { conv0: pointwise(mobilenetv1.conv_0 as PointwiseParams), pairs }, extraLayers, predictors, anchors);
  }

  /** Faces in an RGB image tensor ([height, width, 3]) scoring above `minConfidence`, in image pixels. */
  async detect(image: tfjs.Tensor3D, minConfidence: number): Promise<SsdDetection[]> {
    const { tf } = this;
    const [height, width] = image.shape;
    const { boxEncodings, classScores } = this.forward(this.tf.tidy(() => tf.sub(tf.div(toSquareInput(tf, image, INPUT_SIZE), 127.5), 1)));
    try {
      return detectionsFromEncodings((await boxEncodings.data()) as Float32Array, (await classScores.data()) as Float32Array, this.anchors, width, height, minConfidence);
    } finally {
      boxEncodings.dispose();
      classScores.dispose();
    }
  }

  /** Box encodings [anchors × 4] and face scores [anchors], with `input` disposed. */
  private forward(input: Tensor4D): { boxEncodings: tfjs.Tensor; classScores: tfjs.Tensor } {
    const { tf } = this;
    const boxParts: tfjs.Tensor[] = [];
    const classParts: tfjs.Tensor[] = [];
    const predict = (features: Tensor4D, index: number) => {
      const predictor = this.predictors[index]!;
      boxParts[index] = tf.tidy(() => tf.reshape(this.conv(features, predictor.boxes, 1, 'linear'), [-1, 4]));
      classParts[index] = tf.tidy(() => tf.reshape(this.conv(features, predictor.classes, 1, 'linear'), [-1, 3]));
    };
    let features = input;
    try {
      features = freeingInput(features, (x) => this.conv(x, this.backbone.conv0, 2, 'relu6'));
      this.backbone.pairs.forEach((pair, i) => {
        const layer = i + 1;
        features = freeingInput(features, (x) => this.depthwiseConv(x, pair.depthwise, STRIDE_TWO_LAYERS.has(layer) ? 2 : 1));
        features = freeingInput(features, (x) => this.conv(x, pair.pointwise, 1, 'relu6'));
        if (layer === 11) predict(features, 0);
      });
      predict(features, 1);
      for (let i = 0; i < PREDICTION_CONVS; i++) {
        features = freeingInput(features, (x) => this.conv(x, this.extraLayers[i]!, i % 2 === 1 ? 2 : 1, 'relu6'));
        if (i % 2 === 1) predict(features, 2 + (i - 1) / 2);
      }
      return tf.tidy(() => ({
        boxEncodings: tf.concat(boxParts, 0),
        classScores: tf.reshape(tf.sigmoid(tf.slice(tf.concat(classParts, 0), [0, 1], [-1, 1])), [-1]),
      }));
    } finally {
      // Also on a failed layer (the wasm heap can run out): the last feature map and the predictions made so far.
      features.dispose();
      tf.dispose([...boxParts, ...classParts]);
    }
  }

  private conv(x: Tensor4D, { filter, bias }: FusedConv, stride: number, activation: 'relu6' | 'linear'): Tensor4D {
    return this.tf.fused.conv2d({ x, filter, bias, strides: [stride, stride], pad: 'same', activation });
  }

  private depthwiseConv(x: Tensor4D, { filter, bias }: FusedConv, stride: number): Tensor4D {
    return this.tf.fused.depthwiseConv2d({ x, filter, bias, strides: [stride, stride], pad: 'same', activation: 'relu6' });
  }
}

/**
 * face-api's decoding and suppression of the network's outputs (box encodings [anchors × 4] and face scores
 * [anchors] for the padded square input): the faces above `minConfidence`, in pixels of the `width` x `height` image.
 */
export function detectionsFromEncodings(
  encodings: Float32Array,
  scores: Float32Array,
  anchors: Float32Array,
  width: number,
  height: number,
  minConfidence: number,
): SsdDetection[] {
  const boxes = decodeBoxes(encodings, anchors);
  const share = imageShareOfSquare(width, height, INPUT_SIZE);
  const padX = 1 / share.across;
  const padY = 1 / share.down;
  return suppressOverlaps(boxes, scores, minConfidence).map((index) => {
    const top = Math.max(0, boxes[index * 4]!) * padY;
    const left = Math.max(0, boxes[index * 4 + 1]!) * padX;
    const bottom = Math.min(1, boxes[index * 4 + 2]!) * padY;
    const right = Math.min(1, boxes[index * 4 + 3]!) * padX;
    return { score: scores[index]!, box: { x: left * width, y: top * height, width: (right - left) * width, height: (bottom - top) * height } };
  });
}

/** Anchor-relative encodings to [top, left, bottom, right] fractions of the padded square (face-api's decoding). */
function decodeBoxes(encodings: Float32Array, anchors: Float32Array): Float32Array {
  const boxes = new Float32Array(encodings.length);
  for (let i = 0; i < encodings.length; i += 4) {
    const anchorHeight = anchors[i + 2]! - anchors[i]!;
    const anchorWidth = anchors[i + 3]! - anchors[i + 1]!;
    const centerY = anchors[i]! + anchorHeight / 2;
    const centerX = anchors[i + 1]! + anchorWidth / 2;
    const halfHeight = (Math.exp(encodings[i + 2]! / 5) * anchorHeight) / 2;
    const halfWidth = (Math.exp(encodings[i + 3]! / 5) * anchorWidth) / 2;
    const y = (encodings[i]! / 10) * anchorHeight + centerY;
    const x = (encodings[i + 1]! / 10) * anchorWidth + centerX;
    boxes[i] = y - halfHeight;
    boxes[i + 1] = x - halfWidth;
    boxes[i + 2] = y + halfHeight;
    boxes[i + 3] = x + halfWidth;
  }
  return boxes;
}

/** Greedy non-maximum suppression as face-api does it: indices of the kept boxes, best score first. */
function suppressOverlaps(boxes: Float32Array, scores: Float32Array, minScore: number): number[] {
  const candidates: number[] = [];
  for (let i = 0; i < scores.length; i++) if (scores[i]! > minScore) candidates.push(i);
  candidates.sort((a, b) => scores[b]! - scores[a]!);
  const kept: number[] = [];
  for (const candidate of candidates) {
    if (kept.length >= MAX_RESULTS) break;
    if (kept.every((other) => overlapOfEdges(edgesAt(boxes, candidate), edgesAt(boxes, other)) <= IOU_THRESHOLD)) kept.push(candidate);
  }
  return kept;
}

/** Box `index` of [top, left, bottom, right] rows, whichever way round its corners came out. */
function edgesAt(boxes: Float32Array, index: number): Edges {
  const [a, b, c, d] = [boxes[index * 4]!, boxes[index * 4 + 1]!, boxes[index * 4 + 2]!, boxes[index * 4 + 3]!];
  return { top: Math.min(a, c), left: Math.min(b, d), bottom: Math.max(a, c), right: Math.max(b, d) };
}

interface PointwiseParams {
  filters: tfjs.Tensor4D;
  batch_norm_offset: tfjs.Tensor1D;
}
interface DepthwiseParams {
  filters: tfjs.Tensor4D;
  batch_norm_scale: tfjs.Tensor1D;
  batch_norm_offset: tfjs.Tensor1D;
  batch_norm_mean: tfjs.Tensor1D;
  batch_norm_variance: tfjs.Tensor1D;
}
interface ConvParams {
  filters: tfjs.Tensor4D;
  bias: tfjs.Tensor1D;
}
/** The shape of face-api's `nets.ssdMobilenetv1.params`. */
export interface SsdParams {
  mobilenetv1: Record<string, unknown>;
  prediction_layer: Record<string, unknown>;
  output_layer: { extra_dim: tfjs.Tensor3D };
}
