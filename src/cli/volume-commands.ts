// The `volume` command group's entries of the command table (commands.ts).
import type { CommandDef } from './commands.js';

const volumes = () => import('./commands/volumes.js');

export const VOLUME_COMMANDS: CommandDef[] = [
  {
    path: ['volume', 'create'],
    aliases: [],
    usage: '[OPTIONS] [VOLUME]',
    description: 'Create a volume',
    maxArgs: 1,
    flags: [
      { name: 'driver', short: 'd', type: 'string', default: 'local', description: 'Specify volume driver name' },
      { name: 'label', type: 'strings', description: 'Set metadata for a volume' },
      { name: 'name', type: 'string', hidden: true, description: 'Specify volume name' },
      { name: 'opt', short: 'o', type: 'strings', description: 'Set driver specific options (none are supported)' },
    ],
    load: async () => (await volumes()).create,
  },
  {
    path: ['volume', 'ls'],
    aliases: [['volume', 'list']],
    usage: '[OPTIONS]',
    description: 'List volumes',
    maxArgs: 0,
    flags: [
      { name: 'filter', short: 'f', type: 'strings', placeholder: 'filter', description: "Provide filter values (e.g. 'dangling=true')" },
      { name: 'format', type: 'string', placeholder: 'string', description: 'Format output using a custom template' },
      { name: 'quiet', short: 'q', type: 'bool', description: 'Only display volume names' },
    ],
    load: async () => (await volumes()).listVolumes,
  },
  {
    path: ['volume', 'inspect'],
    aliases: [],
    usage: '[OPTIONS] VOLUME [VOLUME...]',
    description: 'Display detailed information on one or more volumes',
    minArgs: 1,
    flags: [{ name: 'format', short: 'f', type: 'string', description: 'Format output using a custom template' }],
    load: async () => (await volumes()).inspect,
  },
  {
    path: ['volume', 'rm'],
    aliases: [['volume', 'remove']],
    usage: '[OPTIONS] VOLUME [VOLUME...]',
    description: 'Remove one or more volumes',
    minArgs: 1,
    flags: [{ name: 'force', short: 'f', type: 'bool', description: 'Force the removal of one or more volumes' }],
    load: async () => (await volumes()).remove,
  },
  {
    path: ['volume', 'prune'],
    aliases: [],
    usage: '[OPTIONS]',
    description: 'Remove unused local volumes',
    maxArgs: 0,
    flags: [
      { name: 'all', short: 'a', type: 'bool', description: 'Remove all unused volumes, not just anonymous ones' },
      { name: 'filter', type: 'strings', placeholder: 'filter', description: 'Provide filter values (e.g. "label=<label>")' },
      { name: 'force', short: 'f', type: 'bool', description: 'Do not prompt for confirmation' },
    ],
    load: async () => (await volumes()).prune,
  },
];
