import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { WeightTensor } from './face-api-graphs.ts';

// TensorFlow.js's weights manifest: groups of weights stored one after another in the group's binary files.
const ManifestSchema = z.array(
  z.object({
    paths: z.array(z.string()),
    weights: z.array(
      z.object({
        name: z.string(),
        shape: z.array(z.number().int().nonnegative()),
        dtype: z.enum(['float32', 'int32']),
        quantization: z.object({ dtype: z.enum(['uint8', 'uint16']), scale: z.number(), min: z.number() }).optional(),
      }),
    ),
  }),
);

/** A nested object of weights, keyed by the parts of their names (`dense0/conv0/filters` → `dense0.conv0.filters`). */
export interface WeightTree {
  [part: string]: WeightTree | WeightTensor;
}

/**
 * Reads a face-api model's weights as tfjs's `io.decodeWeights` does (uint8 and uint16 quantized values dequantized as
 * `value * scale + min`), without loading TensorFlow.js: on onnxruntime, tfjs was there only to read these files and
 * cost each recognition worker about 90 MB. `rename` maps a stored name to face-api's parameter path.
 */
export async function readFaceApiWeights(modelsDir: string, model: string, rename: (name: string) => string | undefined = (name) => name): Promise<WeightTree> {
  const manifest = ManifestSchema.parse(JSON.parse(await readFile(path.join(modelsDir, `${model}-weights_manifest.json`), 'utf8')));
  const tree: WeightTree = {};
  for (const group of manifest) {
    const bytes = Buffer.concat(await Promise.all(group.paths.map((file) => readFile(path.join(modelsDir, file)))));
    let offset = 0;
    for (const weight of group.weights) {
      const count = weight.shape.reduce((product, dim) => product * dim, 1);
      const { quantization } = weight;
      const byteLength = count * (quantization ? (quantization.dtype === 'uint8' ? 1 : 2) : 4);
      if (offset + byteLength > bytes.length) throw new Error(`${model}: the weight files end inside ${weight.name}`);
      const raw = bytes.subarray(offset, offset + byteLength);
      offset += byteLength;
      const paramPath = rename(weight.name);
      if (paramPath === undefined) continue;
      const data = new Float32Array(count);
      if (quantization) {
        const stored = quantization.dtype === 'uint8' ? raw : new Uint16Array(Uint8Array.from(raw).buffer);
        for (let i = 0; i < count; i++) data[i] = stored[i]! * quantization.scale + quantization.min;
      } else if (weight.dtype === 'float32') {
        data.set(new Float32Array(Uint8Array.from(raw).buffer));
      } else {
        data.set(new Int32Array(Uint8Array.from(raw).buffer));
      }
      place(tree, paramPath.split('/'), { shape: weight.shape, dataSync: () => data });
    }
  }
  return tree;
}

function place(tree: WeightTree, parts: string[], tensor: WeightTensor): void {
  let node = tree;
  for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as WeightTree;
  node[parts.at(-1)!] = tensor;
}

/**
 * The SSD MobileNet v1 weights are stored under TensorFlow's names; face-api's `extractParamsFromWeightMap` gives them
 * these parameter paths (the preprocessing and postprocessing constants are not used).
 */
export function ssdParamPath(name: string): string | undefined {
  const batchNorm: Record<string, string> = { gamma: 'batch_norm_scale', beta: 'batch_norm_offset', moving_mean: 'batch_norm_mean', moving_variance: 'batch_norm_variance' };
  let match: RegExpExecArray | null;
  if ((match = /^MobilenetV1\/Conv2d_(\d+)_pointwise\/(weights|convolution_bn_offset)$/.exec(name))) {
    const layer = match[1] === '0' ? 'mobilenetv1/conv_0' : `mobilenetv1/conv_${match[1]}/pointwise_conv`;
    return `${layer}/${match[2] === 'weights' ? 'filters' : 'batch_norm_offset'}`;
  }
  if ((match = /^MobilenetV1\/Conv2d_(\d+)_depthwise\/depthwise_weights$/.exec(name))) return `mobilenetv1/conv_${match[1]}/depthwise_conv/filters`;
  if ((match = /^MobilenetV1\/Conv2d_(\d+)_depthwise\/BatchNorm\/(\w+)$/.exec(name)) && batchNorm[match[2]!]) {
    return `mobilenetv1/conv_${match[1]}/depthwise_conv/${batchNorm[match[2]!]}`;
  }
  if ((match = /^Prediction\/Conv2d_(\d+)_pointwise\/(weights|convolution_bn_offset)$/.exec(name))) {
    return `prediction_layer/conv_${match[1]}/${match[2] === 'weights' ? 'filters' : 'batch_norm_offset'}`;
  }
  if ((match = /^Prediction\/BoxPredictor_(\d+)\/(BoxEncodingPredictor|ClassPredictor)\/(weights|biases)$/.exec(name))) {
    const predictor = match[2] === 'BoxEncodingPredictor' ? 'box_encoding_predictor' : 'class_predictor';
    return `prediction_layer/box_predictor_${match[1]}/${predictor}/${match[3] === 'weights' ? 'filters' : 'bias'}`;
  }
  if (name === 'Output/extra_dim') return 'output_layer/extra_dim';
  return undefined;
}
