/**
 * Synthetic text-line images for the OCR models' calibration and validation samples:
 * dark glyph-like strokes on a light background, 48 pixels high, normalised the way
 * PaddleOCR normalises its inputs ((pixel / 255 - 0.5) / 0.5, so white is 1 and black -1).
 * A share of the lines is rotated by 180 degrees, as the direction classifier expects to
 * see. Not real text, but far closer to what the models see than uniform noise: smooth
 * backgrounds, sharp high-contrast strokes, confident classifier outputs.
 */
import { seededRandom } from '../../src/variants/sample-inputs.js';

const HEIGHT = 48;

/** One batch [count, 3, 48, width] of text lines, deterministic for a seed. */
export function textLineBatch(count: number, width: number, seed: number, rotatedShare = 0.3): Float32Array {
  const random = seededRandom(seed);
  const plane = HEIGHT * width;
  const out = new Float32Array(count * 3 * plane);
  for (let n = 0; n < count; n++) {
    const gray = textLine(width, random);
    const rotate = random() < rotatedShare;
    for (let c = 0; c < 3; c++) {
      const tint = 1 + (random() - 0.5) * 0.06;
      const base = (n * 3 + c) * plane;
      for (let i = 0; i < plane; i++) {
        const pixel = Math.min(255, Math.max(0, gray[rotate ? plane - 1 - i : i]! * tint));
        out[base + i] = (pixel / 255 - 0.5) / 0.5;
      }
    }
  }
  return out;
}

/** Grey pixels (0-255) of one line: background with noise, then glyphs along a baseline. */
function textLine(width: number, random: () => number): Float32Array {
  const pixels = new Float32Array(HEIGHT * width);
  const background = 190 + random() * 60;
  const ink = random() * 70;
  for (let i = 0; i < pixels.length; i++) pixels[i] = background + (random() - 0.5) * 12;
  const glyphHeight = 22 + Math.floor(random() * 12);
  const top = Math.floor((HEIGHT - glyphHeight) / 2 + (random() - 0.5) * 6);
  const stroke = 2 + Math.floor(random() * 3);
  const end = Math.floor(width * (0.5 + random() * 0.5));
  let x = 2 + Math.floor(random() * 8);
  while (x < end - 8) {
    const glyphWidth = Math.floor(glyphHeight * (0.45 + random() * 0.55));
    // A glyph: a few horizontal and vertical bars inside its box, sometimes a descender.
    const bars = 2 + Math.floor(random() * 4);
    for (let b = 0; b < bars; b++) {
      if (random() < 0.5) {
        const y = top + Math.floor(random() * (glyphHeight - stroke));
        fill(pixels, width, x, y, glyphWidth, stroke, ink);
      } else {
        const bx = x + Math.floor(random() * (glyphWidth - stroke));
        const descender = random() < 0.15 ? Math.floor(glyphHeight * 0.3) : 0;
        fill(pixels, width, bx, top, stroke, glyphHeight + descender, ink);
      }
    }
    x += glyphWidth + 2 + Math.floor(random() * (random() < 0.15 ? 14 : 5));
  }
  return pixels;
}

function fill(pixels: Float32Array, width: number, x: number, y: number, w: number, h: number, value: number): void {
  for (let row = Math.max(0, y); row < Math.min(HEIGHT, y + h); row++) {
    for (let col = Math.max(0, x); col < Math.min(width, x + w); col++) pixels[row * width + col] = value;
  }
}
