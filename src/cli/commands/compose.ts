// berth compose SUBCOMMAND: loads the project with the global flags, then
// runs the engine through the CLI's API client. exec and run reuse the CLI's
// own exec and start-attach sessions.
import { parseArgs, flagUsages, UsageError } from '../args.js';
import { CliError, bool, list, str, type CommandContext, type Handler } from '../context.js';
import { COMPOSE_GLOBAL_FLAGS, COMPOSE_SUBCOMMANDS, type ComposeSubcommand } from '../compose-commands.js';
import type { EngineApi, Project } from '../../compose/types.js';

/** The CLI's ApiClient seen as the engine's EngineApi. */
export function engineApi(ctx: CommandContext): EngineApi {
  const client = ctx.client();
  /** Pulls and pushes carry the stored credentials of the image's registry, as `berth pull`/`push` do. */
  const withAuth = async (path: string, options: Parameters<EngineApi['stream']>[2]): Promise<Parameters<EngineApi['stream']>[2]> => {
    const push = /^\/images\/(.+)\/push$/.exec(path);
    const image = path === '/images/create' ? options?.query?.fromImage : push ? decodeURIComponent(push[1] as string) : undefined;
    if (typeof image !== 'string' || !image) return options;
    const [{ registryAuthHeader }, { parseReference }] = await Promise.all([import('./images.js'), import('../reference.js')]);
    const auth = await registryAuthHeader(ctx, parseReference(image).domain);
    return { ...options, headers: { ...options?.headers, ...auth } };
  };
  return {
    json: (method, path, options) => client.json(method, path, options),
    stream: async (method, path, options) => client.request(method, path, await withAuth(path, options)),
  };
}

function help(sub?: ComposeSubcommand): string {
  if (sub) return `\nUsage:  berth compose ${sub.name} ${sub.usage}\n\n${sub.description}\n${sub.flags.length ? `\nOptions:\n${flagUsages(sub.flags)}\n` : ''}`;
  const width = Math.max(...COMPOSE_SUBCOMMANDS.map((s) => s.name.length));
  return (
    `\nUsage:  berth compose [OPTIONS] COMMAND\n\nDefine and run multi-container applications\n\nOptions:\n${flagUsages(COMPOSE_GLOBAL_FLAGS)}\n\nCommands:\n` +
    COMPOSE_SUBCOMMANDS.map((s) => `  ${s.name.padEnd(width)}  ${s.description}`).join('\n') +
    `\n\nRun 'berth compose COMMAND --help' for more information on a command.\n`
  );
}

function intFlag(value: string, flag: string): number | undefined {
  if (value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new UsageError(`invalid argument "${value}" for "--${flag}" flag: strconv.ParseInt: parsing "${value}": invalid syntax`);
  return n;
}

export const compose: Handler = async (ctx, { flags, args }) => {
  const [name, ...rest] = args;
  if (!name || name === 'help') {
    ctx.stdout.write(help());
    return 0;
  }
  const sub = COMPOSE_SUBCOMMANDS.find((s) => s.name === name);
  if (!sub) throw new UsageError(`unknown docker command: "compose ${name}"`, 1);
  // exec/run: flags end at the command after SERVICE.
  let parsed = parseArgs(sub.flags, rest, { stopAtPositional: sub.argsBeforeCommand !== undefined });
  if (sub.argsBeforeCommand !== undefined) {
    const [service, ...command] = parsed.rest;
    parsed = { ...parsed, args: service === undefined ? [] : [service, ...command] };
  }
  if (parsed.help) {
    ctx.stdout.write(help(sub));
    return 0;
  }
  const compose = await import('../../compose/index.js');
  if (name === 'version') {
    ctx.stdout.write(bool(parsed.flags, 'short') ? `${compose.COMPOSE_VERSION}\n` : `Docker Compose version v${compose.COMPOSE_VERSION}\n`);
    return 0;
  }
  if (name === 'ls') {
    const projects = await compose.listProjects(engineApi(ctx), bool(parsed.flags, 'all'));
    if (bool(parsed.flags, 'quiet')) for (const p of projects) ctx.stdout.write(`${p.name}\n`);
    else ctx.stdout.write(compose.table(['NAME', 'STATUS', 'CONFIG FILES'], projects.map((p) => [p.name, p.status, p.configFiles])));
    return 0;
  }
  const projectDir = str(flags, 'project-directory');
  const project: Project = await compose.loadProject({
    files: list(flags, 'file').length ? list(flags, 'file') : undefined,
    projectName: str(flags, 'project-name') || undefined,
    profiles: list(flags, 'profile'),
    envFiles: list(flags, 'env-file').length ? list(flags, 'env-file') : undefined,
    env: process.env,
    cwd: projectDir || process.cwd(),
  });
  for (const w of project.warnings) ctx.stderr.write(`WARN[0000] ${w}\n`);
  const out = { stdout: ctx.stdout, stderr: ctx.stderr, isTTY: ctx.stdout.isTTY === true };
  const engine = new compose.ComposeEngine(engineApi(ctx), project, out, { configHash: compose.serviceConfigHash });
  const f = parsed.flags;
  const services = parsed.args;
  const timeout = () => intFlag(str(f, 'timeout'), 'timeout');

  switch (name) {
    case 'up': {
      const scale: Record<string, number> = {};
      for (const s of list(f, 'scale')) {
        const [svc, n] = s.split('=');
        if (!svc || n === undefined || !Number.isInteger(Number(n))) throw new UsageError(`invalid --scale value: ${s}`);
        scale[svc] = Number(n);
      }
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        return await engine.up({
          services, detach: bool(f, 'detach') || bool(f, 'wait'), build: bool(f, 'build'), noBuild: bool(f, 'no-build'),
          forceRecreate: bool(f, 'force-recreate'), noRecreate: bool(f, 'no-recreate'), noDeps: bool(f, 'no-deps'), scale,
          wait: bool(f, 'wait'), removeOrphans: bool(f, 'remove-orphans'), signal: abort.signal,
        });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    }
    case 'down': {
      const rmi = str(f, 'rmi');
      if (rmi && rmi !== 'local' && rmi !== 'all') throw new UsageError(`invalid --rmi option "${rmi}"`);
      await engine.down({ volumes: bool(f, 'volumes'), rmi: rmi === 'local' || rmi === 'all' ? rmi : undefined, removeOrphans: bool(f, 'remove-orphans'), timeout: timeout() });
      return 0;
    }
    case 'ps': {
      const format = str(f, 'format');
      if (format !== 'table' && format !== 'json') throw new UsageError(`unsupported format "${format}" (table or json)`);
      await engine.ps({ all: bool(f, 'all'), quiet: bool(f, 'quiet'), services: bool(f, 'services'), format, filterServices: services });
      return 0;
    }
    case 'logs': {
      const tail = str(f, 'tail');
      const abort = new AbortController();
      const streams: import('node:stream').Readable[] = [];
      const onSignal = () => {
        abort.abort();
        for (const s of streams) s.destroy();
      };
      process.on('SIGINT', onSignal);
      try {
        await engine.logs({ services, follow: bool(f, 'follow'), tail: tail === 'all' ? undefined : tail, timestamps: bool(f, 'timestamps'), noColor: bool(f, 'no-color'), signal: abort.signal, streams });
      } finally {
        process.off('SIGINT', onSignal);
      }
      return 0;
    }
    case 'build':
      await engine.build(services, { noCache: bool(f, 'no-cache'), pull: bool(f, 'pull') });
      return 0;
    case 'pull':
      await engine.pull(services);
      return 0;
    case 'push':
      await engine.push(services);
      return 0;
    case 'start':
      await engine.start(services);
      return 0;
    case 'stop':
      await engine.stop(services, timeout());
      return 0;
    case 'restart':
      await engine.restart(services, timeout());
      return 0;
    case 'rm': {
      const doomed = await engine.removable(services, bool(f, 'stop'));
      if (doomed.length === 0) {
        ctx.stderr.write('No stopped containers\n');
        return 0;
      }
      if (!bool(f, 'force')) {
        ctx.stdout.write(`Going to remove ${doomed.map((c) => (c.Names[0] ?? '').replace(/^\//, '')).join(', ')}\n? Are you sure you want to remove them? [y/N] `);
        if (!(await confirm(ctx))) return 0;
      }
      await engine.remove(doomed, { volumes: bool(f, 'volumes') });
      return 0;
    }
    case 'exec': {
      const [service, ...command] = services;
      if (!service || command.length === 0) throw new UsageError(`'berth compose exec' requires at least 2 arguments`, 1);
      const index = intFlag(str(f, 'index'), 'index') ?? 1;
      const target = await engine.serviceContainer(service, index);
      const detach = bool(f, 'detach');
      const tty = !detach && !bool(f, 'no-TTY') && ctx.stdin.isTTY === true;
      const { exec } = await import('./exec.js');
      return exec(ctx, {
        flags: { detach, interactive: !detach, tty, user: str(f, 'user'), workdir: str(f, 'workdir'), env: list(f, 'env'), privileged: bool(f, 'privileged'), 'detach-keys': '' },
        args: [target.Id, ...command],
      });
    }
    case 'run': {
      const [service, ...command] = services;
      if (!service) throw new UsageError(`'berth compose run' requires at least 1 argument`, 1);
      const detach = bool(f, 'detach');
      const tty = !detach && !bool(f, 'no-TTY') && ctx.stdin.isTTY === true;
      const entrypoint = str(f, 'entrypoint');
      const created = await engine.createOneOff({
        service, command, entrypoint: entrypoint ? [entrypoint] : undefined, env: list(f, 'env'), noDeps: bool(f, 'no-deps'),
        tty, stdinOpen: !detach, user: str(f, 'user') || undefined, workdir: str(f, 'workdir') || undefined, autoRemove: bool(f, 'rm'),
      });
      const client = ctx.client();
      if (detach) {
        await client.json('POST', `/containers/${encodeURIComponent(created.id)}/start`);
        ctx.stdout.write(`${created.name}\n`);
        return 0;
      }
      const { start } = await import('./run.js');
      return start(ctx, { flags: { attach: true, interactive: true, 'detach-keys': '' }, args: [created.id] });
    }
    case 'config': {
      if (bool(f, 'quiet')) return 0;
      if (bool(f, 'services')) for (const s of project.services) ctx.stdout.write(`${s.name}\n`);
      else if (bool(f, 'volumes')) for (const v of Object.keys(project.volumes)) ctx.stdout.write(`${v}\n`);
      else ctx.stdout.write(compose.serializeProject(project));
      return 0;
    }
    case 'images':
      await engine.images();
      return 0;
    case 'top':
      await engine.top(services);
      return 0;
    case 'port': {
      const [service, port] = services;
      if (!service || !port) throw new UsageError(`'berth compose port' requires 2 arguments`, 1);
      ctx.stdout.write(`${await engine.port(service, port, str(f, 'protocol'), intFlag(str(f, 'index'), 'index') ?? 1)}\n`);
      return 0;
    }
  }
  throw new CliError(`compose ${name}: not implemented`);
};

async function confirm(ctx: CommandContext): Promise<boolean> {
  for await (const chunk of ctx.stdin) {
    const answer = String(chunk).trim().toLowerCase();
    return answer === 'y' || answer === 'yes';
  }
  return false;
}
