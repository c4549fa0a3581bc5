import { describe, expect, it } from 'vitest';
import { encodeHeader, type Frame, FrameDecoder } from '../src/frame.js';

describe('FrameDecoder', () => {
  it('reassembles frames split at every byte boundary, with aligned payloads', () => {
    const payloads = [
      new Uint8Array(0),
      Uint8Array.of(1, 2, 3),
      new Uint8Array(new Float32Array([1.5, -2]).buffer),
    ];
    const wire = Buffer.concat(
      payloads.flatMap((p, i) => [encodeHeader(16 + i, 1000 + i, i, p.byteLength), Buffer.from(p)]),
    );
    for (const chunkSize of [1, 2, 5, 12, 13, wire.length]) {
      const frames: Frame[] = [];
      const decoder = new FrameDecoder((frame) => frames.push(frame));
      for (let offset = 0; offset < wire.length; offset += chunkSize) {
        decoder.push(wire.subarray(offset, offset + chunkSize));
      }
      expect(frames.map((f) => [f.op, f.seq, f.step, [...f.payload]])).toEqual(
        payloads.map((p, i) => [16 + i, 1000 + i, i, [...p]]),
      );
      expect(frames.every((f) => f.payload.byteOffset === 0)).toBe(true);
    }
  });
});
