// The `stats` command's entry of the command table (commands.ts).
import type { CommandDef } from './commands.js';

const stats = () => import('./commands/stats.js');

export const STATS_COMMANDS: CommandDef[] = [
  {
    path: ['container', 'stats'],
    aliases: [['stats']],
    usage: '[OPTIONS] [CONTAINER...]',
    description: 'Display a live stream of container(s) resource usage statistics',
    flags: [
      { name: 'all', short: 'a', type: 'bool', description: 'Show all containers (default shows just running)' },
      {
        name: 'format',
        type: 'string',
        placeholder: 'string',
        description:
          "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template",
      },
      { name: 'no-stream', type: 'bool', description: 'Disable streaming stats and only pull the first result' },
      { name: 'no-trunc', type: 'bool', description: "Don't truncate output" },
    ],
    load: async () => (await stats()).stats,
  },
];
