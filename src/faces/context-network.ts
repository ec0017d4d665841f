import { readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * faceres (`models/faceres.json` and `.bin`, from @vladmandic/human): HSE's MobileNet trained on VGGFace2, whose
 * pooled 1024 features describe a face. It was trained in Keras's caffe style: BGR, each channel less its mean over
 * ImageNet. Both backends take RGB less these means and reverse the channels themselves.
 */
export const VGG_MEAN_RGB = [123.68, 116.779, 103.939] as const;
export const CONTEXT_OUTPUT = 'global_pooling/Mean';

export interface ContextModel {
  /** The TensorFlow.js graph model's JSON (`modelTopology`, `weightsManifest`). */
  json: { modelTopology: unknown; weightsManifest: { paths: string[]; weights: unknown[] }[] };
  weightData: Uint8Array;
}

export async function readContextModel(modelsDir: string): Promise<ContextModel> {
  const json = JSON.parse(await readFile(path.join(modelsDir, 'faceres.json'), 'utf8')) as ContextModel['json'];
  const weightData = await readFile(path.join(modelsDir, 'faceres.bin'));
  return { json, weightData };
}
