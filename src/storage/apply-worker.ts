// Runs the layer applier on worker threads, so tar parsing, hashing and the
// many small synchronous writes of an unpack overlap with the download, the
// blob's hashing and the API on the daemon's main thread (the pull benchmark
// is bound by exactly this). Chunks are batched to about 1 MiB and cross by
// transfer, with credit-based flow control so a slow disk bounds memory
// instead of buffering the layer. Idle workers are kept briefly for reuse:
// starting one costs about as much as unpacking a small layer.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { PassThrough, type Readable } from 'node:stream';
import { BerthError, ERROR_CODES, type ErrorCode } from '../errors/index.js';
import { applyLayer } from './apply.js';
import type { ApplyOptions, ApplyResult, LayerApplier } from './types.js';

type ToWorker =
  | { type: 'start'; dir: string; opts: ApplyOptions }
  | { type: 'data'; chunk: Uint8Array }
  | { type: 'end' };
type FromWorker =
  | { type: 'ack'; bytes: number }
  | { type: 'done'; result: ApplyResult }
  | { type: 'error'; code: string | undefined; message: string };

/** Bytes the main thread may have in flight to a worker before it pauses the source. */
const WINDOW = 8 << 20;
/** Batch size for messages to the worker. */
const BATCH = 1 << 20;
/** How long an idle worker waits for the next layer before it exits. */
const IDLE_MS = 10_000;

const WORKER_MARK = 'berth-apply-worker';
const idle: Worker[] = [];

function acquire(): Worker {
  const w = idle.pop();
  if (w) {
    clearTimeout((w as Worker & { idleTimer?: NodeJS.Timeout }).idleTimer);
    w.ref();
    return w;
  }
  return new Worker(new URL(import.meta.url), { workerData: WORKER_MARK });
}

function release(w: Worker): void {
  w.removeAllListeners('message');
  w.removeAllListeners('error');
  w.removeAllListeners('exit');
  w.unref(); // an idle worker never keeps the process alive
  const timer = setTimeout(() => {
    const i = idle.indexOf(w);
    if (i >= 0) idle.splice(i, 1);
    void w.terminate();
  }, IDLE_MS);
  timer.unref();
  (w as Worker & { idleTimer?: NodeJS.Timeout }).idleTimer = timer;
  w.once('exit', () => {
    const i = idle.indexOf(w);
    if (i >= 0) idle.splice(i, 1);
  });
  idle.push(w);
}

/**
 * Start unpack workers ahead of need (a pull calls this while it fetches the
 * manifest and config, so the workers' start-up overlaps with the network).
 */
export function warmUnpackWorkers(n: number): void {
  while (idle.length < n) release(new Worker(new URL(import.meta.url), { workerData: WORKER_MARK }));
}

export const applyLayerInWorker: LayerApplier = (layer: Readable, dir: string, opts: ApplyOptions = {}) =>
  new Promise<ApplyResult>((resolve, reject) => {
    const worker = acquire();
    let inFlight = 0;
    let settled = false;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const finish = (err: Error | null, result?: ApplyResult) => {
      if (settled) return;
      settled = true;
      layer.off('data', onData);
      if (err) {
        layer.destroy();
        worker.removeAllListeners();
        void worker.terminate(); // a failed worker is never reused
        reject(err);
      } else {
        release(worker);
        resolve(result as ApplyResult);
      }
    };
    const flush = () => {
      if (!pendingBytes) return;
      // Buffer.concat copies, so the caller keeps its chunks (a pull also writes them to the
      // blob store) and the copy can be transferred without detaching memory under anyone.
      let merged = Buffer.concat(pending, pendingBytes);
      if (merged.byteOffset !== 0 || merged.buffer.byteLength !== merged.length) merged = Buffer.from(merged.buffer.slice(merged.byteOffset, merged.byteOffset + merged.length));
      pending = [];
      pendingBytes = 0;
      inFlight += merged.length;
      const chunk = new Uint8Array(merged.buffer, 0, merged.length);
      worker.postMessage({ type: 'data', chunk } satisfies ToWorker, [chunk.buffer as ArrayBuffer]);
      if (inFlight > WINDOW) layer.pause();
    };
    const onData = (chunk: Buffer) => {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= BATCH) flush();
    };
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'ack') {
        inFlight -= m.bytes;
        if (inFlight <= WINDOW && layer.isPaused() && !settled) layer.resume();
      } else if (m.type === 'done') {
        finish(null, m.result);
      } else {
        const code = ERROR_CODES.includes(m.code as ErrorCode) ? (m.code as ErrorCode) : undefined;
        finish(code ? new BerthError(code, m.message) : Object.assign(new Error(m.message), { code: m.code }));
      }
    });
    worker.on('error', (err) => finish(err));
    worker.on('exit', (code) => finish(new BerthError('internal', `layer unpack worker exited with code ${code}`)));
    worker.postMessage({ type: 'start', dir, opts } satisfies ToWorker);
    layer.on('data', onData);
    layer.on('end', () => {
      flush();
      worker.postMessage({ type: 'end' } satisfies ToWorker);
    });
    layer.on('error', (err) => finish(err));
  });

/** The worker side: one layer at a time, started by a 'start' message. */
function serve(): void {
  const port = parentPort;
  if (!port) return;
  let input: PassThrough | undefined;
  port.on('message', (m: ToWorker) => {
    if (m.type === 'start') {
      const current = new PassThrough({ highWaterMark: 4 << 20 });
      input = current;
      applyLayer(current, m.dir, m.opts).then(
        (result) => port.postMessage({ type: 'done', result } satisfies FromWorker),
        (err: unknown) => {
          const e = err as { code?: unknown; message?: unknown };
          const code = err instanceof BerthError ? err.code : typeof e.code === 'string' ? e.code : undefined;
          port.postMessage({ type: 'error', code, message: String(e.message ?? err) } satisfies FromWorker);
        },
      );
    } else if (m.type === 'end') {
      input?.end();
    } else {
      const buf = Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength);
      // The write callback fires once the applier has taken the chunk (Transform backpressure).
      input?.write(buf, () => port.postMessage({ type: 'ack', bytes: buf.length } satisfies FromWorker));
    }
  });
}

if (!isMainThread && workerData === WORKER_MARK) serve();
