import sharp from 'sharp';
import type { RgbImage } from '../../faces/decode-image.ts';
import type { FaceBox } from '../../faces/face-engine.ts';

export interface LabelledFace {
  box: FaceBox;
  /** The recognised rollNo, or `unknown`. */
  label: string;
}

const escapeXml = (text: string) => text.replace(/[<>&"']/g, (character) => `&#${character.charCodeAt(0)};`);

/** The frame as a JPEG with a box and a label on each face: green for a recognised student, red for `unknown`. */
export async function drawSnapshot(image: RgbImage, faces: readonly LabelledFace[]): Promise<Buffer> {
  const stroke = Math.max(2, Math.round(Math.min(image.width, image.height) / 200));
  const fontSize = Math.max(12, Math.round(image.height / 30));
  const shapes = faces.map(({ box, label }) => {
    const colour = label === 'unknown' ? '#ff3030' : '#00ff00';
    const x = Math.round(box.x);
    const y = Math.round(box.y);
    const labelHeight = Math.round(fontSize * 1.3);
    const labelY = y >= labelHeight ? y - labelHeight : y + Math.round(box.height);
    const labelWidth = Math.round(label.length * fontSize * 0.62) + 2 * stroke;
    return (
      `<rect x="${x}" y="${y}" width="${Math.round(box.width)}" height="${Math.round(box.height)}" fill="none" stroke="${colour}" stroke-width="${stroke}"/>` +
      `<rect x="${x}" y="${labelY}" width="${labelWidth}" height="${labelHeight}" fill="${colour}"/>` +
      `<text x="${x + stroke}" y="${labelY + fontSize}" font-family="sans-serif" font-size="${fontSize}" fill="#000000">${escapeXml(label)}</text>`
    );
  });
  const overlay = `<svg xmlns="http://www.w3.org/2000/svg" width="${image.width}" height="${image.height}">${shapes.join('')}</svg>`;
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .composite([{ input: Buffer.from(overlay), top: 0, left: 0 }])
    .jpeg({ quality: 80 })
    .toBuffer();
}
