// dockerd-style progress streams (jsonmessage): application/json, one object
// per line, each written as it comes. The HTTP status is decided lazily, as
// dockerd's WriteFlusher does: an operation that fails before its first
// message gets a proper error status and `{"message"}` body; once a message
// has gone out the status is 200 and errors travel in-stream as
// {"errorDetail":{"message":...},"error":...}.
import type { ServerResponse } from 'node:http';
import { messageOf } from '../errors/index.js';
import type { ProgressFn, ProgressMessage } from '../image/types.js';
import { writeError } from './errors.js';

export class ProgressWriter {
  readonly #res: ServerResponse;
  #started = false;

  constructor(res: ServerResponse) {
    this.#res = res;
  }

  /** Whether the 200 header and at least one message have been sent. */
  get started(): boolean {
    return this.#started;
  }

  readonly write: ProgressFn = (m: ProgressMessage) => {
    if (this.#gone()) return;
    this.#start();
    this.#res.write(JSON.stringify(m) + '\n');
  };

  /** Finish successfully (an empty 200 stream if nothing was written). */
  end(): void {
    if (this.#gone()) return;
    this.#start();
    this.#res.end();
  }

  /** Finish with an error: an HTTP error before the first message, in-stream after it. */
  fail(err: unknown): void {
    if (this.#gone()) return;
    if (!this.#started) {
      writeError(this.#res, err);
      return;
    }
    const message = messageOf(err);
    this.#res.end(JSON.stringify({ errorDetail: { message }, error: message }) + '\n');
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#res.writeHead(200, { 'Content-Type': 'application/json' });
  }

  #gone(): boolean {
    return this.#res.destroyed || this.#res.writableEnded;
  }
}

/** Run `op` with a progress callback and turn its outcome into a finished stream. */
export async function streamProgress(res: ServerResponse, op: (progress: ProgressFn) => Promise<unknown>): Promise<void> {
  const out = new ProgressWriter(res);
  try {
    await op(out.write);
    out.end();
  } catch (err) {
    out.fail(err);
  }
}
