/** A camera, stream or folder that yields encoded image frames (JPEG, PNG…), one at a time, on demand. */
export interface FrameSource {
  /** The next frame, or `undefined` once the source has no more frames. Rejects with a `CameraError`. */
  nextFrame(): Promise<Buffer | undefined>;
  /** Frames read from the camera and not yet taken by `nextFrame` (stays small while frames are taken). */
  readonly queuedFrames: number;
  /** Stops the source and releases the device or process behind it. Safe to call twice. */
  close(): Promise<void>;
}
