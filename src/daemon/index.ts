// The berth daemon: composes the services over a state root and serves the
// Docker Engine API on a unix socket until SIGTERM/SIGINT (or `signal`).
import { createLogger } from '../util/index.js';
import { composeDaemon, type DaemonConfig } from './compose.js';
import { createApiServer } from './server.js';
import { API_VERSION, BERTH_VERSION } from './apiversion.js';

export type { DaemonConfig, Daemon } from './compose.js';
export { composeDaemon } from './compose.js';
export { createApiServer, buildRouter, type ApiServer, type ApiServices } from './server.js';
export { createSystemInfo, type SystemInfoSource } from './sysinfo.js';
export { STATUS_OF, statusOf, writeError } from './errors.js';
export { containerRoutes, attachOutput } from './routes/containers.js';
export { muxFrame, demux, encodeEntry, MULTIPLEXED_STREAM, RAW_STREAM, type StreamId } from './stream-mux.js';
export { API_VERSION, MIN_API_VERSION, BERTH_VERSION } from './apiversion.js';

/** In-flight requests get this long to finish on shutdown. */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Run the daemon in the foreground; resolves once it has shut down cleanly
 * after SIGTERM/SIGINT or `opts.signal` aborting.
 */
export async function runDaemon(cfg: DaemonConfig, opts: { signal?: AbortSignal } = {}): Promise<void> {
  const log = createLogger(cfg.logLevel);
  const daemon = await composeDaemon(cfg, log);
  const api = createApiServer(daemon, log.child({ module: 'api' }));
  try {
    await api.listen(cfg.socket);
  } catch (err) {
    await daemon.close();
    throw err;
  }
  log.info('berth daemon started', { version: BERTH_VERSION, apiVersion: API_VERSION, root: cfg.root, socket: cfg.socket });

  const stop = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    log.info('shutting down', { signal: sig });
    stop.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  opts.signal?.addEventListener('abort', () => stop.abort(), { once: true });
  if (opts.signal?.aborted) stop.abort();
  try {
    await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
    await api.close(SHUTDOWN_GRACE_MS);
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await daemon.close();
  }
  log.info('berth daemon stopped');
}
