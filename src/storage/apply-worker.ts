// Runs the layer applier on a worker thread, so tar parsing, hashing and the
// many small synchronous writes of an unpack overlap with the download, the
// blob's hashing and the API on the daemon's main thread (the pull benchmark
// is bound by exactly this). Chunks cross by transfer, with credit-based flow
// control so a slow disk bounds memory instead of buffering the layer.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { PassThrough, type Readable } from 'node:stream';
import { BerthError, ERROR_CODES, type ErrorCode } from '../errors/index.js';
import { applyLayer } from './apply.js';
import type { ApplyOptions, ApplyResult, LayerApplier } from './types.js';

type ToWorker = { type: 'data'; chunk: Uint8Array } | { type: 'end' };
type FromWorker =
  | { type: 'ack'; bytes: number }
  | { type: 'done'; result: ApplyResult }
  | { type: 'error'; code: string | undefined; message: string };

interface Job {
  dir: string;
  opts: ApplyOptions;
}

/** Bytes the main thread may have in flight to the worker before it waits. */
const WINDOW = 8 << 20;

export const applyLayerInWorker: LayerApplier = (layer: Readable, dir: string, opts: ApplyOptions = {}) =>
  new Promise<ApplyResult>((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { dir, opts } satisfies Job });
    let inFlight = 0;
    let settled = false;
    const finish = (err: Error | null, result?: ApplyResult) => {
      if (settled) return;
      settled = true;
      layer.off('data', onData);
      if (err) {
        layer.destroy();
        void worker.terminate();
        reject(err);
      } else {
        void worker.terminate();
        resolve(result as ApplyResult);
      }
    };
    const onData = (chunk: Buffer) => {
      // Always a copy: the caller may still hold this chunk (a pull also writes it to the blob store),
      // and transferring would detach the memory under it.
      const data = new Uint8Array(chunk);
      inFlight += data.length;
      worker.postMessage({ type: 'data', chunk: data } satisfies ToWorker, [data.buffer as ArrayBuffer]);
      if (inFlight > WINDOW) layer.pause();
    };
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'ack') {
        inFlight -= m.bytes;
        if (inFlight <= WINDOW && layer.isPaused() && !settled) layer.resume();
      } else if (m.type === 'done') {
        finish(null, m.result);
      } else {
        const code = ERROR_CODES.includes(m.code as ErrorCode) ? (m.code as ErrorCode) : 'internal';
        finish(m.code && code !== 'internal' ? new BerthError(code, m.message) : Object.assign(new Error(m.message), { code: m.code }));
      }
    });
    worker.on('error', (err) => finish(err));
    worker.on('exit', (code) => finish(new BerthError('internal', `layer unpack worker exited with code ${code}`)));
    layer.on('data', onData);
    layer.on('end', () => worker.postMessage({ type: 'end' } satisfies ToWorker));
    layer.on('error', (err) => finish(err));
  });

function runWorker(): void {
  const port = parentPort;
  if (!port) return;
  const { dir, opts } = workerData as Job;
  const input = new PassThrough({ highWaterMark: 4 << 20 });
  port.on('message', (m: ToWorker) => {
    if (m.type === 'end') {
      input.end();
      return;
    }
    const buf = Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength);
    // The write callback fires once the applier has taken the chunk (Transform backpressure).
    input.write(buf, () => port.postMessage({ type: 'ack', bytes: buf.length } satisfies FromWorker));
  });
  applyLayer(input, dir, opts).then(
    (result) => port.postMessage({ type: 'done', result } satisfies FromWorker),
    (err: unknown) => {
      const e = err as { code?: unknown; message?: unknown };
      const code = err instanceof BerthError ? err.code : typeof e.code === 'string' ? e.code : undefined;
      port.postMessage({ type: 'error', code, message: String(e.message ?? err) } satisfies FromWorker);
    },
  );
}

if (!isMainThread && (workerData as Job | undefined)?.dir) runWorker();
