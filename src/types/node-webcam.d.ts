declare module 'node-webcam' {
  export interface WebcamOptions {
    width?: number;
    height?: number;
    quality?: number;
    delay?: number;
    frames?: number;
    saveShots?: boolean;
    output?: 'jpeg' | 'png' | 'bmp';
    device?: string | false;
    callbackReturn?: 'location' | 'buffer' | 'base64';
    verbose?: boolean;
  }
  export interface Webcam {
    capture(location: string, callback: (error: Error | null, data: string | Buffer) => void): void;
  }
  const NodeWebcam: { create(options: WebcamOptions): Webcam };
  export default NodeWebcam;
}
