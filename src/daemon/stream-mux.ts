// dockerd's stdcopy framing for container output on a non-TTY container:
// each frame is an 8-byte header [stream, 0, 0, 0, big-endian uint32 length]
// followed by the payload (stream 0 stdin, 1 stdout, 2 stderr).
import type { LogEntry } from '../container/types.js';

export const MULTIPLEXED_STREAM = 'application/vnd.docker.multiplexed-stream';
export const RAW_STREAM = 'application/vnd.docker.raw-stream';

export type StreamId = 0 | 1 | 2;

/** One frame: header and payload in one buffer, so a frame is one socket write. */
export function muxFrame(stream: StreamId, payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(8 + payload.length);
  frame[0] = stream;
  frame[1] = 0;
  frame[2] = 0;
  frame[3] = 0;
  frame.writeUInt32BE(payload.length, 4);
  frame.set(payload, 8);
  return frame;
}

/** The bytes a log entry becomes on the wire: framed unless `tty`, timestamp-prefixed if asked. */
export function encodeEntry(entry: LogEntry, opts: { tty: boolean; timestamps: boolean }): Buffer {
  const payload = opts.timestamps ? Buffer.concat([Buffer.from(`${entry.time} `), entry.line]) : entry.line;
  return opts.tty ? payload : muxFrame(entry.stream === 'stderr' ? 2 : 1, payload);
}

/** Splits a multiplexed stream back into frames (for tests and clients). Throws on a truncated stream. */
export function demux(data: Buffer): { stream: StreamId; payload: Buffer }[] {
  const frames: { stream: StreamId; payload: Buffer }[] = [];
  let at = 0;
  while (at < data.length) {
    if (at + 8 > data.length) throw new Error('truncated frame header');
    const stream = data[at] as number;
    if (stream > 2) throw new Error(`unknown stream type ${stream}`);
    const size = data.readUInt32BE(at + 4);
    if (at + 8 + size > data.length) throw new Error('truncated frame payload');
    frames.push({ stream: stream as StreamId, payload: data.subarray(at + 8, at + 8 + size) });
    at += 8 + size;
  }
  return frames;
}
