// `node --import ./test/helpers/without-onnxruntime.mjs`: onnxruntime-node cannot be imported, as on a platform it
// has no binary for. Registered after tsx, this hook resolves first.
import { register } from 'node:module';

const hook = `export async function resolve(specifier, context, next) {
  if (specifier === 'onnxruntime-node') {
    throw Object.assign(new Error('onnxruntime-node is hidden by test/helpers/without-onnxruntime.mjs'), { code: 'ERR_MODULE_NOT_FOUND' });
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
