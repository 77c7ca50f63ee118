// The command table: names, aliases, usage, flags, and a loader for each
// handler. Handlers are imported only when their command runs, so start-up
// loads nothing but this table.
import type { FlagSpec } from './args.js';
import type { Handler } from './context.js';
import { VOLUME_COMMANDS } from './volume-commands.js';
import { CONTAINER_OPS_COMMANDS } from './container-ops-commands.js';
import { STATS_COMMANDS } from './stats-commands.js';
import { CP_COMMANDS } from './cp-commands.js';
import { NETWORK_COMMANDS } from './network-commands.js';
import { REGISTRY_COMMANDS } from './registry-commands.js';
import { BUILD_COMMANDS } from './build-commands.js';
import { COMPOSE_COMMANDS } from './compose-commands.js';

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
  /** Flags end at the first argument (run IMAGE COMMAND --flags-of-the-command). */
  stopAtFirstArg?: boolean;
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
const containers = () => import('./commands/containers.js');
const runCommands = () => import('./commands/run.js');
const lifecycle = () => import('./commands/lifecycle.js');
const attached = () => import('./commands/attached.js');

/** The flags docker run and docker create share. */
const CREATE_FLAGS: FlagSpec[] = [
  { name: 'add-host', type: 'strings', description: 'Add a custom host-to-IP mapping (host:ip)' },
  { name: 'cap-add', type: 'strings', description: 'Add Linux capabilities' },
  { name: 'cap-drop', type: 'strings', description: 'Drop Linux capabilities' },
  { name: 'cpu-shares', short: 'c', type: 'string', placeholder: 'int', description: 'CPU shares (relative weight)' },
  { name: 'cpus', type: 'string', placeholder: 'decimal', description: 'Number of CPUs' },
  { name: 'cpu-period', type: 'string', placeholder: 'int', description: 'Limit CPU CFS (Completely Fair Scheduler) period' },
  { name: 'cpu-quota', type: 'string', placeholder: 'int', description: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
  { name: 'cpuset-cpus', type: 'string', description: 'CPUs in which to allow execution (0-3, 0,1)' },
  { name: 'cpuset-mems', type: 'string', description: 'MEMs in which to allow execution (0-3, 0,1)' },
  { name: 'dns', type: 'strings', description: 'Set custom DNS servers' },
  { name: 'dns-option', type: 'strings', description: 'Set DNS options' },
  { name: 'dns-search', type: 'strings', description: 'Set custom DNS search domains' },
  { name: 'entrypoint', type: 'string', description: 'Overwrite the default ENTRYPOINT of the image' },
  { name: 'env', short: 'e', type: 'strings', description: 'Set environment variables' },
  { name: 'env-file', type: 'strings', description: 'Read in a file of environment variables' },
  { name: 'expose', type: 'strings', description: 'Expose a port or a range of ports' },
  { name: 'group-add', type: 'strings', description: 'Add additional groups to join' },
  { name: 'health-cmd', type: 'string', description: 'Command to run to check health' },
  { name: 'health-interval', type: 'string', placeholder: 'duration', description: 'Time between running the check (ms|s|m|h) (default 0s)' },
  { name: 'health-retries', type: 'string', placeholder: 'int', description: 'Consecutive failures needed to report unhealthy' },
  { name: 'health-start-interval', type: 'string', placeholder: 'duration', description: 'Time between running the check during the start period (ms|s|m|h) (default 0s)' },
  { name: 'health-start-period', type: 'string', placeholder: 'duration', description: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)' },
  { name: 'health-timeout', type: 'string', placeholder: 'duration', description: 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)' },
  { name: 'hostname', short: 'h', type: 'string', description: 'Container host name' },
  { name: 'init', type: 'bool', description: 'Run an init inside the container that forwards signals and reaps processes' },
  { name: 'interactive', short: 'i', type: 'bool', description: 'Keep STDIN open even if not attached' },
  { name: 'label', short: 'l', type: 'strings', description: 'Set meta data on a container' },
  { name: 'log-driver', type: 'string', description: 'Logging driver for the container' },
  { name: 'log-opt', type: 'strings', description: 'Log driver options' },
  { name: 'memory', short: 'm', type: 'string', placeholder: 'bytes', description: 'Memory limit' },
  { name: 'memory-reservation', type: 'string', placeholder: 'bytes', description: 'Memory soft limit' },
  { name: 'memory-swap', type: 'string', placeholder: 'bytes', description: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap" },
  { name: 'mount', type: 'strings', placeholder: 'mount', description: 'Attach a filesystem mount to the container' },
  { name: 'name', type: 'string', description: 'Assign a name to the container' },
  { name: 'network', type: 'string', placeholder: 'network', description: 'Connect a container to a network' },
  { name: 'net', type: 'string', hidden: true, description: 'Connect a container to a network' },
  { name: 'network-alias', type: 'strings', description: 'Add network-scoped alias for the container' },
  { name: 'ip', type: 'string', description: 'IPv4 address (e.g., 172.30.100.104)' },
  { name: 'no-healthcheck', type: 'bool', description: 'Disable any container-specified HEALTHCHECK' },
  { name: 'oom-kill-disable', type: 'bool', description: 'Disable OOM Killer' },
  { name: 'pids-limit', type: 'string', placeholder: 'int', description: 'Tune container pids limit (set -1 for unlimited)' },
  { name: 'platform', type: 'string', description: 'Set platform if server is multi-platform capable' },
  { name: 'privileged', type: 'bool', description: 'Give extended privileges to this container' },
  { name: 'publish', short: 'p', type: 'strings', description: "Publish a container's port(s) to the host" },
  { name: 'publish-all', short: 'P', type: 'bool', description: 'Publish all exposed ports to random ports' },
  { name: 'pull', type: 'string', default: 'missing', description: 'Pull image before running ("always", "missing", "never")' },
  { name: 'read-only', type: 'bool', description: "Mount the container's root filesystem as read only" },
  { name: 'restart', type: 'string', default: 'no', description: 'Restart policy to apply when a container exits' },
  { name: 'rm', type: 'bool', description: 'Automatically remove the container and its associated anonymous volumes when it exits' },
  { name: 'security-opt', type: 'strings', description: 'Security Options' },
  { name: 'shm-size', type: 'string', placeholder: 'bytes', description: 'Size of /dev/shm' },
  { name: 'stop-signal', type: 'string', description: 'Signal to stop the container' },
  { name: 'stop-timeout', type: 'string', placeholder: 'int', description: 'Timeout (in seconds) to stop a container' },
  { name: 'sysctl', type: 'strings', placeholder: 'map', description: 'Sysctl options' },
  { name: 'tmpfs', type: 'strings', description: 'Mount a tmpfs directory' },
  { name: 'tty', short: 't', type: 'bool', description: 'Allocate a pseudo-TTY' },
  { name: 'ulimit', type: 'strings', placeholder: 'ulimit', description: 'Ulimit options' },
  { name: 'user', short: 'u', type: 'string', description: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { name: 'volume', short: 'v', type: 'strings', description: 'Bind mount a volume (SRC:DST[:ro])' },
  { name: 'workdir', short: 'w', type: 'string', description: 'Working directory inside the container' },
];
const detachKeysFlag: FlagSpec = { name: 'detach-keys', type: 'string', description: 'Override the key sequence for detaching a container' };
const stopFlags = (what: string): FlagSpec[] => [
  { name: 'signal', short: 's', type: 'string', description: `Signal to send to the container` },
  { name: 'time', short: 't', type: 'string', placeholder: 'int', description: `Seconds to wait before killing the container${what}` },
  { name: 'timeout', type: 'string', placeholder: 'int', hidden: true, description: 'Seconds to wait before killing the container' },
];

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
    path: ['image', 'push'],
    aliases: [['push']],
    usage: '[OPTIONS] NAME[:TAG]',
    description: 'Upload an image to a registry',
    minArgs: 1,
    maxArgs: 1,
    flags: [
      { name: 'all-tags', short: 'a', type: 'bool', description: 'Push all tags of an image to the repository' },
      { name: 'quiet', short: 'q', type: 'bool', description: 'Suppress verbose output' },
    ],
    load: async () => (await images()).push,
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
    load: async () => (await containers()).inspectObjects,
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
    path: ['container', 'run'],
    aliases: [['run']],
    usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
    description: 'Create and run a new container from an image',
    minArgs: 1,
    stopAtFirstArg: true,
    flags: ([
      { name: 'detach', short: 'd', type: 'bool', description: 'Run container in background and print container ID' },
      detachKeysFlag,
      { name: 'sig-proxy', type: 'bool', default: true, description: 'Proxy received signals to the process (default true)' },
      ...CREATE_FLAGS,
    ] as FlagSpec[]).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)), // not localeCompare: its ICU set-up costs ~15 ms per CLI run
    load: async () => (await runCommands()).run,
  },
  {
    path: ['container', 'exec'],
    aliases: [['exec']],
    usage: '[OPTIONS] CONTAINER COMMAND [ARG...]',
    description: 'Execute a command in a running container',
    minArgs: 2,
    stopAtFirstArg: true,
    flags: [
      { name: 'detach', short: 'd', type: 'bool', description: 'Detached mode: run command in the background' },
      detachKeysFlag,
      { name: 'env', short: 'e', type: 'strings', description: 'Set environment variables' },
      { name: 'interactive', short: 'i', type: 'bool', description: 'Keep STDIN open even if not attached' },
      { name: 'privileged', type: 'bool', description: 'Give extended privileges to the command' },
      { name: 'tty', short: 't', type: 'bool', description: 'Allocate a pseudo-TTY' },
      { name: 'user', short: 'u', type: 'string', description: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
      { name: 'workdir', short: 'w', type: 'string', description: 'Working directory inside the container' },
    ],
    load: async () => (await import('./commands/exec.js')).exec,
  },
  {
    path: ['container', 'create'],
    aliases: [['create']],
    usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
    description: 'Create a new container',
    minArgs: 1,
    stopAtFirstArg: true,
    flags: CREATE_FLAGS,
    load: async () => (await runCommands()).create,
  },
  {
    path: ['container', 'start'],
    aliases: [['start']],
    usage: '[OPTIONS] CONTAINER [CONTAINER...]',
    description: 'Start one or more stopped containers',
    minArgs: 1,
    flags: [
      { name: 'attach', short: 'a', type: 'bool', description: 'Attach STDOUT/STDERR and forward signals' },
      detachKeysFlag,
      { name: 'interactive', short: 'i', type: 'bool', description: "Attach container's STDIN" },
    ],
    load: async () => (await runCommands()).start,
  },
  {
    path: ['container', 'attach'],
    aliases: [['attach']],
    usage: '[OPTIONS] CONTAINER',
    description: "Attach local standard input, output, and error streams to a running container",
    minArgs: 1,
    maxArgs: 1,
    flags: [
      detachKeysFlag,
      { name: 'no-stdin', type: 'bool', description: 'Do not attach STDIN' },
      { name: 'sig-proxy', type: 'bool', default: true, description: 'Proxy all received signals to the process (default true)' },
    ],
    load: async () => (await attached()).attach,
  },
  {
    path: ['container', 'update'],
    aliases: [['update']],
    usage: '[OPTIONS] CONTAINER [CONTAINER...]',
    description: 'Update configuration of one or more containers',
    minArgs: 1,
    flags: [
      { name: 'blkio-weight', type: 'string', placeholder: 'uint16', description: 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)' },
      { name: 'cpu-period', type: 'string', placeholder: 'int', description: 'Limit CPU CFS (Completely Fair Scheduler) period' },
      { name: 'cpu-quota', type: 'string', placeholder: 'int', description: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
      { name: 'cpu-shares', short: 'c', type: 'string', placeholder: 'int', description: 'CPU shares (relative weight)' },
      { name: 'cpus', type: 'string', placeholder: 'decimal', description: 'Number of CPUs' },
      { name: 'cpuset-cpus', type: 'string', description: 'CPUs in which to allow execution (0-3, 0,1)' },
      { name: 'cpuset-mems', type: 'string', description: 'MEMs in which to allow execution (0-3, 0,1)' },
      { name: 'memory', short: 'm', type: 'string', placeholder: 'bytes', description: 'Memory limit' },
      { name: 'memory-reservation', type: 'string', placeholder: 'bytes', description: 'Memory soft limit' },
      { name: 'memory-swap', type: 'string', placeholder: 'bytes', description: "Swap limit equal to memory plus swap: -1 to enable unlimited swap" },
      { name: 'pids-limit', type: 'string', placeholder: 'int', description: 'Tune container pids limit (set -1 for unlimited)' },
      { name: 'restart', type: 'string', description: 'Restart policy to apply when a container exits' },
    ],
    load: async () => (await import('./commands/update.js')).update,
  },
  {
    path: ['container', 'port'],
    aliases: [['port']],
    usage: 'CONTAINER [PRIVATE_PORT[/PROTO]]',
    description: 'List port mappings or a specific mapping for the container',
    minArgs: 1,
    maxArgs: 2,
    flags: [],
    load: async () => (await import('./commands/update.js')).port,
  },
  {
    path: ['container', 'stop'],
    aliases: [['stop']],
    usage: '[OPTIONS] CONTAINER [CONTAINER...]',
    description: 'Stop one or more running containers',
    minArgs: 1,
    flags: stopFlags(''),
    load: async () => (await lifecycle()).stop,
  },
  {
    path: ['container', 'restart'],
    aliases: [['restart']],
    usage: '[OPTIONS] CONTAINER [CONTAINER...]',
    description: 'Restart one or more containers',
    minArgs: 1,
    flags: stopFlags(''),
    load: async () => (await lifecycle()).restart,
  },
  {
    path: ['container', 'kill'],
    aliases: [['kill']],
    usage: '[OPTIONS] CONTAINER [CONTAINER...]',
    description: 'Kill one or more running containers',
    minArgs: 1,
    flags: [{ name: 'signal', short: 's', type: 'string', description: 'Signal to send to the container' }],
    load: async () => (await lifecycle()).kill,
  },
  {
    path: ['container', 'rm'],
    aliases: [['rm'], ['container', 'remove']],
    usage: '[OPTIONS] CONTAINER [CONTAINER...]',
    description: 'Remove one or more containers',
    minArgs: 1,
    flags: [
      { name: 'force', short: 'f', type: 'bool', description: 'Force the removal of a running container (uses SIGKILL)' },
      { name: 'volumes', short: 'v', type: 'bool', description: 'Remove anonymous volumes associated with the container' },
    ],
    load: async () => (await lifecycle()).remove,
  },
  {
    path: ['container', 'ls'],
    aliases: [['ps'], ['container', 'ps'], ['container', 'list']],
    usage: '[OPTIONS]',
    description: 'List containers',
    maxArgs: 0,
    flags: [
      { name: 'all', short: 'a', type: 'bool', description: 'Show all containers (default shows just running)' },
      filterFlag,
      formatFlag('containers'),
      { name: 'last', short: 'n', type: 'string', placeholder: 'int', default: '-1', description: 'Show n last created containers (includes all states)' },
      { name: 'latest', short: 'l', type: 'bool', description: 'Show the latest created container (includes all states)' },
      { name: 'no-trunc', type: 'bool', description: "Don't truncate output" },
      { name: 'quiet', short: 'q', type: 'bool', description: 'Only display container IDs' },
      { name: 'size', short: 's', type: 'bool', description: 'Display total file sizes' },
    ],
    load: async () => (await containers()).ps,
  },
  {
    path: ['container', 'logs'],
    aliases: [['logs']],
    usage: '[OPTIONS] CONTAINER',
    description: 'Fetch the logs of a container',
    minArgs: 1,
    maxArgs: 1,
    flags: [
      { name: 'follow', short: 'f', type: 'bool', description: 'Follow log output' },
      { name: 'since', type: 'string', description: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
      { name: 'tail', short: 'n', type: 'string', default: 'all', description: 'Number of lines to show from the end of the logs' },
      { name: 'timestamps', short: 't', type: 'bool', description: 'Show timestamps' },
      { name: 'until', type: 'string', description: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
    ],
    load: async () => (await containers()).logs,
  },
  {
    path: ['container', 'wait'],
    aliases: [['wait']],
    usage: 'CONTAINER [CONTAINER...]',
    description: 'Block until one or more containers stop, then print their exit codes',
    minArgs: 1,
    flags: [],
    load: async () => (await lifecycle()).wait,
  },
  {
    path: ['container', 'inspect'],
    aliases: [],
    usage: '[OPTIONS] CONTAINER [CONTAINER...]',
    description: 'Display detailed information on one or more containers',
    minArgs: 1,
    flags: [
      { name: 'format', short: 'f', type: 'string', description: 'Format output using a custom template' },
      { name: 'size', short: 's', type: 'bool', description: 'Display total file sizes' },
    ],
    load: async () => (await containers()).inspectContainers,
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
    path: ['system', 'events'],
    aliases: [['events']],
    usage: '[OPTIONS]',
    description: 'Get real time events from the server',
    maxArgs: 0,
    flags: [
      { name: 'filter', short: 'f', type: 'strings', placeholder: 'filter', description: 'Filter output based on conditions provided' },
      { name: 'format', type: 'string', placeholder: 'string', description: 'Format output using a custom template' },
      { name: 'since', type: 'string', description: 'Show all events created since timestamp' },
      { name: 'until', type: 'string', description: 'Stream events until this timestamp' },
    ],
    load: async () => (await import('./commands/events.js')).events,
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
      { name: 'cgroup-parent', type: 'string', description: 'Parent cgroup for all containers (default /berth)' },
      { name: 'bridge', short: 'b', type: 'string', description: 'Bridge device of the default network (default berth0)' },
      { name: 'bip', type: 'string', description: 'Gateway address and subnet of the default network (default 172.17.0.1/16, or a free docker pool)' },
      { name: 'log-level', short: 'l', type: 'string', default: 'info', description: 'Set the logging level ("debug"|"info"|"warn"|"error")' },
    ],
    load: async () => (await import('./commands/daemon.js')).daemon,
  },
  ...VOLUME_COMMANDS,
  ...CONTAINER_OPS_COMMANDS,
  ...STATS_COMMANDS,
  ...CP_COMMANDS,
  ...NETWORK_COMMANDS,
  ...REGISTRY_COMMANDS,
  ...BUILD_COMMANDS,
  ...COMPOSE_COMMANDS,
];

/** Management groups shown in help: berth image ..., berth system ... */
export const GROUPS: Record<string, string> = {
  builder: 'Manage builds',
  container: 'Manage containers',
  image: 'Manage images',
  system: 'Manage berth',
  volume: 'Manage volumes',
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
