// SPDX-License-Identifier: MIT
//
// The screenshot decoder of the timeline tests (test/helpers/png.ts) against
// PNGs written here with each of the five scanline filters, since a wrong
// filter would make the pixel counts of those tests meaningless.
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { countColors, decodePng } from '../helpers/png.js';

function chunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body, Buffer.alloc(4)]); // the decoder does not read the CRC
}

const paeth = (a: number, b: number, c: number) => {
  const p = a + b - c;
  const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
};

/** A PNG of `pixels` (channels bytes each), row y filtered with filters[y % filters.length]. */
function encodePng(width: number, height: number, channels: 3 | 4, pixels: Uint8Array, filters: number[]): Buffer {
  const stride = width * channels;
  const raw = Buffer.alloc(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const filter = filters[y % filters.length]!;
    raw[y * (stride + 1)] = filter;
    for (let i = 0; i < stride; i++) {
      const at = y * stride + i;
      const left = i >= channels ? pixels[at - channels]! : 0;
      const up = y > 0 ? pixels[at - stride]! : 0;
      const upLeft = y > 0 && i >= channels ? pixels[at - stride - channels]! : 0;
      const predicted = [0, left, up, (left + up) >> 1, paeth(left, up, upLeft)][filter]!;
      raw[y * (stride + 1) + 1 + i] = (pixels[at]! - predicted) & 0xff;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = channels === 4 ? 6 : 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('decodePng', () => {
  for (const channels of [3, 4] as const) {
    it(`undoes every filter, ${channels === 4 ? 'RGBA' : 'RGB'}`, () => {
      const [width, height] = [7, 10];
      const pixels = noise(width * height * channels, channels);
      const image = decodePng(encodePng(width, height, channels, pixels, [0, 1, 2, 3, 4]));
      expect(image.width).toBe(width);
      expect(image.height).toBe(height);
      for (let p = 0; p < width * height; p++) {
        const rgba = [...image.rgba.subarray(p * 4, p * 4 + 4)];
        const want = [...pixels.subarray(p * channels, p * channels + channels)];
        expect(rgba, `pixel ${p}`).toEqual(channels === 4 ? want : [...want, 255]);
      }
    });
  }

  it('refuses what it does not decode', () => {
    expect(() => decodePng(Buffer.from('GIF89a'))).toThrow(/signature/);
    const png = encodePng(1, 1, 3, new Uint8Array(3), [0]);
    png[8 + 8 + 8] = 16; // IHDR's bit depth
    expect(() => decodePng(png)).toThrow(/bit depth 16/);
  });

  it('counts pixels of each colour from a row down', () => {
    // 4x2: row 0 red red green white, row 1 red green green white.
    const px = [
      [214, 39, 40], [214, 39, 40], [44, 160, 44], [255, 255, 255],
      [213, 40, 41], [44, 160, 44], [44, 160, 44], [255, 255, 255],
    ].flat();
    const image = decodePng(encodePng(4, 2, 3, Uint8Array.from(px), [4]));
    expect(countColors(image, { red: '#d62728', green: '#2ca02c' })).toEqual({ red: 3, green: 3 });
    expect(countColors(image, { red: '#d62728', green: '#2ca02c' }, 1)).toEqual({ red: 1, green: 2 });
    expect(countColors(image, { red: '#d62728' }, 0, 0)).toEqual({ red: 2 });
  });
});
