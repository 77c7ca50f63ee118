// Health checks, as dockerd's daemon/health.go: a probe (an exec of the
// HEALTHCHECK command inside the container) every interval once the container
// runs, docker's start period and retries, the last five results kept, and an
// event when the status changes. The checker knows nothing of exec or records:
// the service hands it a prober and a place to keep the state.
import type { HealthConfig } from './types.js';

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** docker's HealthcheckResult */
export interface HealthLogEntry {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

/** docker's Health (State.Health in inspect) */
export interface HealthState {
  Status: HealthStatus;
  FailingStreak: number;
  Log: HealthLogEntry[];
}

/** Runs cmd in the container; exitCode -1 with a message when it could not run or timed out. */
export type Prober = (containerId: string, cmd: string[], timeoutMs: number) => Promise<{ exitCode: number; output: string }>;

export interface HealthDeps {
  probe: Prober;
  /** the container's current health (undefined once it is gone or stopped) and when its run started */
  current(id: string): { health: HealthState | undefined; startedAt: string; running: boolean } | undefined;
  save(id: string, health: HealthState): void;
  /** the status changed */
  changed(id: string, status: HealthStatus): void;
}

const NS_PER_MS = 1_000_000;
const DEFAULT_INTERVAL_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_START_PERIOD_MS = 0;
const DEFAULT_RETRIES = 3;
const MAX_LOG_ENTRIES = 5;
const MAX_OUTPUT = 4096;

/** The probe's argv, or undefined when the config disables checks (no test, NONE). */
export function probeCommand(cfg: HealthConfig | null | undefined): string[] | undefined {
  const test = cfg?.Test ?? [];
  if (test.length === 0 || test[0] === 'NONE') return undefined;
  if (test[0] === 'CMD-SHELL') return test.length > 1 ? ['/bin/sh', '-c', test.slice(1).join(' ')] : undefined;
  if (test[0] === 'CMD') return test.length > 1 ? test.slice(1) : undefined;
  return undefined;
}

const msOf = (ns: number | undefined, fallback: number) => (ns && ns > 0 ? Math.round(ns / NS_PER_MS) : fallback);

/** "30s", "1m30s", "1.5s" as Go prints a time.Duration (for the timeout message). */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

/** Append a result and apply docker's rules; returns the new state. */
export function applyResult(prev: HealthState, result: HealthLogEntry, opts: { retries: number; startPeriodMs: number; startedAt: string }): HealthState {
  const log = [...prev.Log, result].slice(-MAX_LOG_ENTRIES);
  if (result.ExitCode === 0) return { Status: 'healthy', FailingStreak: 0, Log: log };
  // Failures while starting (never healthy yet) inside the start period do not count.
  const sinceStart = Date.parse(result.Start) - Date.parse(opts.startedAt);
  if (prev.Status === 'starting' && sinceStart < opts.startPeriodMs) return { ...prev, Log: log };
  const streak = prev.FailingStreak + 1;
  return { Status: streak >= opts.retries ? 'unhealthy' : prev.Status, FailingStreak: streak, Log: log };
}

export class HealthChecker {
  readonly #deps: HealthDeps;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  /** bumped on every start/stop so a probe that finishes late cannot write into a newer run */
  readonly #generation = new Map<string, number>();

  constructor(deps: HealthDeps) {
    this.#deps = deps;
  }

  /** Begin checking a container that just started (or was re-adopted). */
  start(id: string, cfg: HealthConfig | null | undefined, opts: { fresh: boolean }): void {
    this.stop(id);
    const cmd = probeCommand(cfg);
    if (!cmd) return;
    const gen = (this.#generation.get(id) ?? 0) + 1;
    this.#generation.set(id, gen);
    const cur = this.#deps.current(id);
    if (opts.fresh || !cur?.health) this.#deps.save(id, { Status: 'starting', FailingStreak: 0, Log: cur?.health?.Log ?? [] });
    const interval = msOf(cfg?.Interval, DEFAULT_INTERVAL_MS);
    const startInterval = msOf(cfg?.StartInterval, interval);
    const timeout = msOf(cfg?.Timeout, DEFAULT_TIMEOUT_MS);
    const startPeriod = msOf(cfg?.StartPeriod, DEFAULT_START_PERIOD_MS);
    const retries = cfg?.Retries && cfg.Retries > 0 ? cfg.Retries : DEFAULT_RETRIES;
    const schedule = () => {
      const now = this.#deps.current(id);
      if (!now?.running || this.#generation.get(id) !== gen) return;
      const inStart = now.health?.Status === 'starting' && Date.now() - Date.parse(now.startedAt) < startPeriod;
      const timer = setTimeout(() => void tick(), inStart ? startInterval : interval);
      timer.unref();
      this.#timers.set(id, timer);
    };
    const tick = async () => {
      this.#timers.delete(id);
      const start = new Date().toISOString();
      let result: { exitCode: number; output: string };
      try {
        result = await this.#deps.probe(id, cmd, timeout);
      } catch (err) {
        result = { exitCode: -1, output: err instanceof Error ? err.message : String(err) };
      }
      const now = this.#deps.current(id);
      if (!now?.running || this.#generation.get(id) !== gen) return;
      const prev = now.health ?? { Status: 'starting', FailingStreak: 0, Log: [] };
      const entry: HealthLogEntry = { Start: start, End: new Date().toISOString(), ExitCode: result.exitCode, Output: result.output.slice(0, MAX_OUTPUT) };
      const next = applyResult(prev, entry, { retries, startPeriodMs: startPeriod, startedAt: now.startedAt });
      this.#deps.save(id, next);
      if (next.Status !== prev.Status) this.#deps.changed(id, next.Status);
      schedule();
    };
    schedule();
  }

  stop(id: string): void {
    const timer = this.#timers.get(id);
    if (timer) clearTimeout(timer);
    this.#timers.delete(id);
    this.#generation.set(id, (this.#generation.get(id) ?? 0) + 1);
  }

  close(): void {
    for (const id of [...this.#timers.keys()]) this.stop(id);
  }
}

/** The timeout result docker records. */
export function timeoutOutput(ms: number): string {
  return `Health check exceeded timeout (${goDuration(ms)})`;
}

/** A prober built on exec (docker runs health checks as execs too). */
export function execProber(exec: {
  create(container: string, req: { Cmd: string[]; AttachStdout: boolean; AttachStderr: boolean }): Promise<{ Id: string }>;
  start(execId: string): Promise<{ stdout: import('node:stream').Readable | null; stderr: import('node:stream').Readable | null; done: Promise<{ exitCode: number; error?: string }> }>;
  kill?(execId: string): void;
}): Prober {
  return async (containerId, cmd, timeoutMs) => {
    const { Id } = await exec.create(containerId, { Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const session = await exec.start(Id);
    const chunks: Buffer[] = [];
    let size = 0;
    const collect = (b: Buffer) => {
      if (size < MAX_OUTPUT) chunks.push(b);
      size += b.length;
    };
    session.stdout?.on('data', collect);
    session.stderr?.on('data', collect);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const outcome = await Promise.race([session.done, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      exec.kill?.(Id);
      return { exitCode: -1, output: timeoutOutput(timeoutMs) };
    }
    // the streams may still hold the last bytes when the process is reported done
    await Promise.all([session.stdout, session.stderr].map((s) => (s && !s.readableEnded ? new Promise((r) => s.once('close', r).once('end', r)) : undefined)));
    const output = Buffer.concat(chunks).toString('utf8');
    return { exitCode: outcome.exitCode, output: outcome.error ?? output };
  };
}
