// What a build tells its client, in one of two dialects: dockerd's legacy
// builder text ("Step 2/5 : RUN make", " ---> Using cache") that the docker CLI
// prints as is, or berth's step records with elapsed times for berth's CLI.
import { shortId } from '../../util/index.js';
import type { BuildMessage } from '../types.js';

export interface StepHandle {
  readonly vertex: number;
  /** the step was found in the cache */
  cached(imageId: string | null): void;
  /** the step finished; imageId is what it committed, if anything */
  done(imageId: string | null): void;
  failed(message: string): void;
  runningIn(containerId: string): void;
  removed(containerId: string): void;
  output(stream: 'stdout' | 'stderr', data: Buffer): void;
}

export class Reporter {
  readonly #emit: (m: BuildMessage) => void;
  readonly #quiet: boolean;
  readonly #records: boolean;
  readonly #total: number;
  #legacyStep = 0;
  #vertex = 0;

  constructor(emit: (m: BuildMessage) => void, opts: { quiet: boolean; stepRecords: boolean; totalSteps: number }) {
    this.#emit = emit;
    this.#quiet = opts.quiet;
    this.#records = opts.stepRecords && !opts.quiet;
    this.#total = opts.totalSteps;
  }

  /** A plain line (legacy dialect only, never in quiet mode). */
  text(line: string): void {
    if (!this.#quiet && !this.#records) this.#emit({ stream: line });
  }

  /** Pull progress of a FROM image, passed through as dockerd does. */
  pullProgress(m: { status: string; id?: string; progressDetail?: { current?: number; total?: number }; progress?: string }): void {
    if (!this.#quiet) this.#emit(m);
  }

  warn(message: string): void {
    if (this.#quiet) return;
    this.#emit({ stream: `[Warning] ${message}\n` });
  }

  /** name: BuildKit's "[stage 2/5] RUN make"; original: the instruction as written, for the legacy "Step" line. */
  step(name: string, original: string): StepHandle {
    const vertex = ++this.#vertex;
    const started = Date.now();
    const emit = this.#emit;
    const quiet = this.#quiet;
    const records = this.#records;
    const record = (state: 'started' | 'cached' | 'done' | 'error', error?: string) => {
      if (!records) return;
      emit({ id: 'berth.step', aux: { vertex, name, state, ...(state === 'started' ? {} : { elapsedMs: Date.now() - started }), ...(error ? { error } : {}) } });
    };
    const legacy = (line: string) => {
      if (!quiet && !records) emit({ stream: line });
    };
    legacy(`Step ${++this.#legacyStep}/${this.#total} : ${original}\n`);
    record('started');
    return {
      vertex,
      cached: (imageId) => {
        legacy(' ---> Using cache\n');
        if (imageId) legacy(` ---> ${shortId(imageId)}\n`);
        record('cached');
      },
      done: (imageId) => {
        if (imageId) legacy(` ---> ${shortId(imageId)}\n`);
        record('done');
      },
      failed: (message) => record('error', message),
      runningIn: (id) => legacy(` ---> Running in ${shortId(id)}\n`),
      removed: (id) => legacy(` ---> Removed intermediate container ${shortId(id)}\n`),
      output: (stream, data) => {
        if (quiet) return;
        if (records) emit({ id: 'berth.log', aux: { vertex, stream, data: data.toString('utf8') } });
        else emit({ stream: data.toString('utf8') });
      },
    };
  }
}
