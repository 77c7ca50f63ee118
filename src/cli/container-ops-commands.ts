// The container operations' entries of the command table (commands.ts): pause,
// unpause, rename, top, diff, container prune.
import type { CommandDef } from './commands.js';

const ops = () => import('./commands/container-ops.js');

export const CONTAINER_OPS_COMMANDS: CommandDef[] = [
  {
    path: ['container', 'pause'],
    aliases: [['pause']],
    usage: 'CONTAINER [CONTAINER...]',
    description: 'Pause all processes within one or more containers',
    minArgs: 1,
    flags: [],
    load: async () => (await ops()).pause,
  },
  {
    path: ['container', 'unpause'],
    aliases: [['unpause']],
    usage: 'CONTAINER [CONTAINER...]',
    description: 'Unpause all processes within one or more containers',
    minArgs: 1,
    flags: [],
    load: async () => (await ops()).unpause,
  },
  {
    path: ['container', 'rename'],
    aliases: [['rename']],
    usage: 'CONTAINER NEW_NAME',
    description: 'Rename a container',
    minArgs: 2,
    maxArgs: 2,
    flags: [],
    load: async () => (await ops()).rename,
  },
  {
    path: ['container', 'top'],
    aliases: [['top']],
    usage: 'CONTAINER [ps OPTIONS]',
    description: 'Display the running processes of a container',
    minArgs: 1,
    stopAtFirstArg: true,
    flags: [],
    load: async () => (await ops()).top,
  },
  {
    path: ['container', 'diff'],
    aliases: [['diff']],
    usage: 'CONTAINER',
    description: "Inspect changes to files or directories on a container's filesystem",
    minArgs: 1,
    maxArgs: 1,
    flags: [],
    load: async () => (await ops()).diff,
  },
  {
    path: ['container', 'prune'],
    aliases: [],
    usage: '[OPTIONS]',
    description: 'Remove all stopped containers',
    maxArgs: 0,
    flags: [
      { name: 'filter', type: 'strings', placeholder: 'filter', description: 'Provide filter values (e.g. "until=<timestamp>")' },
      { name: 'force', short: 'f', type: 'bool', description: 'Do not prompt for confirmation' },
    ],
    load: async () => (await ops()).prune,
  },
];
