import type * as tfjs from '@tensorflow/tfjs';

export type Tf = typeof tfjs;

/**
 * The image as face-api feeds its detectors: float pixels, padded with black at the bottom or right to a square,
 * resized to `size` x `size`. Boxes found in it are fractions of the square; `imageShareOfSquare` undoes the padding.
 */
export function toSquareInput(tf: Tf, image: tfjs.Tensor3D, size: number): tfjs.Tensor4D {
  return tf.tidy(() => {
    const [height, width] = image.shape;
    let square = tf.cast(tf.expandDims(image), 'float32') as tfjs.Tensor4D;
    if (height !== width) {
      const padding: [number, number][] = height > width ? [[0, 0], [0, 0], [0, height - width], [0, 0]] : [[0, 0], [0, width - height], [0, 0], [0, 0]];
      square = tf.pad(square, padding);
    }
    return square.shape[1] === size ? square : tf.image.resizeBilinear(square, [size, size], false, false);
  });
}

/** How much of the square input, across and down, the image itself fills (face-api's rounding). */
export function imageShareOfSquare(width: number, height: number, size: number): { across: number; down: number } {
  const scale = size / Math.max(width, height);
  return { across: Math.round(width * scale) / size, down: Math.round(height * scale) / size };
}

/**
 * Runs one layer and frees its input at once. face-api runs a whole network inside one `tf.tidy`, which keeps every
 * layer's output until the end, and the wasm heap never gives memory back: freed layer by layer, a detector's peak
 * is two adjacent feature maps.
 */
export function freeingInput(input: tfjs.Tensor4D, layer: (x: tfjs.Tensor4D) => tfjs.Tensor4D): tfjs.Tensor4D {
  try {
    return layer(input);
  } finally {
    input.dispose();
  }
}
