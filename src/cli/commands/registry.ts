// berth registry serve / gc: the registry server runs in this process; the
// distribution module is loaded only here, keeping client start-up light.
import { CliError, bool, str, type Handler } from '../context.js';

/** "90s", "30m", "1h", "500ms" -> milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new CliError(`invalid duration ${JSON.stringify(text)}: expected a number with ms, s, m or h`, 125);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

export const serve: Handler = async (ctx, { flags }) => {
  const { serveRegistry } = await import('../../distribution/index.js');
  const { createLogger, isLogLevel } = await import('../../util/index.js');
  const log = createLogger(isLogLevel(ctx.logLevel) ? ctx.logLevel : 'info');
  const tokenFlags = ['token-realm', 'token-service', 'token-issuer', 'token-rootcertbundle'] as const;
  const given = tokenFlags.filter((f) => str(flags, f));
  if (given.length > 0 && given.length < tokenFlags.length) {
    throw new CliError(`token auth needs all of --${tokenFlags.join(', --')} (missing --${tokenFlags.filter((f) => !str(flags, f)).join(', --')})`, 125);
  }
  const opts = {
    addr: str(flags, 'addr') || '127.0.0.1:5000',
    ...(given.length
      ? { token: { realm: str(flags, 'token-realm'), service: str(flags, 'token-service'), issuer: str(flags, 'token-issuer'), rootCertBundle: str(flags, 'token-rootcertbundle') } }
      : {}),
    root: str(flags, 'root') || '/var/lib/berth-registry',
    readOnly: bool(flags, 'read-only'),
    delete: bool(flags, 'delete'),
    log,
    ...(str(flags, 'htpasswd') ? { htpasswdFile: str(flags, 'htpasswd') } : {}),
    ...(str(flags, 'tls-cert') ? { tlsCert: str(flags, 'tls-cert') } : {}),
    ...(str(flags, 'tls-key') ? { tlsKey: str(flags, 'tls-key') } : {}),
  };
  let running;
  try {
    running = await serveRegistry(opts);
  } catch (err) {
    throw new CliError(`registry: ${err instanceof Error ? err.message : String(err)}`, 1);
  }
  log.info('registry listening', { url: running.url, root: opts.root, readOnly: opts.readOnly, delete: opts.delete });
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await running.close();
  return 0;
};

export const gc: Handler = async (ctx, { flags }) => {
  const { RegistryStorage, collectGarbage } = await import('../../distribution/index.js');
  const root = str(flags, 'root') || '/var/lib/berth-registry';
  const minAgeMs = parseDuration(str(flags, 'min-age') || '1h');
  const dryRun = bool(flags, 'dry-run');
  const { stat } = await import('node:fs/promises');
  if (!(await stat(`${root}/blobs`).then(() => true, () => false))) throw new CliError(`registry gc: ${root} is not a registry root (no blobs/)`, 1);
  const storage = await RegistryStorage.open(root);
  const result = await collectGarbage(storage, { dryRun, minAgeMs });
  for (const d of result.removed) ctx.stdout.write(`${dryRun ? 'would remove' : 'removed'} ${d}\n`);
  for (const d of result.keptYoung) ctx.stdout.write(`kept (younger than --min-age) ${d}\n`);
  ctx.stdout.write(`${result.marked.length} blobs referenced, ${result.removed.length} ${dryRun ? 'to remove' : 'removed'}, ${result.keptYoung.length} kept as recent\n`);
};
