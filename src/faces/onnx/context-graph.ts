import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { CONTEXT_OUTPUT, readContextModel, VGG_MEAN_RGB } from '../context-network.ts';
import { CONTEXT_LENGTH } from '../face-descriptor.ts';
import type { ChannelScaling } from './network-input.ts';
import { OnnxGraph } from './onnx-graph.ts';

/**
 * faceres (HSE's face recognition MobileNet v1, as @vladmandic/human ships it: a TensorFlow.js graph model) rebuilt as
 * an ONNX graph, from its input up to `global_pooling/Mean`, the 1024-d average of the last feature map, used as a
 * second face descriptor; the age and gender heads after it are left out. The tfjs graph is translated node by node
 * (NHWC to NCHW), with what costs nothing folded at conversion time: the batch norms' Mul and Add into the
 * convolutions' filters and biases, Relu + Minimum + Maximum into one Clip, and the input's channel order (the network
 * was trained Keras/caffe style on BGR minus the VGG means; the graph takes RGB minus the same means) into the first
 * convolution's filter.
 */

export const CONTEXT_INPUT_SIZE = 224;
/** The same as `writeSquareInput`'s scaling: 0..255 values kept, each channel's mean subtracted. */
export const CONTEXT_SCALING: ChannelScaling = { scale: 1, offsets: [-VGG_MEAN_RGB[0], -VGG_MEAN_RGB[1], -VGG_MEAN_RGB[2]] };

const AttrSchema = z.record(z.string(), z.unknown());
const ModelSchema = z.object({
  modelTopology: z.object({
    node: z.array(z.object({ name: z.string(), op: z.string(), input: z.array(z.string()).optional(), attr: AttrSchema.optional() })),
  }),
  weightsManifest: z.array(
    z.object({
      paths: z.array(z.string()),
      weights: z.array(
        z.object({
          name: z.string(),
          shape: z.array(z.number().int().nonnegative()),
          dtype: z.enum(['float32', 'int32']),
          quantization: z
            .object({ dtype: z.enum(['float16', 'uint8', 'uint16']), scale: z.number().optional(), min: z.number().optional() })
            .optional(),
        }),
      ),
    }),
  ),
});
type TfNode = z.infer<typeof ModelSchema>['modelTopology']['node'][number];

interface Constant {
  shape: number[];
  data: Float32Array | Int32Array;
}

/** Every float16 bit pattern's value, made when first needed. */
let HALVES: Float32Array | undefined;

/** An IEEE half-precision value as a number (exactly: every float16 is a float32). */
function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/**
 * The weights as tfjs's `io.decodeWeights` reads them: stored one after another through the groups' files (given
 * here concatenated in manifest order); float16-quantized values widened, uint8/uint16 ones as `value * scale + min`.
 */
function decodeWeights(manifest: z.infer<typeof ModelSchema>['weightsManifest'], bytes: Uint8Array): Map<string, Constant> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const weights = new Map<string, Constant>();
  let offset = 0;
  for (const spec of manifest.flatMap((group) => group.weights)) {
    const count = spec.shape.reduce((product, dim) => product * dim, 1);
    const quantization = spec.quantization;
    const width = quantization ? (quantization.dtype === 'uint8' ? 1 : 2) : 4;
    if (offset + count * width > bytes.length) throw new Error(`faceres: the weight data ends inside ${spec.name}`);
    const data = spec.dtype === 'int32' ? new Int32Array(count) : new Float32Array(count);
    if (quantization?.dtype === 'float16') {
      const halves = (HALVES ??= Float32Array.from({ length: 0x10000 }, (_, bits) => halfToFloat(bits)));
      for (let i = 0; i < count; i++) data[i] = halves[view.getUint16(offset + 2 * i, true)]!;
    } else {
      for (let i = 0; i < count; i++) {
        const at = offset + i * width;
        if (!quantization) data[i] = spec.dtype === 'int32' ? view.getInt32(at, true) : view.getFloat32(at, true);
        else data[i] = (quantization.dtype === 'uint8' ? view.getUint8(at) : view.getUint16(at, true)) * (quantization.scale ?? 1) + (quantization.min ?? 0);
      }
    }
    offset += count * width;
    weights.set(spec.name, { shape: spec.shape, data });
  }
  if (offset !== bytes.length) throw new Error(`faceres: ${bytes.length} bytes of weight data for a manifest of ${offset}`);
  return weights;
}

/** A feature map already in the graph: its ONNX value name, NCHW, and its channels and spatial size. */
interface Tensor {
  kind: 'tensor';
  name: string;
  channels: number;
  height: number;
  width: number;
}
/** A convolution not yet written, so that a Mul or Add after it can still go into its filter and bias. */
interface PendingConv {
  kind: 'conv';
  input: Tensor;
  /** ONNX layout, [out, in / group, kh, kw]. */
  weights: Float32Array;
  bias: Float32Array;
  dims: [number, number, number, number];
  group: number;
  stride: number;
  pads: [number, number, number, number];
  height: number;
  width: number;
}
/** max(lo, min(hi, input)) not yet written, so that a following Minimum or Maximum can narrow it. */
interface PendingClip {
  kind: 'clip';
  input: Tensor;
  lo: number;
  hi: number;
}
type Value = Tensor | PendingConv | PendingClip | ({ kind: 'const' } & Constant);

/** TensorFlow's SAME or VALID padding of one axis: output size and [before, after]. */
function axisPadding(size: number, kernel: number, stride: number, padding: string): { out: number; before: number; after: number } {
  if (padding === 'VALID') return { out: Math.floor((size - kernel) / stride) + 1, before: 0, after: 0 };
  if (padding !== 'SAME') throw new Error(`faceres: padding ${padding} is not supported`);
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  return { out, before: Math.floor(total / 2), after: total - Math.floor(total / 2) };
}

const attrString = (node: TfNode, key: string) => {
  const s = (node.attr?.[key] as { s?: string } | undefined)?.s;
  return s === undefined ? undefined : Buffer.from(s, 'base64').toString('latin1');
};
const attrInts = (node: TfNode, key: string) => ((node.attr?.[key] as { list?: { i?: string[] } } | undefined)?.list?.i ?? []).map(Number);
const attrBool = (node: TfNode, key: string) => (node.attr?.[key] as { b?: boolean } | undefined)?.b;

/**
 * Where `npm install` keeps the built graph, beside the weights: building it takes about 0.3 s, which every session
 * start (a worker thread loading its networks) would otherwise spend again. The version changes with the converter.
 */
export const CONTEXT_GRAPH_FILE = 'faceres.graph-v1.onnx';

/** The built graph from `models/`, or built now when it is missing or older than the weights it was built from. */
export async function contextGraphBytes(modelsDir: string): Promise<Uint8Array> {
  const built = path.join(modelsDir, CONTEXT_GRAPH_FILE);
  const [graph, weights] = await Promise.all([stat(built).catch(() => undefined), stat(path.join(modelsDir, 'faceres.bin'))]);
  if (graph && graph.mtimeMs >= weights.mtimeMs) return readFile(built);
  const { json, weightData } = await readContextModel(modelsDir);
  return contextDescriptorGraph(json, weightData);
}

/**
 * The ONNX model of faceres up to its 1024-d descriptor. Input `input`: float32 [N, 3, 224, 224], RGB values 0..255
 * minus `VGG_MEAN_RGB`; output `descriptor`: float32 [N, 1024], not normalized. `modelJson` is faceres.json as parsed,
 * `weightData` its weight files' bytes concatenated in manifest order.
 */
export function contextDescriptorGraph(modelJson: unknown, weightData: Uint8Array): Uint8Array {
  const model = ModelSchema.parse(modelJson);
  const weights = decodeWeights(model.weightsManifest, weightData);
  const nodes = new Map(model.modelTopology.node.map((node) => [node.name, node]));
  const inputsOf = (node: TfNode) => (node.input ?? []).filter((input) => !input.startsWith('^')).map((input) => input.replace(/:0$/, ''));
  const consumers = new Map<string, number>();
  for (const node of nodes.values()) for (const input of inputsOf(node)) consumers.set(input, (consumers.get(input) ?? 0) + 1);

  const graph = new OnnxGraph();
  const values = new Map<string, Value>();
  let placeholder: string | undefined;

  const materialize = (value: Value): Tensor => {
    switch (value.kind) {
      case 'tensor':
        return value;
      case 'const':
        throw new Error('faceres: a constant where a feature map was expected');
      case 'conv': {
        const [cout, , kh, kw] = value.dims;
        const name = graph.node('Conv', [value.input.name, graph.weight(value.weights, value.dims), graph.weight(value.bias, [cout])], {
          kernel_shape: [kh, kw],
          strides: [value.stride, value.stride],
          pads: value.pads,
          group: value.group,
        });
        return { kind: 'tensor', name, channels: cout, height: value.height, width: value.width };
      }
      case 'clip': {
        const { input, lo, hi } = value;
        if (lo === 0 && hi === Infinity) return { ...input, name: graph.node('Relu', [input.name]) };
        const bound = (limit: number) => (Number.isFinite(limit) ? graph.weight(Float32Array.of(limit), []) : '');
        return { ...input, name: graph.node('Clip', [input.name, bound(lo), bound(hi)]) };
      }
    }
  };

  /** A per-channel constant (a scalar, or one value per channel on the last NHWC axis) as `channels` values. */
  const perChannel = (constant: Constant, channels: number, what: string): Float32Array => {
    const count = constant.data.length;
    if (count === 1) return new Float32Array(channels).fill(constant.data[0]!);
    if (count === channels && constant.shape.at(-1) === channels) return Float32Array.from(constant.data);
    throw new Error(`faceres: ${what}: a constant of shape [${constant.shape}] for ${channels} channels`);
  };
  const scalar = (constant: Constant, what: string): number => {
    if (constant.data.length !== 1) throw new Error(`faceres: ${what}: expected a scalar, got shape [${constant.shape}]`);
    return constant.data[0]!;
  };
  const channelsOf = (value: Exclude<Value, { kind: 'const' }>) => (value.kind === 'conv' ? value.dims[0] : value.kind === 'clip' ? value.input.channels : value.channels);

  const convert = (node: TfNode): Value => {
    const [first, second] = inputsOf(node).map((input) => value(input));
    const feature = () => {
      if (!first || first.kind === 'const') throw new Error(`faceres: ${node.name} (${node.op}) has no feature map input`);
      return first;
    };
    const constant = (operand: Value | undefined) => {
      if (!operand || operand.kind !== 'const') throw new Error(`faceres: ${node.name} (${node.op}) expects a constant operand`);
      return operand;
    };
    switch (node.op) {
      case 'Placeholder': {
        if (placeholder !== undefined) throw new Error('faceres: more than one input');
        const dims = ((node.attr?.shape as { shape?: { dim?: { size: string }[] } } | undefined)?.shape?.dim ?? []).map((dim) => Number(dim.size));
        if (dims.join() !== [-1, CONTEXT_INPUT_SIZE, CONTEXT_INPUT_SIZE, 3].join()) throw new Error(`faceres: input of shape [${dims}]`);
        placeholder = node.name;
        const name = graph.input('input', ['batch', 3, CONTEXT_INPUT_SIZE, CONTEXT_INPUT_SIZE]);
        return { kind: 'tensor', name, channels: 3, height: CONTEXT_INPUT_SIZE, width: CONTEXT_INPUT_SIZE };
      }
      case 'Const': {
        const weight = weights.get(node.name);
        if (!weight) throw new Error(`faceres: no weights for ${node.name}`);
        return { kind: 'const', ...weight };
      }
      case 'Conv2D':
      case 'DepthwiseConv2dNative': {
        const x = materialize(feature());
        const kernel = constant(second);
        if ((attrString(node, 'data_format') ?? 'NHWC') !== 'NHWC') throw new Error(`faceres: ${node.name} is not NHWC`);
        if (attrInts(node, 'dilations').some((d) => d !== 1)) throw new Error(`faceres: ${node.name} is dilated`);
        const strides = attrInts(node, 'strides');
        const stride = strides[1] ?? 1;
        if (strides.length !== 4 || strides[0] !== 1 || strides[3] !== 1 || strides[2] !== stride) throw new Error(`faceres: ${node.name} strides [${strides}]`);
        const [kh, kw, cin, last] = kernel.shape as [number, number, number, number];
        if (cin !== x.channels) throw new Error(`faceres: ${node.name}: a filter for ${cin} channels on ${x.channels}`);
        const depthwise = node.op === 'DepthwiseConv2dNative';
        if (depthwise && last !== 1) throw new Error(`faceres: ${node.name}: channel multiplier ${last}`);
        const cout = depthwise ? cin : last;
        const perGroup = depthwise ? 1 : cin;
        // The graph's input is RGB where the network was trained on BGR: its first filter reads the channels reversed.
        const reversed = inputsOf(node)[0] === placeholder;
        const source = kernel.data;
        const out = new Float32Array(cout * perGroup * kh * kw);
        for (let o = 0; o < cout; o++)
          for (let i = 0; i < perGroup; i++)
            for (let y = 0; y < kh; y++)
              for (let z = 0; z < kw; z++) {
                const tfIn = depthwise ? o : reversed ? cin - 1 - i : i;
                out[((o * perGroup + i) * kh + y) * kw + z] = source[((y * kw + z) * cin + tfIn) * last + (depthwise ? 0 : o)]!;
              }
        const padding = attrString(node, 'padding') ?? '';
        const vertical = axisPadding(x.height, kh, stride, padding);
        const horizontal = axisPadding(x.width, kw, stride, padding);
        return {
          kind: 'conv',
          input: x,
          weights: out,
          bias: new Float32Array(cout),
          dims: [cout, perGroup, kh, kw],
          group: depthwise ? cin : 1,
          stride,
          pads: [vertical.before, horizontal.before, vertical.after, horizontal.after],
          height: vertical.out,
          width: horizontal.out,
        };
      }
      case 'Mul':
      case 'Add': {
        const [x, c] = first?.kind === 'const' ? [second, first] : [first, second];
        if (!x || x.kind === 'const') throw new Error(`faceres: ${node.name} (${node.op}) of two constants`);
        const factors = perChannel(constant(c), channelsOf(x), node.name);
        if (x.kind === 'conv') {
          const weightsPer = x.weights.length / x.dims[0];
          const foldedWeights = Float32Array.from(x.weights);
          const foldedBias = Float32Array.from(x.bias);
          for (let o = 0; o < x.dims[0]; o++) {
            if (node.op === 'Add') foldedBias[o]! += factors[o]!;
            else {
              foldedBias[o]! *= factors[o]!;
              for (let k = o * weightsPer; k < (o + 1) * weightsPer; k++) foldedWeights[k]! *= factors[o]!;
            }
          }
          return { ...x, weights: foldedWeights, bias: foldedBias };
        }
        const input = materialize(x);
        return { ...input, name: graph.node(node.op, [input.name, graph.weight(factors, [factors.length, 1, 1])]) };
      }
      case 'Relu': {
        const x = feature();
        if (x.kind === 'clip') return { ...x, lo: Math.max(x.lo, 0), hi: Math.max(x.hi, 0) };
        return { kind: 'clip', input: materialize(x), lo: 0, hi: Infinity };
      }
      case 'Minimum':
      case 'Maximum': {
        const [x, c] = first?.kind === 'const' ? [second, first] : [first, second];
        if (!x || x.kind === 'const') throw new Error(`faceres: ${node.name} (${node.op}) of two constants`);
        const limit = scalar(constant(c), node.name);
        // min(clip(v, lo, hi), limit) is clip(v, lo, min(hi, limit)) while limit >= lo; max likewise.
        if (x.kind === 'clip' && node.op === 'Minimum' && limit >= x.lo) return { ...x, hi: Math.min(x.hi, limit) };
        if (x.kind === 'clip' && node.op === 'Maximum' && limit <= x.hi) return { ...x, lo: Math.max(x.lo, limit) };
        const input = materialize(x);
        return node.op === 'Minimum' ? { kind: 'clip', input, lo: -Infinity, hi: limit } : { kind: 'clip', input, lo: limit, hi: Infinity };
      }
      case 'Mean': {
        const x = materialize(feature());
        const axes = [...constant(second).data].sort();
        if (axes.join() !== '1,2' || attrBool(node, 'keep_dims')) throw new Error(`faceres: ${node.name} averages axes [${axes}]`);
        const pooled = graph.node('GlobalAveragePool', [x.name]);
        return { kind: 'tensor', name: graph.node('Flatten', [pooled]), channels: x.channels, height: 1, width: 1 };
      }
      default:
        throw new Error(`faceres: ${node.name}: op ${node.op} is not supported`);
    }
  };

  // Each node converted once, after its inputs; a pending value read by more than one node is written out first.
  const value = (name: string): Value => {
    const known = values.get(name);
    if (known) return known;
    const node = nodes.get(name);
    if (!node) throw new Error(`faceres: no node ${name}`);
    let converted = convert(node);
    if ((converted.kind === 'conv' || converted.kind === 'clip') && (consumers.get(name) ?? 0) > 1) converted = materialize(converted);
    values.set(name, converted);
    return converted;
  };

  const descriptor = materialize(value(CONTEXT_OUTPUT));
  if (descriptor.channels !== CONTEXT_LENGTH) throw new Error(`faceres: a descriptor of ${descriptor.channels} values`);
  graph.node('Identity', [descriptor.name], {}, 'descriptor');
  graph.output('descriptor', ['batch', CONTEXT_LENGTH]);
  return graph.toModel();
}
