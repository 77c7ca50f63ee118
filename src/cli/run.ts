// berth's command dispatch: global flags, then a command; each command
// is an Engine API call over the daemon's unix socket.
import { parseArgs, flagUsages, UsageError, type FlagSpec } from './args.js';
import { COMMANDS, GROUPS, resolveCommand, commandName, type CommandDef } from './commands.js';
import { ApiClient, ApiError, ConnectError, DEFAULT_HOST, normalizeHost } from './client.js';
import { CliError, type CommandContext } from './context.js';
import { configDir } from './config.js';
import { cliVersion } from './version.js';

/** Commands that run a server in this process rather than call the daemon. */
const LOCAL_COMMANDS = new Set(['daemon', 'registry']);

const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'config', type: 'string', description: 'Location of client config files (default "~/.berth")' },
  { name: 'host', short: 'H', type: 'strings', placeholder: 'list', description: 'Daemon socket to connect to' },
  { name: 'log-level', short: 'l', type: 'string', default: 'info', description: 'Set the logging level ("debug"|"info"|"warn"|"error"|"fatal")' },
  { name: 'version', short: 'v', type: 'bool', description: 'Print version information and quit' },
];

function usageLine(def: CommandDef, invoked = commandName(def)): string {
  return `Usage:  berth ${invoked} ${def.usage}`.trimEnd();
}

function commandHelp(def: CommandDef, invoked: string): string {
  const names = [def.path, ...def.aliases].map((p) => `berth ${p.join(' ')}`);
  let text = `\n${usageLine(def, invoked)}\n\n${def.description}\n`;
  if (def.aliases.length) text += `\nAliases:\n  ${names.join(', ')}\n`;
  if (def.flags.some((f) => !f.hidden)) text += `\nOptions:\n${flagUsages(def.flags)}\n`;
  return text;
}

function topHelp(): string {
  const rows = COMMANDS.filter((d) => d.path.length === 1).map((d) => [d.path[0] as string, d.description.split('\n')[0] as string]);
  const shortcuts = COMMANDS.flatMap((d) => d.aliases.filter((a) => a.length === 1).map((a) => [a[0] as string, d.description.split('\n')[0] as string]));
  const all = [...rows, ...shortcuts].sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? ''));
  const groups = Object.entries(GROUPS);
  const width = Math.max(...[...all, ...groups].map((r) => (r[0] ?? '').length));
  const fmt = (rs: string[][]) => rs.map(([n, d]) => `  ${(n ?? '').padEnd(width)}  ${d}`).join('\n');
  return (
    `\nUsage:  berth [OPTIONS] COMMAND\n\nA container engine speaking the Docker Engine API\n\nCommands:\n${fmt(all)}\n\n` +
    `Management Commands:\n${fmt(groups)}\n\nGlobal Options:\n${flagUsages(GLOBAL_FLAGS)}\n\n` +
    `Run 'berth COMMAND --help' for more information on a command.\n`
  );
}

function groupHelp(group: string): string {
  const subs = COMMANDS.filter((d) => d.path[0] === group && d.path.length === 2);
  const width = Math.max(...subs.map((d) => (d.path[1] ?? '').length));
  return (
    `\nUsage:  berth ${group} COMMAND\n\n${GROUPS[group]}\n\nCommands:\n` +
    subs.map((d) => `  ${(d.path[1] ?? '').padEnd(width)}  ${d.description.split('\n')[0]}`).join('\n') +
    `\n\nRun 'berth ${group} COMMAND --help' for more information on a command.\n`
  );
}

function argCountError(def: CommandDef, n: number, name: string): UsageError | undefined {
  const plural = (k: number) => (k === 1 ? 'argument' : 'arguments');
  let what: string | undefined;
  if (def.minArgs !== undefined && def.maxArgs === def.minArgs && n !== def.minArgs) what = `requires exactly ${def.minArgs} ${plural(def.minArgs)}`;
  else if (def.minArgs !== undefined && def.maxArgs !== undefined && def.minArgs > 0 && (n < def.minArgs || n > def.maxArgs))
    what = `requires at least ${def.minArgs} and at most ${def.maxArgs} ${plural(def.maxArgs)}`;
  else if (def.minArgs !== undefined && n < def.minArgs) what = `requires at least ${def.minArgs} ${plural(def.minArgs)}`;
  else if (def.maxArgs !== undefined && n > def.maxArgs)
    what = def.maxArgs === 0 ? 'accepts no arguments' : `requires at most ${def.maxArgs} ${plural(def.maxArgs)}`;
  if (!what) return undefined;
  return new UsageError(`berth: 'berth ${name}' ${what}\n\n${usageLine(def, name)}\n\nSee 'berth ${name} --help' for more information`, 1);
}

export async function main(argv: readonly string[]): Promise<number> {
  const stdout = process.stdout;
  const stderr = process.stderr;
  let client: ApiClient | undefined;
  let def: CommandDef | undefined;
  let invoked = '';
  try {
    const globals = parseArgs(GLOBAL_FLAGS, argv, { stopAtPositional: true });
    if (globals.flags.version) {
      stdout.write(`Berth version ${cliVersion()}\n`);
      return 0;
    }
    const words = globals.rest;
    if (words.length === 0) {
      stdout.write(topHelp());
      return 0;
    }
    const found = resolveCommand(words);
    if (!found) {
      const group = words[0] as string;
      if (group in GROUPS && (words.length === 1 || words[1]?.startsWith('-'))) {
        stdout.write(groupHelp(group));
        return 0;
      }
      const shown = group in GROUPS ? `${group} ${words[1]}` : group;
      throw new UsageError(`berth: unknown command: berth ${shown}\n\nRun 'berth --help' for more information`, 1);
    }
    def = found.def;
    invoked = words.slice(0, found.used).join(' ');
    const parsed = parseArgs(def.flags, words.slice(found.used), { stopAtPositional: def.stopAtFirstArg });
    if (def.stopAtFirstArg) parsed.args = parsed.rest;
    if (parsed.help || globals.help) {
      stdout.write(commandHelp(def, invoked));
      return 0;
    }
    const countError = argCountError(def, parsed.args.length, invoked);
    if (countError) throw countError;

    const hosts = globals.flags.host as string[];
    const host = normalizeHost(hosts[hosts.length - 1] || process.env.BERTH_HOST || DEFAULT_HOST);
    const ctx: CommandContext = {
      host,
      configDir: configDir(globals.flags.config as string),
      logLevel: globals.flags['log-level'] as string,
      stdout,
      stderr,
      stdin: process.stdin,
      client: () => (client ??= new ApiClient(host)),
    };
    // Nearly every command talks to the daemon: its /_ping (API version) goes out while
    // the handler's modules load. Not for the servers this CLI itself runs.
    if (!LOCAL_COMMANDS.has(def.path[0] as string)) void ctx.client().apiVersion().catch(() => undefined);
    const handler = await def.load();
    return (await handler(ctx, { flags: parsed.flags, args: parsed.args })) ?? 0;
  } catch (err) {
    return report(err, def, invoked, stderr);
  } finally {
    client?.close();
  }
}

function report(err: unknown, def: CommandDef | undefined, invoked: string, stderr: NodeJS.WritableStream): number {
  if (err instanceof UsageError) {
    if (err.exitCode === 125) {
      const hint = def ? `\n\n${usageLine(def, invoked)}\n\nRun 'berth ${invoked} --help' for more information` : `\nSee 'berth --help'.`;
      stderr.write(`${err.message}${hint}\n`);
    } else {
      stderr.write(`${err.message}\n`);
    }
    return err.exitCode;
  }
  if (err instanceof ApiError) {
    stderr.write(`Error response from daemon: ${err.message}\n`);
    return 1;
  }
  if (err instanceof ConnectError || err instanceof CliError) {
    stderr.write(`${err.message}\n`);
    return err instanceof CliError ? err.exitCode : 1;
  }
  const withCode = err as { message?: string; exitCode?: unknown };
  stderr.write(`${withCode?.message ?? String(err)}\n`);
  if (process.env.BERTH_DEBUG && err instanceof Error && err.stack) stderr.write(`${err.stack}\n`);
  return typeof withCode?.exitCode === 'number' ? withCode.exitCode : 1;
}
