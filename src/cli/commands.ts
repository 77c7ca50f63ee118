// The command table: names, aliases, usage, flags, and a loader for each
// handler. Handlers are imported only when their command runs, so start-up
// loads nothing but this table.
import type { FlagSpec } from './args.js';
import type { Handler } from './context.js';

export interface CommandDef {
  /** Canonical path, e.g. ['image', 'ls']. */
  path: string[];
  /** Other full paths that run it, e.g. [['images'], ['image', 'list']]. */
  aliases: string[][];
  usage: string;
  description: string;
  flags: FlagSpec[];
  minArgs?: number;
  maxArgs?: number;
  load: () => Promise<Handler>;
}

const formatFlag = (what: string): FlagSpec => ({
  name: 'format',
  type: 'string',
  placeholder: 'string',
  description: `Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template (${what})`,
});
const filterFlag: FlagSpec = { name: 'filter', type: 'strings', placeholder: 'filter', description: 'Filter output based on conditions provided' };
const images = () => import('./commands/images.js');
const system = () => import('./commands/system.js');
const auth = () => import('./commands/auth.js');

export const COMMANDS: CommandDef[] = [
  {
    path: ['image', 'ls'],
    aliases: [['images'], ['image', 'list']],
    usage: '[OPTIONS] [REPOSITORY[:TAG]]',
    description: 'List images',
    maxArgs: 1,
    flags: [
      { name: 'all', short: 'a', type: 'bool', description: 'Show all images (default hides intermediate images)' },
      { name: 'digests', type: 'bool', description: 'Show digests' },
      filterFlag,
      formatFlag('images'),
      { name: 'no-trunc', type: 'bool', description: "Don't truncate output" },
      { name: 'quiet', short: 'q', type: 'bool', description: 'Only show image IDs' },
    ],
    load: async () => (await images()).listImages,
  },
  {
    path: ['image', 'pull'],
    aliases: [['pull']],
    usage: '[OPTIONS] NAME[:TAG|@DIGEST]',
    description: 'Download an image from a registry',
    minArgs: 1,
    maxArgs: 1,
    flags: [
      { name: 'platform', type: 'string', description: 'Set platform if server is multi-platform capable' },
      { name: 'quiet', short: 'q', type: 'bool', description: 'Suppress verbose output' },
    ],
    load: async () => (await images()).pull,
  },
  {
    path: ['image', 'inspect'],
    aliases: [],
    usage: '[OPTIONS] IMAGE [IMAGE...]',
    description: 'Display detailed information on one or more images',
    minArgs: 1,
    flags: [{ name: 'format', short: 'f', type: 'string', description: 'Format output using a custom template' }],
    load: async () => (await images()).inspectImages,
  },
  {
    path: ['inspect'],
    aliases: [],
    usage: '[OPTIONS] NAME|ID [NAME|ID...]',
    description: 'Return low-level information on Docker objects',
    minArgs: 1,
    flags: [
      { name: 'format', short: 'f', type: 'string', description: 'Format output using a custom template' },
      { name: 'size', short: 's', type: 'bool', description: 'Display total file sizes if the type is container', hidden: true },
      { name: 'type', type: 'string', description: 'Only inspect objects of the given type' },
    ],
    load: async () => (await images()).inspectObjects,
  },
  {
    path: ['image', 'history'],
    aliases: [['history']],
    usage: '[OPTIONS] IMAGE',
    description: 'Show the history of an image',
    minArgs: 1,
    maxArgs: 1,
    flags: [
      formatFlag('history'),
      { name: 'human', short: 'H', type: 'bool', default: true, description: 'Print sizes and dates in human readable format (default true)' },
      { name: 'no-trunc', type: 'bool', description: "Don't truncate output" },
      { name: 'quiet', short: 'q', type: 'bool', description: 'Only show image IDs' },
    ],
    load: async () => (await images()).history,
  },
  {
    path: ['image', 'tag'],
    aliases: [['tag']],
    usage: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
    description: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
    minArgs: 2,
    maxArgs: 2,
    flags: [],
    load: async () => (await images()).tag,
  },
  {
    path: ['image', 'rm'],
    aliases: [['rmi'], ['image', 'remove']],
    usage: '[OPTIONS] IMAGE [IMAGE...]',
    description: 'Remove one or more images',
    minArgs: 1,
    flags: [
      { name: 'force', short: 'f', type: 'bool', description: 'Force removal of the image' },
      { name: 'no-prune', type: 'bool', description: 'Do not delete untagged parents' },
    ],
    load: async () => (await images()).removeImages,
  },
  {
    path: ['image', 'prune'],
    aliases: [],
    usage: '[OPTIONS]',
    description: 'Remove unused images',
    maxArgs: 0,
    flags: [
      { name: 'all', short: 'a', type: 'bool', description: 'Remove all unused images, not just dangling ones' },
      { name: 'filter', type: 'strings', placeholder: 'filter', description: 'Provide filter values (e.g. "until=<timestamp>")' },
      { name: 'force', short: 'f', type: 'bool', description: 'Do not prompt for confirmation' },
    ],
    load: async () => (await images()).prune,
  },
  {
    path: ['image', 'save'],
    aliases: [['save']],
    usage: '[OPTIONS] IMAGE [IMAGE...]',
    description: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
    minArgs: 1,
    flags: [
      { name: 'output', short: 'o', type: 'string', description: 'Write to a file, instead of STDOUT' },
      { name: 'platform', type: 'strings', description: 'Save only the given platform(s)' },
    ],
    load: async () => (await images()).save,
  },
  {
    path: ['image', 'load'],
    aliases: [['load']],
    usage: '[OPTIONS]',
    description: 'Load an image from a tar archive or STDIN',
    maxArgs: 0,
    flags: [
      { name: 'input', short: 'i', type: 'string', description: 'Read from tar archive file, instead of STDIN' },
      { name: 'quiet', short: 'q', type: 'bool', description: 'Suppress the load output' },
      { name: 'platform', type: 'strings', description: 'Load only the given platform(s)' },
    ],
    load: async () => (await images()).load,
  },
  {
    path: ['image', 'import'],
    aliases: [['import']],
    usage: '[OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
    description: 'Import the contents from a tarball to create a filesystem image',
    minArgs: 1,
    maxArgs: 2,
    flags: [
      { name: 'change', short: 'c', type: 'strings', description: 'Apply Dockerfile instruction to the created image' },
      { name: 'message', short: 'm', type: 'string', description: 'Set commit message for imported image' },
      { name: 'platform', type: 'string', description: 'Set platform if server is multi-platform capable' },
    ],
    load: async () => (await images()).importImage,
  },
  {
    path: ['version'],
    aliases: [],
    usage: '[OPTIONS]',
    description: 'Show the berth version information',
    maxArgs: 0,
    flags: [{ name: 'format', short: 'f', type: 'string', description: 'Format output using a custom template' }],
    load: async () => (await system()).version,
  },
  {
    path: ['system', 'info'],
    aliases: [['info']],
    usage: '[OPTIONS]',
    description: 'Display system-wide information',
    maxArgs: 0,
    flags: [{ name: 'format', short: 'f', type: 'string', description: 'Format output using a custom template' }],
    load: async () => (await system()).info,
  },
  {
    path: ['system', 'df'],
    aliases: [],
    usage: '[OPTIONS]',
    description: 'Show docker disk usage',
    maxArgs: 0,
    flags: [formatFlag('disk usage'), { name: 'verbose', short: 'v', type: 'bool', description: 'Show detailed information on space usage' }],
    load: async () => (await system()).diskUsage,
  },
  {
    path: ['login'],
    aliases: [],
    usage: '[OPTIONS] [SERVER]',
    description: 'Authenticate to a registry.\nDefaults to Docker Hub if no server is specified.',
    maxArgs: 1,
    flags: [
      { name: 'password', short: 'p', type: 'string', description: 'Password or Personal Access Token (PAT)' },
      { name: 'password-stdin', type: 'bool', description: 'Take the Password or Personal Access Token (PAT) from stdin' },
      { name: 'username', short: 'u', type: 'string', description: 'Username' },
    ],
    load: async () => (await auth()).login,
  },
  {
    path: ['logout'],
    aliases: [],
    usage: '[SERVER]',
    description: 'Log out from a registry.\nIf no server is specified, the default is defined by the daemon.',
    maxArgs: 1,
    flags: [],
    load: async () => (await auth()).logout,
  },
  {
    path: ['daemon'],
    aliases: [],
    usage: '[OPTIONS]',
    description: 'Run the berth daemon',
    maxArgs: 0,
    flags: [
      { name: 'root', type: 'string', default: '/var/lib/berth', description: 'Root directory of persistent state' },
      { name: 'socket', type: 'string', description: 'Unix socket to listen on (default "/run/berth/berth.sock")' },
      { name: 'host', short: 'H', type: 'string', description: 'Daemon socket to listen on (unix://PATH)' },
      { name: 'insecure-registry', type: 'strings', description: 'Registries reached over plain HTTP' },
      { name: 'log-level', short: 'l', type: 'string', default: 'info', description: 'Set the logging level ("debug"|"info"|"warn"|"error")' },
    ],
    load: async () => (await import('./commands/daemon.js')).daemon,
  },
];

/** Management groups shown in help: berth image ..., berth system ... */
export const GROUPS: Record<string, string> = {
  image: 'Manage images',
  system: 'Manage berth',
};

/** Finds the command for the leading words of argv; returns it and how many words it used. */
export function resolveCommand(words: readonly string[]): { def: CommandDef; used: number } | undefined {
  for (const def of COMMANDS) {
    for (const path of [def.path, ...def.aliases]) {
      if (path.every((w, i) => words[i] === w)) return { def, used: path.length };
    }
  }
  return undefined;
}

export const commandName = (def: CommandDef): string => def.path.join(' ');
