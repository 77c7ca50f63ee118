// The entries of the command table (commands.ts) for docker cp, export and commit.
import type { CommandDef } from './commands.js';

const cp = () => import('./commands/cp.js');

export const CP_COMMANDS: CommandDef[] = [
  {
    path: ['container', 'cp'],
    aliases: [['cp']],
    usage: '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
    description: 'Copy files/folders between a container and the local filesystem',
    minArgs: 2,
    maxArgs: 2,
    flags: [
      { name: 'archive', short: 'a', type: 'bool', description: 'Archive mode (copy all uid/gid information)' },
      { name: 'follow-link', short: 'L', type: 'bool', description: 'Always follow symbol link in SRC_PATH' },
      { name: 'quiet', short: 'q', type: 'bool', description: 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached' },
    ],
    load: async () => (await cp()).cp,
  },
  {
    path: ['container', 'export'],
    aliases: [['export']],
    usage: '[OPTIONS] CONTAINER',
    description: "Export a container's filesystem as a tar archive",
    minArgs: 1,
    maxArgs: 1,
    flags: [{ name: 'output', short: 'o', type: 'string', description: 'Write to a file, instead of STDOUT' }],
    load: async () => (await cp()).exportContainer,
  },
  {
    path: ['container', 'commit'],
    aliases: [['commit']],
    usage: '[OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
    description: "Create a new image from a container's changes",
    minArgs: 1,
    maxArgs: 2,
    flags: [
      { name: 'author', short: 'a', type: 'string', description: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
      { name: 'change', short: 'c', type: 'strings', placeholder: 'list', description: 'Apply Dockerfile instruction to the created image' },
      { name: 'message', short: 'm', type: 'string', description: 'Commit message' },
      { name: 'pause', short: 'p', type: 'bool', default: true, description: 'Pause container during commit' },
    ],
    load: async () => (await cp()).commit,
  },
];
