// The end-to-end test again with INFERENCE_BACKEND=wasm: the default run takes onnx where it loads, and the
// WebAssembly fallback must pass the same test. The services' process inherits this environment.
process.env.INFERENCE_BACKEND = 'wasm';
await import('./end-to-end.test.ts');
