import type { ChannelScaling } from './network-input.ts';
import { OnnxGraph } from './onnx-graph.ts';

/**
 * face-api's four networks rebuilt as ONNX graphs from the weights face-api loaded, layer for layer as face-api (and
 * the project's layer-by-layer ports) run them: tfjs's NHWC filters turned NCHW, batch norm and scale layers folded
 * into the convolutions, tfjs 'same' padding written out as explicit pads. The detectors take the decoded image
 * itself (see `squareImageInput`); the landmark and descriptor graphs take NCHW float32 face crops, already
 * normalized as face-api normalizes them.
 */

/** What the graphs read from a tfjs tensor of face-api's params. */
export interface WeightTensor {
  shape: number[];
  dataSync(): ArrayLike<number>;
}

const values = (tensor: WeightTensor) => Float32Array.from(tensor.dataSync());

/** A feature map in the graph being built: its value name, channels and spatial size. */
interface Feature {
  name: string;
  channels: number;
  height: number;
  width: number;
}

type Padding = 'same' | 'valid';

/** tfjs's output size and [before, after] padding of one spatial axis. */
function axisPadding(size: number, kernel: number, stride: number, padding: Padding): { out: number; before: number; after: number } {
  if (padding === 'valid') return { out: Math.floor((size - kernel) / stride) + 1, before: 0, after: 0 };
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  return { out, before: Math.floor(total / 2), after: total - Math.floor(total / 2) };
}

/**
 * A detector's input built inside its graph from the decoded image, as face-api builds it: padded with black at
 * the bottom or right to a square, resized to `size` x `size` the way tfjs's `resizeBilinear` does (asymmetric, no
 * corner alignment), each channel scaled. Done here it runs on onnxruntime's threads; in JavaScript it held the
 * inference thread 5 ms a photo. Three graph inputs (see `squareImageFeeds`): `image` [1, height, width, 3] uint8,
 * `blackPads`, enough black rows or columns after the shorter side for every sample that blends with the padding (so
 * those blend with black as tfjs's do, instead of clamping to the image's edge), and `scales`, size over the square's
 * side. The rest of the square is padded after resizing, to whatever size onnxruntime's resize gave.
 */
function squareImageInput(graph: OnnxGraph, size: number, { scale, offsets }: ChannelScaling): Feature {
  const planes = graph.node('Transpose', [graph.input('image', [1, 'height', 'width', 3], 'uint8')], { perm: [0, 3, 1, 2] });
  const edged = graph.node('Pad', [planes, graph.input('blackPads', [8], 'int64')]);
  const resized = graph.node('Resize', [graph.node('Cast', [edged], { to: 1 }), '', graph.input('scales', [4])], {
    mode: 'linear',
    coordinate_transformation_mode: 'asymmetric',
  });
  const missing = graph.node('Sub', [graph.ints([1, 3, size, size]), graph.node('Shape', [resized])]);
  const square = graph.node('Pad', [resized, graph.node('Concat', [graph.ints([0, 0, 0, 0]), missing], { axis: 0 })]);
  const scaled = graph.node('Mul', [square, graph.weight(Float32Array.of(scale), [1])]);
  const name = graph.node('Add', [scaled, graph.weight(Float32Array.from(offsets), [3, 1, 1])]);
  return { name, channels: 3, height: size, width: size };
}

/** Layer helpers over one graph, with tfjs's padding rules and filter layouts. */
class Layers {
  constructor(readonly graph: OnnxGraph) {}

  /**
   * A convolution with a tfjs filter [kh, kw, in, out]; each output channel's filter and bias multiplied by `scale`
   * and `shift` added to the bias, which folds a batch norm or scale layer that follows it.
   */
  conv(x: Feature, filter: WeightTensor, bias: Float32Array | undefined, stride: number, padding: Padding, fold?: { scale: Float32Array; shift: Float32Array }): Feature {
    const [kh, kw, cin, cout] = filter.shape as [number, number, number, number];
    const source = filter.dataSync();
    const weights = new Float32Array(cout * cin * kh * kw);
    for (let o = 0; o < cout; o++) {
      const scale = fold ? fold.scale[o]! : 1;
      for (let i = 0; i < cin; i++)
        for (let y = 0; y < kh; y++) for (let z = 0; z < kw; z++) weights[((o * cin + i) * kh + y) * kw + z] = source[((y * kw + z) * cin + i) * cout + o]! * scale;
    }
    const foldedBias = Float32Array.from({ length: cout }, (_, o) => (bias ? bias[o]! : 0) * (fold ? fold.scale[o]! : 1) + (fold ? fold.shift[o]! : 0));
    return this.convNode(x, weights, foldedBias, [cout, cin, kh, kw], stride, padding, 1);
  }

  /** A depthwise convolution with a tfjs filter [kh, kw, channels, 1], optionally folded like `conv`. */
  depthwise(x: Feature, filter: WeightTensor, bias: Float32Array | undefined, stride: number, fold?: { scale: Float32Array; shift: Float32Array }): Feature {
    const [kh, kw, channels] = filter.shape as [number, number, number, number];
    const source = filter.dataSync();
    const weights = new Float32Array(channels * kh * kw);
    for (let c = 0; c < channels; c++) {
      const scale = fold ? fold.scale[c]! : 1;
      for (let y = 0; y < kh; y++) for (let z = 0; z < kw; z++) weights[(c * kh + y) * kw + z] = source[(y * kw + z) * channels + c]! * scale;
    }
    const foldedBias = Float32Array.from({ length: channels }, (_, c) => (bias ? bias[c]! : 0) * (fold ? fold.scale[c]! : 1) + (fold ? fold.shift[c]! : 0));
    return this.convNode(x, weights, foldedBias, [channels, 1, kh, kw], stride, 'same', channels);
  }

  private convNode(x: Feature, weights: Float32Array, bias: Float32Array, dims: number[], stride: number, padding: Padding, group: number): Feature {
    const [cout, , kh, kw] = dims as [number, number, number, number];
    const vertical = axisPadding(x.height, kh, stride, padding);
    const horizontal = axisPadding(x.width, kw, stride, padding);
    const name = this.graph.node('Conv', [x.name, this.graph.weight(weights, dims), this.graph.weight(bias, [cout])], {
      kernel_shape: [kh, kw],
      strides: [stride, stride],
      pads: [vertical.before, horizontal.before, vertical.after, horizontal.after],
      group,
    });
    return { name, channels: cout, height: vertical.out, width: horizontal.out };
  }

  pool(op: 'MaxPool' | 'AveragePool', x: Feature, kernel: number, stride: number, padding: Padding): Feature {
    const vertical = axisPadding(x.height, kernel, stride, padding);
    const horizontal = axisPadding(x.width, kernel, stride, padding);
    const name = this.graph.node(op, [x.name], {
      kernel_shape: [kernel, kernel],
      strides: [stride, stride],
      pads: [vertical.before, horizontal.before, vertical.after, horizontal.after],
    });
    return { ...x, name, height: vertical.out, width: horizontal.out };
  }

  relu(x: Feature): Feature {
    return { ...x, name: this.graph.node('Relu', [x.name]) };
  }

  relu6(x: Feature): Feature {
    return { ...x, name: this.graph.node('Clip', [x.name, this.graph.weight(Float32Array.of(0), []), this.graph.weight(Float32Array.of(6), [])]) };
  }

  leakyRelu(x: Feature, alpha: number): Feature {
    return { ...x, name: this.graph.node('LeakyRelu', [x.name], { alpha: { float: alpha } }) };
  }

  add(a: Feature, b: Feature): Feature {
    return { ...a, name: this.graph.node('Add', [a.name, b.name]) };
  }

  /** Zeros appended after the last channel, row and column. */
  padEnd(x: Feature, channels: number, rows: number, columns: number): Feature {
    if (channels === 0 && rows === 0 && columns === 0) return x;
    const name = this.graph.node('Pad', [x.name, this.graph.ints([0, 0, 0, 0, 0, channels, rows, columns])]);
    return { name, channels: x.channels + channels, height: x.height + rows, width: x.width + columns };
  }

  /** [N, C, 1, 1] features times a tfjs weight matrix [C, out], plus `bias`. */
  fullyConnected(x: Feature, weights: WeightTensor, bias?: WeightTensor): string {
    const flat = this.graph.node('Flatten', [x.name]);
    const product = this.graph.node('MatMul', [flat, this.graph.weight(values(weights), weights.shape)]);
    return bias ? this.graph.node('Add', [product, this.graph.weight(values(bias), bias.shape)]) : product;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// FaceRecognitionNet (dlib's ResNet-29): 150x150 chip -> 128-d descriptor

interface ConvLayerParams {
  conv: { filters: WeightTensor; bias: WeightTensor };
  scale: { weights: WeightTensor; biases: WeightTensor };
}
interface ResidualLayerParams {
  conv1: ConvLayerParams;
  conv2: ConvLayerParams;
}
/** The shape of face-api's `nets.faceRecognitionNet.params`. */
export interface RecognitionParams {
  conv32_down: ConvLayerParams;
  [residual: string]: ResidualLayerParams | ConvLayerParams | WeightTensor;
  fc: WeightTensor;
}

export const DESCRIPTOR_INPUT_SIZE = 150;

export function descriptorGraph(params: RecognitionParams): Uint8Array {
  const graph = new OnnxGraph();
  const layers = new Layers(graph);
  const convLayer = (x: Feature, p: ConvLayerParams, stride: number, padding: Padding) =>
    layers.conv(x, p.conv.filters, values(p.conv.bias), stride, padding, { scale: values(p.scale.weights), shift: values(p.scale.biases) });
  const residual = (x: Feature, name: string) => {
    const p = params[name] as ResidualLayerParams;
    const out = convLayer(layers.relu(convLayer(x, p.conv1, 1, 'same')), p.conv2, 1, 'same');
    return layers.relu(layers.add(out, x));
  };
  const residualDown = (x: Feature, name: string) => {
    const p = params[name] as ResidualLayerParams;
    let out = convLayer(layers.relu(convLayer(x, p.conv1, 2, 'valid')), p.conv2, 1, 'same');
    const pooled = layers.pool('AveragePool', x, 2, 2, 'valid');
    // face-api pads the shortcut with zero channels, and the convolution's map with a zero row and column when the
    // 'valid' convolution came out one smaller than the pooling.
    out = layers.padEnd(out, 0, pooled.height - out.height, pooled.width - out.width);
    return layers.relu(layers.add(layers.padEnd(pooled, out.channels - pooled.channels, 0, 0), out));
  };

  let x: Feature = { name: graph.input('input', ['batch', 3, DESCRIPTOR_INPUT_SIZE, DESCRIPTOR_INPUT_SIZE]), channels: 3, height: DESCRIPTOR_INPUT_SIZE, width: DESCRIPTOR_INPUT_SIZE };
  x = layers.relu(convLayer(x, params.conv32_down, 2, 'valid'));
  x = layers.pool('MaxPool', x, 3, 2, 'valid');
  for (const name of ['conv32_1', 'conv32_2', 'conv32_3']) x = residual(x, name);
  x = residualDown(x, 'conv64_down');
  for (const name of ['conv64_1', 'conv64_2', 'conv64_3']) x = residual(x, name);
  x = residualDown(x, 'conv128_down');
  for (const name of ['conv128_1', 'conv128_2']) x = residual(x, name);
  x = residualDown(x, 'conv256_down');
  for (const name of ['conv256_1', 'conv256_2']) x = residual(x, name);
  x = residualDown(x, 'conv256_down_out');
  const averaged: Feature = { ...x, name: graph.node('GlobalAveragePool', [x.name]), height: 1, width: 1 };
  graph.node('Identity', [layers.fullyConnected(averaged, params.fc)], {}, 'descriptor');
  graph.output('descriptor', ['batch', 128]);
  return graph.toModel();
}

// ---------------------------------------------------------------------------------------------------------------
// FaceLandmark68Net: 112x112 face crop -> 68 points as fractions of the input

interface SeparableConvParams {
  depthwise_filter: WeightTensor;
  pointwise_filter: WeightTensor;
  bias: WeightTensor;
}
interface DenseBlockParams {
  conv0: SeparableConvParams | { filters: WeightTensor; bias: WeightTensor };
  conv1: SeparableConvParams;
  conv2: SeparableConvParams;
  conv3: SeparableConvParams;
}
/** The shapes of face-api's `nets.faceLandmark68Net.params` and its `faceFeatureExtractor.params`. */
export interface LandmarkParams {
  features: { dense0: DenseBlockParams; dense1: DenseBlockParams; dense2: DenseBlockParams; dense3: DenseBlockParams };
  fc: { weights: WeightTensor; bias: WeightTensor };
}

export const LANDMARK_INPUT_SIZE = 112;

export function landmarkGraph(params: LandmarkParams): Uint8Array {
  const graph = new OnnxGraph();
  const layers = new Layers(graph);
  const separable = (x: Feature, p: SeparableConvParams, stride: number) =>
    layers.conv(layers.depthwise(x, p.depthwise_filter, undefined, stride), p.pointwise_filter, values(p.bias), 1, 'same');
  // The first block opens with a plain convolution, the others with a separable one; each halves the map.
  const denseBlock = (x: Feature, p: DenseBlockParams) => {
    const out1 = layers.relu('filters' in p.conv0 ? layers.conv(x, p.conv0.filters, values(p.conv0.bias), 2, 'same') : separable(x, p.conv0, 2));
    const out2 = separable(out1, p.conv1, 1);
    const out3 = separable(layers.relu(layers.add(out1, out2)), p.conv2, 1);
    const out4 = separable(layers.relu(layers.add(out1, layers.add(out2, out3))), p.conv3, 1);
    return layers.relu(layers.add(out1, layers.add(out2, layers.add(out3, out4))));
  };
  let x: Feature = { name: graph.input('input', ['batch', 3, LANDMARK_INPUT_SIZE, LANDMARK_INPUT_SIZE]), channels: 3, height: LANDMARK_INPUT_SIZE, width: LANDMARK_INPUT_SIZE };
  x = denseBlock(x, params.features.dense0);
  x = denseBlock(x, params.features.dense1);
  x = denseBlock(x, params.features.dense2);
  x = denseBlock(x, params.features.dense3);
  x = layers.pool('AveragePool', x, 7, 2, 'valid');
  graph.node('Identity', [layers.fullyConnected(x, params.fc.weights, params.fc.bias)], {}, 'landmarks');
  graph.output('landmarks', ['batch', 136]);
  return graph.toModel();
}

// ---------------------------------------------------------------------------------------------------------------
// SSD MobileNet v1: an image, seen at 512x512 -> box encodings and face logits of every anchor

interface SsdPointwise {
  filters: WeightTensor;
  batch_norm_offset: WeightTensor;
}
interface SsdDepthwise {
  filters: WeightTensor;
  batch_norm_scale: WeightTensor;
  batch_norm_offset: WeightTensor;
  batch_norm_mean: WeightTensor;
  batch_norm_variance: WeightTensor;
}
/** The part of face-api's `nets.ssdMobilenetv1.params` the graph reads. */
export interface SsdGraphParams {
  mobilenetv1: Record<string, unknown>;
  prediction_layer: Record<string, unknown>;
}

export const SSD_INPUT_SIZE = 512;
const SSD_BATCH_NORM_EPSILON = 0.0010000000474974513;
const SSD_STRIDE_TWO_LAYERS = new Set([2, 4, 6, 12]);

/** Outputs `boxes` [anchors, 4] (encodings) and `scores` [anchors] (face probability), for one image. */
export function ssdGraph(params: SsdGraphParams, scaling: ChannelScaling): Uint8Array {
  const graph = new OnnxGraph();
  const layers = new Layers(graph);
  const { mobilenetv1, prediction_layer: prediction } = params;
  const pointwise = (x: Feature, p: SsdPointwise, stride: number) => layers.relu6(layers.conv(x, p.filters, values(p.batch_norm_offset), stride, 'same'));
  const depthwise = (x: Feature, p: SsdDepthwise, stride: number) => {
    const variance = values(p.batch_norm_variance);
    const gamma = values(p.batch_norm_scale);
    const mean = values(p.batch_norm_mean);
    const offset = values(p.batch_norm_offset);
    const scale = Float32Array.from(gamma, (g, i) => Math.fround(g / Math.fround(Math.sqrt(Math.fround(variance[i]! + SSD_BATCH_NORM_EPSILON)))));
    const shift = Float32Array.from(offset, (o, i) => o - mean[i]! * scale[i]!);
    return layers.relu6(layers.depthwise(x, p.filters, undefined, stride, { scale, shift }));
  };
  const boxParts: string[] = [];
  const classParts: string[] = [];
  const toRows = (x: Feature, columns: number) =>
    graph.node('Reshape', [graph.node('Transpose', [x.name], { perm: [0, 2, 3, 1] }), graph.ints([-1, columns])]);
  const predict = (x: Feature, index: number) => {
    const predictor = prediction[`box_predictor_${index}`] as {
      box_encoding_predictor: { filters: WeightTensor; bias: WeightTensor };
      class_predictor: { filters: WeightTensor; bias: WeightTensor };
    };
    const boxes = layers.conv(x, predictor.box_encoding_predictor.filters, values(predictor.box_encoding_predictor.bias), 1, 'same');
    const classes = layers.conv(x, predictor.class_predictor.filters, values(predictor.class_predictor.bias), 1, 'same');
    boxParts.push(toRows(boxes, 4));
    classParts.push(toRows(classes, 3));
  };

  let x = squareImageInput(graph, SSD_INPUT_SIZE, scaling);
  x = pointwise(x, mobilenetv1.conv_0 as SsdPointwise, 2);
  for (let layer = 1; layer <= 13; layer++) {
    const p = mobilenetv1[`conv_${layer}`] as { depthwise_conv: SsdDepthwise; pointwise_conv: SsdPointwise };
    x = depthwise(x, p.depthwise_conv, SSD_STRIDE_TWO_LAYERS.has(layer) ? 2 : 1);
    x = pointwise(x, p.pointwise_conv, 1);
    if (layer === 11) predict(x, 0);
  }
  predict(x, 1);
  for (let i = 0; i < 8; i++) {
    x = pointwise(x, prediction[`conv_${i}`] as SsdPointwise, i % 2 === 1 ? 2 : 1);
    if (i % 2 === 1) predict(x, 2 + (i - 1) / 2);
  }
  graph.node('Concat', boxParts, { axis: 0 }, 'boxes');
  const classes = graph.node('Concat', classParts, { axis: 0 });
  const faceLogits = graph.node('Slice', [classes, graph.ints([1]), graph.ints([2]), graph.ints([1])]);
  graph.node('Reshape', [graph.node('Sigmoid', [faceLogits]), graph.ints([-1])], {}, 'scores');
  graph.output('boxes', ['anchors', 4]);
  graph.output('scores', ['anchors']);
  return graph.toModel();
}

// ---------------------------------------------------------------------------------------------------------------
// Tiny face detector (Tiny YOLO v2 with separable convolutions): square image -> grid of 5 anchors x 5 numbers

interface TinyConv {
  filters: WeightTensor;
  bias: WeightTensor;
}
/** The shape of face-api's `nets.tinyFaceDetector.params` (no conv6 and conv7 in the face model). */
export interface TinyGraphParams {
  conv0: TinyConv;
  conv1: SeparableConvParams;
  conv2: SeparableConvParams;
  conv3: SeparableConvParams;
  conv4: SeparableConvParams;
  conv5: SeparableConvParams;
  conv8: TinyConv;
}

const TINY_LEAKY_SLOPE = 0.10000000149011612;

/** Outputs `grid` [1, cells, cells, 25] (NHWC, as the tfjs port decodes it) for an image, seen at `inputSize` square. */
export function tinyGraph(params: TinyGraphParams, inputSize: number, scaling: ChannelScaling): Uint8Array {
  const graph = new OnnxGraph();
  const layers = new Layers(graph);
  let x = squareImageInput(graph, inputSize, scaling);
  x = layers.leakyRelu(layers.conv(x, params.conv0.filters, values(params.conv0.bias), 1, 'valid'), TINY_LEAKY_SLOPE);
  for (const p of [params.conv1, params.conv2, params.conv3, params.conv4, params.conv5]) {
    x = layers.pool('MaxPool', x, 2, 2, 'same');
    x = layers.depthwise(x, p.depthwise_filter, undefined, 1);
    x = layers.leakyRelu(layers.conv(x, p.pointwise_filter, values(p.bias), 1, 'same'), TINY_LEAKY_SLOPE);
  }
  x = layers.pool('MaxPool', x, 2, 1, 'same');
  x = layers.conv(x, params.conv8.filters, values(params.conv8.bias), 1, 'valid');
  graph.node('Transpose', [x.name], { perm: [0, 2, 3, 1] }, 'grid');
  graph.output('grid', [1, x.height, x.width, x.channels]);
  return graph.toModel();
}
