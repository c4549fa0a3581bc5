import { describe, expect, it } from 'vitest';
import { encodeHeader, type Frame, FrameDecoder, type FrameHeader } from '../src/frame.js';

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

describe('FrameDecoder placement', () => {
  const wire = (payloads: Uint8Array[]): Buffer =>
    Buffer.concat(
      payloads.flatMap((p, i) => [encodeHeader(16, 7, i, p.byteLength), Buffer.from(p)]),
    );

  it('writes a payload where placeFor says, when the length fits, across chunk boundaries', () => {
    const payloads = [Uint8Array.of(1, 2, 3, 4, 5), Uint8Array.of(6, 7), Uint8Array.of(8, 9, 10)];
    const bytes = wire(payloads);
    for (const chunkSize of [1, 3, 12, 17, bytes.length]) {
      const target = new Uint8Array(8);
      const frames: Frame[] = [];
      const headers: FrameHeader[] = [];
      const decoder = new FrameDecoder(
        (frame) => frames.push(frame),
        (header) => {
          headers.push(header);
          // Step 0 into target[0..5), step 1 offered memory of the wrong length, step 2 nothing.
          if (header.step === 0) return target.subarray(0, 5);
          if (header.step === 1) return target.subarray(5, 8);
          return undefined;
        },
      );
      for (let offset = 0; offset < bytes.length; offset += chunkSize) {
        decoder.push(bytes.subarray(offset, offset + chunkSize));
      }
      expect(headers).toEqual([
        { op: 16, seq: 7, step: 0, length: 5 },
        { op: 16, seq: 7, step: 1, length: 2 },
        { op: 16, seq: 7, step: 2, length: 3 },
      ]);
      expect(frames.map((f) => [...f.payload])).toEqual(payloads.map((p) => [...p]));
      expect(frames[0]!.payload.buffer).toBe(target.buffer);
      expect(frames[1]!.payload.buffer).not.toBe(target.buffer);
      expect([...target]).toEqual([1, 2, 3, 4, 5, 0, 0, 0]);
    }
  });

  it('stops writing into placed memory after release()', () => {
    const bytes = wire([Uint8Array.of(1, 2, 3, 4)]);
    const target = new Uint8Array(4);
    const frames: Frame[] = [];
    const decoder = new FrameDecoder(
      (frame) => frames.push(frame),
      () => target,
    );
    decoder.push(bytes.subarray(0, 14));
    decoder.release();
    decoder.push(bytes.subarray(14));
    expect([...target]).toEqual([1, 2, 0, 0]);
    expect([...frames[0]!.payload]).toEqual([1, 2, 3, 4]);
    expect(frames[0]!.payload.buffer).not.toBe(target.buffer);
  });
});

describe('FrameDecoder payload limit', () => {
  it('refuses a 4 GiB length header before allocating, and accepts frames within the limit', () => {
    const frames: Frame[] = [];
    const decoder = new FrameDecoder((frame) => frames.push(frame));
    decoder.maxPayloadBytes = 64;
    decoder.push(Buffer.concat([encodeHeader(9, 0, 0, 64), Buffer.alloc(64, 7)]));
    expect(frames.map((f) => f.payload.byteLength)).toEqual([64]);
    expect(() => decoder.push(encodeHeader(1, 0, 0, 0xffff_ffff))).toThrow(
      'refused a frame of 4294967295 bytes (at most 64 are accepted here)',
    );
  });
});
