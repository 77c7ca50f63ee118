// berth compose: one entry in the command table (its global flags come
// before the subcommand, `berth compose -f FILE up -d`), and the subcommand
// table the compose handler dispatches on.
import type { CommandDef } from './commands.js';
import type { FlagSpec } from './args.js';

export interface ComposeSubcommand {
  name: string;
  usage: string;
  description: string;
  flags: FlagSpec[];
  /** Flags end at the first argument after this many (exec SERVICE CMD --its-flags). */
  argsBeforeCommand?: number;
}

export const COMPOSE_GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'file', short: 'f', type: 'strings', placeholder: 'stringArray', description: 'Compose configuration files' },
  { name: 'project-name', short: 'p', type: 'string', description: 'Project name' },
  { name: 'profile', type: 'strings', placeholder: 'stringArray', description: 'Specify a profile to enable' },
  { name: 'env-file', type: 'strings', placeholder: 'stringArray', description: 'Specify an alternate environment file' },
  { name: 'project-directory', type: 'string', description: 'Specify an alternate working directory (default: the path of the first specified Compose file)' },
];

const timeout: FlagSpec = { name: 'timeout', short: 't', type: 'string', placeholder: 'int', description: 'Specify a shutdown timeout in seconds' };

export const COMPOSE_SUBCOMMANDS: ComposeSubcommand[] = [
  {
    name: 'up', usage: '[OPTIONS] [SERVICE...]', description: 'Create and start containers',
    flags: [
      { name: 'detach', short: 'd', type: 'bool', description: 'Detached mode: Run containers in the background' },
      { name: 'build', type: 'bool', description: 'Build images before starting containers' },
      { name: 'no-build', type: 'bool', description: "Don't build an image, even if it's policy" },
      { name: 'force-recreate', type: 'bool', description: "Recreate containers even if their configuration and image haven't changed" },
      { name: 'no-recreate', type: 'bool', description: "If containers already exist, don't recreate them" },
      { name: 'no-deps', type: 'bool', description: "Don't start linked services" },
      { name: 'scale', type: 'strings', placeholder: 'scale', description: 'Scale SERVICE to NUM instances' },
      { name: 'wait', type: 'bool', description: 'Wait for services to be running|healthy. Implies detached mode.' },
      { name: 'remove-orphans', type: 'bool', description: 'Remove containers for services not defined in the Compose file' },
    ],
  },
  {
    name: 'down', usage: '[OPTIONS] [SERVICES]', description: 'Stop and remove containers, networks',
    flags: [
      { name: 'volumes', short: 'v', type: 'bool', description: 'Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers' },
      { name: 'rmi', type: 'string', description: 'Remove images used by services. "local" remove only images that don\'t have a custom tag ("local"|"all")' },
      { name: 'remove-orphans', type: 'bool', description: 'Remove containers for services not defined in the Compose file' },
      timeout,
    ],
  },
  {
    name: 'ps', usage: '[OPTIONS] [SERVICE...]', description: 'List containers',
    flags: [
      { name: 'all', short: 'a', type: 'bool', description: 'Show all stopped containers (including those created by the run command)' },
      { name: 'quiet', short: 'q', type: 'bool', description: 'Only display IDs' },
      { name: 'services', type: 'bool', description: 'Display services' },
      { name: 'format', type: 'string', default: 'table', description: 'Format output using a custom template: \'table\' or \'json\'' },
    ],
  },
  {
    name: 'logs', usage: '[OPTIONS] [SERVICE...]', description: 'View output from containers',
    flags: [
      { name: 'follow', short: 'f', type: 'bool', description: 'Follow log output' },
      { name: 'tail', short: 'n', type: 'string', default: 'all', description: 'Number of lines to show from the end of the logs for each container' },
      { name: 'timestamps', short: 't', type: 'bool', description: 'Show timestamps' },
      { name: 'no-color', type: 'bool', description: 'Produce monochrome output' },
      { name: 'no-log-prefix', type: 'bool', description: "Don't print prefix in logs" },
    ],
  },
  {
    name: 'build', usage: '[OPTIONS] [SERVICE...]', description: 'Build or rebuild services',
    flags: [
      { name: 'no-cache', type: 'bool', description: 'Do not use cache when building the image' },
      { name: 'pull', type: 'bool', description: 'Always attempt to pull a newer version of the image' },
    ],
  },
  { name: 'pull', usage: '[OPTIONS] [SERVICE...]', description: 'Pull service images', flags: [{ name: 'quiet', short: 'q', type: 'bool', description: 'Pull without printing progress information' }] },
  { name: 'push', usage: '[OPTIONS] [SERVICE...]', description: 'Push service images', flags: [] },
  { name: 'start', usage: '[SERVICE...]', description: 'Start services', flags: [] },
  { name: 'stop', usage: '[OPTIONS] [SERVICE...]', description: 'Stop services', flags: [timeout] },
  { name: 'restart', usage: '[OPTIONS] [SERVICE...]', description: 'Restart service containers', flags: [timeout] },
  {
    name: 'rm', usage: '[OPTIONS] [SERVICE...]', description: 'Removes stopped service containers',
    flags: [
      { name: 'force', short: 'f', type: 'bool', description: "Don't ask to confirm removal" },
      { name: 'stop', short: 's', type: 'bool', description: 'Stop the containers, if required, before removing' },
      { name: 'volumes', short: 'v', type: 'bool', description: 'Remove any anonymous volumes attached to containers' },
    ],
  },
  {
    name: 'exec', usage: '[OPTIONS] SERVICE COMMAND [ARGS...]', description: 'Execute a command in a running container', argsBeforeCommand: 1,
    flags: [
      { name: 'detach', short: 'd', type: 'bool', description: 'Detached mode: Run command in the background' },
      { name: 'no-TTY', short: 'T', type: 'bool', description: 'Disable pseudo-TTY allocation. By default `berth compose exec` allocates a TTY.' },
      { name: 'user', short: 'u', type: 'string', description: 'Run the command as this user' },
      { name: 'workdir', short: 'w', type: 'string', description: 'Path to workdir directory for this command' },
      { name: 'env', short: 'e', type: 'strings', description: 'Set environment variables' },
      { name: 'index', type: 'string', default: '1', description: 'Index of the container if service has multiple replicas' },
      { name: 'privileged', type: 'bool', description: 'Give extended privileges to the process' },
    ],
  },
  {
    name: 'run', usage: '[OPTIONS] SERVICE [COMMAND] [ARGS...]', description: 'Run a one-off command on a service', argsBeforeCommand: 1,
    flags: [
      { name: 'rm', type: 'bool', description: 'Automatically remove the container when it exits' },
      { name: 'detach', short: 'd', type: 'bool', description: 'Run container in background and print container ID' },
      { name: 'env', short: 'e', type: 'strings', description: 'Set environment variables' },
      { name: 'no-deps', type: 'bool', description: "Don't start linked services" },
      { name: 'entrypoint', type: 'string', description: 'Override the entrypoint of the image' },
      { name: 'no-TTY', short: 'T', type: 'bool', description: 'Disable pseudo-TTY allocation (default: auto-detected)' },
      { name: 'user', short: 'u', type: 'string', description: 'Run as specified username or uid' },
      { name: 'workdir', short: 'w', type: 'string', description: 'Working directory inside the container' },
    ],
  },
  {
    name: 'config', usage: '[OPTIONS] [SERVICE...]', description: 'Parse, resolve and render compose file in canonical format',
    flags: [
      { name: 'services', type: 'bool', description: 'Print the service names, one per line' },
      { name: 'volumes', type: 'bool', description: 'Print the volume names, one per line' },
      { name: 'quiet', short: 'q', type: 'bool', description: 'Only validate the configuration, don\'t print anything' },
    ],
  },
  { name: 'images', usage: '[OPTIONS] [SERVICE...]', description: 'List images used by the created containers', flags: [] },
  { name: 'top', usage: '[SERVICES...]', description: 'Display the running processes', flags: [] },
  {
    name: 'port', usage: '[OPTIONS] SERVICE PRIVATE_PORT', description: 'Print the public port for a port binding',
    flags: [
      { name: 'protocol', type: 'string', default: 'tcp', description: 'tcp or udp' },
      { name: 'index', type: 'string', default: '1', description: 'Index of the container if service has multiple replicas' },
    ],
  },
  { name: 'version', usage: '[OPTIONS]', description: 'Show the Docker Compose version information', flags: [{ name: 'short', type: 'bool', description: 'Shows only the version number' }] },
  { name: 'ls', usage: '[OPTIONS]', description: 'List running compose projects', flags: [{ name: 'all', short: 'a', type: 'bool', description: 'Show all stopped Compose projects' }, { name: 'quiet', short: 'q', type: 'bool', description: 'Only display project names' }] },
];

export const COMPOSE_COMMANDS: CommandDef[] = [
  {
    path: ['compose'],
    aliases: [],
    usage: '[OPTIONS] COMMAND',
    description: 'Define and run multi-container applications',
    flags: COMPOSE_GLOBAL_FLAGS,
    stopAtFirstArg: true,
    load: async () => (await import('./commands/compose.js')).compose,
  },
];
