// The build entries of the command table (commands.ts): berth build (also
// `berth image build`, `berth builder build`) and berth builder prune.
import type { CommandDef } from './commands.js';

const build = () => import('./commands/build.js');

export const BUILD_COMMANDS: CommandDef[] = [
  {
    path: ['image', 'build'],
    aliases: [['build'], ['builder', 'build']],
    usage: '[OPTIONS] PATH | -',
    description: 'Build an image from a Dockerfile',
    minArgs: 1,
    maxArgs: 1,
    flags: [
      { name: 'build-arg', type: 'strings', description: 'Set build-time variables' },
      { name: 'file', short: 'f', type: 'string', description: "Name of the Dockerfile (default: \"PATH/Dockerfile\")" },
      { name: 'force-rm', type: 'bool', description: 'Always remove intermediate containers' },
      { name: 'iidfile', type: 'string', description: 'Write the image ID to the file' },
      { name: 'label', type: 'strings', description: 'Set metadata for an image' },
      { name: 'no-cache', type: 'bool', description: 'Do not use cache when building the image' },
      { name: 'platform', type: 'string', description: 'Set platform if server is multi-platform capable' },
      { name: 'progress', type: 'string', default: 'auto', description: 'Set type of progress output ("auto", "plain", "tty", "quiet", "rawjson"). Use plain to show container output' },
      { name: 'pull', type: 'bool', description: 'Always attempt to pull a newer version of the image' },
      { name: 'quiet', short: 'q', type: 'bool', description: 'Suppress the build output and print image ID on success' },
      { name: 'rm', type: 'bool', default: true, description: 'Remove intermediate containers after a successful build (default true)' },
      { name: 'tag', short: 't', type: 'strings', description: 'Name and optionally a tag in the "name:tag" format' },
      { name: 'target', type: 'string', description: 'Set the target build stage to build' },
    ],
    load: async () => (await build()).build,
  },
  {
    path: ['builder', 'prune'],
    aliases: [],
    usage: '[OPTIONS]',
    description: 'Remove build cache',
    maxArgs: 0,
    flags: [
      { name: 'all', short: 'a', type: 'bool', description: 'Remove all unused build cache, not just dangling ones' },
      { name: 'filter', type: 'strings', placeholder: 'filter', description: 'Provide filter values (e.g. "until=24h")' },
      { name: 'force', short: 'f', type: 'bool', description: 'Do not prompt for confirmation' },
      { name: 'keep-storage', type: 'string', placeholder: 'bytes', description: 'Amount of disk space to keep for cache' },
    ],
    load: async () => (await build()).prune,
  },
];
