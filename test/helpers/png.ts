// SPDX-License-Identifier: MIT
//
// A PNG decoder for the screenshots the timeline tests take: 8-bit RGB or
// RGBA, not interlaced (what Chromium writes), with node:zlib for the
// inflate and the five scanline filters undone here. Anything else is
// refused with an error, never half-decoded.
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';

/** An image as rows of RGBA pixels. */
export interface Image {
  width: number;
  height: number;
  /** width × height × 4 bytes: R, G, B, A per pixel, row after row. */
  rgba: Uint8Array;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Decodes a PNG file (or its bytes). */
export function decodePng(input: string | Buffer): Image {
  const png = typeof input === 'string' ? readFileSync(input) : input;
  if (!png.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG: bad signature');
  let width = 0;
  let height = 0;
  let channels = 0;
  const data: Buffer[] = [];
  for (let at = 8; at + 8 <= png.length; ) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const body = png.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const [depth, colorType, , , interlace] = body.subarray(8, 13);
      if (depth !== 8 || interlace !== 0 || (colorType !== 2 && colorType !== 6))
        throw new Error(`unsupported PNG: bit depth ${depth}, colour type ${colorType}, interlace ${interlace}`);
      channels = colorType === 6 ? 4 : 3;
    } else if (type === 'IDAT') {
      data.push(body);
    } else if (type === 'IEND') {
      break;
    }
    at += 12 + length;
  }
  if (channels === 0) throw new Error('not a PNG: no IHDR');
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * channels;
  if (raw.length < height * (stride + 1)) throw new Error(`PNG data too short: ${raw.length} bytes for ${width}x${height}`);

  const pixels = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = y * stride;
    for (let i = 0; i < stride; i++) {
      const left = i >= channels ? pixels[out + i - channels]! : 0;
      const up = y > 0 ? pixels[out - stride + i]! : 0;
      const upLeft = y > 0 && i >= channels ? pixels[out - stride + i - channels]! : 0;
      let predicted: number;
      switch (filter) {
        case 0: predicted = 0; break;
        case 1: predicted = left; break;
        case 2: predicted = up; break;
        case 3: predicted = (left + up) >> 1; break;
        case 4: predicted = paeth(left, up, upLeft); break;
        default: throw new Error(`bad PNG filter ${filter} on row ${y}`);
      }
      pixels[out + i] = (line[i]! + predicted) & 0xff;
    }
  }

  if (channels === 4) return { width, height, rgba: pixels };
  const rgba = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    rgba[p * 4] = pixels[p * 3]!;
    rgba[p * 4 + 1] = pixels[p * 3 + 1]!;
    rgba[p * 4 + 2] = pixels[p * 3 + 2]!;
    rgba[p * 4 + 3] = 255;
  }
  return { width, height, rgba };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** '#rrggbb' as [r, g, b]. */
export function rgbOf(hex: string): [number, number, number] {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new Error(`not a #rrggbb colour: ${hex}`);
  return [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)];
}

/**
 * How many pixels of each colour (#rrggbb, within `tolerance` on each
 * channel) the image has in rows from `top` down.
 */
export function countColors(image: Image, colors: Record<string, string>, top = 0, tolerance = 2): Record<string, number> {
  const wanted = Object.entries(colors).map(([name, hex]) => [name, rgbOf(hex)] as const);
  const counts = Object.fromEntries(wanted.map(([name]) => [name, 0])) as Record<string, number>;
  for (let y = Math.max(0, top); y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const i = (y * image.width + x) * 4;
      for (const [name, [r, g, b]] of wanted) {
        if (
          Math.abs(image.rgba[i]! - r) <= tolerance &&
          Math.abs(image.rgba[i + 1]! - g) <= tolerance &&
          Math.abs(image.rgba[i + 2]! - b) <= tolerance
        ) {
          counts[name]!++;
          break;
        }
      }
    }
  }
  return counts;
}
