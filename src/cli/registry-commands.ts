// The `registry` command group's entries of the command table (commands.ts):
// berth registry serve and berth registry gc run in-process, like `berth daemon`.
import type { CommandDef } from './commands.js';

const registry = () => import('./commands/registry.js');

export const REGISTRY_COMMANDS: CommandDef[] = [
  {
    path: ['registry', 'serve'],
    aliases: [],
    usage: '[OPTIONS]',
    description: 'Run an OCI distribution registry',
    maxArgs: 0,
    flags: [
      { name: 'addr', type: 'string', default: '127.0.0.1:5000', description: 'Address to listen on (HOST:PORT)' },
      { name: 'root', type: 'string', default: '/var/lib/berth-registry', description: 'Storage root directory' },
      { name: 'htpasswd', type: 'string', description: 'htpasswd file of bcrypt entries: require Basic auth' },
      { name: 'token-realm', type: 'string', description: 'Bearer token auth: the token server clients are sent to (URL)' },
      { name: 'token-service', type: 'string', description: 'Bearer token auth: this registry\'s service name (the tokens\' audience)' },
      { name: 'token-issuer', type: 'string', description: 'Bearer token auth: the issuer tokens must name' },
      { name: 'token-rootcertbundle', type: 'string', description: 'Bearer token auth: PEM certificates of the token issuer' },
      { name: 'tls-cert', type: 'string', description: 'TLS certificate (PEM); serve HTTPS' },
      { name: 'tls-key', type: 'string', description: 'TLS private key (PEM)' },
      { name: 'read-only', type: 'bool', description: 'Refuse every write' },
      { name: 'delete', type: 'bool', description: 'Allow manifest and blob DELETE' },
    ],
    load: async () => (await registry()).serve,
  },
  {
    path: ['registry', 'gc'],
    aliases: [],
    usage: '[OPTIONS]',
    description: 'Remove blobs no manifest references',
    maxArgs: 0,
    flags: [
      { name: 'root', type: 'string', default: '/var/lib/berth-registry', description: 'Storage root directory' },
      { name: 'dry-run', type: 'bool', description: 'Only list the blobs that would be removed' },
      { name: 'min-age', type: 'string', default: '1h', description: 'Keep unreferenced blobs younger than this (s|m|h), so a push in progress keeps its blobs' },
    ],
    load: async () => (await registry()).gc,
  },
];
