// login / logout: the daemon checks credentials (POST /auth); the client
// keeps them in <config dir>/config.json the way docker does.
import { CliError, str, bool, type Handler, type CommandContext } from '../context.js';
import { DEFAULT_INDEX_SERVER, serverKey, storeCredentials, removeCredentials, loadConfig, credentialsFor, configPath } from '../config.js';
import { readAll } from '../client.js';
import { readLine } from './images.js';

/** Reads a line without echo when stdin is a terminal. */
export async function readSecret(ctx: CommandContext, prompt: string): Promise<string> {
  ctx.stdout.write(prompt);
  const stdin = ctx.stdin;
  if (!stdin.isTTY || !stdin.setRawMode) return readLine(stdin);
  stdin.setRawMode(true);
  try {
    return await new Promise<string>((resolve, reject) => {
      let buf = '';
      const onData = (chunk: Buffer | string) => {
        for (const ch of chunk.toString()) {
          if (ch === '\r' || ch === '\n') {
            stdin.off('data', onData);
            stdin.pause();
            resolve(buf);
            return;
          }
          if (ch === '\u0003') {
            stdin.off('data', onData);
            stdin.pause();
            reject(new CliError('', 130));
            return;
          }
          if (ch === '\u007f' || ch === '\b') buf = buf.slice(0, -1);
          else buf += ch;
        }
      };
      stdin.on('data', onData);
      stdin.resume();
    });
  } finally {
    stdin.setRawMode(false);
    ctx.stdout.write('\n');
  }
}

export const login: Handler = async (ctx, { flags, args }) => {
  const server = args[0];
  const key = serverKey(server);
  let username = str(flags, 'username').trim();
  let password = str(flags, 'password');
  const fromStdin = bool(flags, 'password-stdin');
  if (password) ctx.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  if (fromStdin) {
    if (password) throw new CliError('--password and --password-stdin are mutually exclusive');
    if (!username) throw new CliError('Must provide --username with --password-stdin');
    password = (await readAll(ctx.stdin)).toString('utf8').replace(/\r?\n$/, '');
  }
  if (!username || !password) {
    if (!ctx.stdin.isTTY) throw new CliError('Error: Cannot perform an interactive login from a non TTY device');
    if (!username) {
      const previous = credentialsFor(await loadConfig(ctx.configDir), key)?.username;
      ctx.stdout.write(previous ? `Username (${previous}): ` : 'Username: ');
      username = (await readLine(ctx.stdin)).trim() || previous || '';
      if (!username) throw new CliError('Error: Non-null Username Required');
    }
    if (!password) {
      password = await readSecret(ctx, 'Password: ');
      if (!password) throw new CliError('Error: Password Required');
    }
  }
  const res = await ctx.client().json<{ Status?: string; IdentityToken?: string }>('POST', '/auth', {
    body: JSON.stringify({ username, password, serveraddress: key === DEFAULT_INDEX_SERVER ? DEFAULT_INDEX_SERVER : key }),
  });
  await storeCredentials(ctx.configDir, key, username, password);
  ctx.stderr.write(`\nWARNING! Your credentials are stored unencrypted in '${configPath(ctx.configDir)}'.\n\n`);
  ctx.stdout.write(`${res?.Status || 'Login Succeeded'}\n`);
};

export const logout: Handler = async (ctx, { args }) => {
  const key = serverKey(args[0]);
  const removed = await removeCredentials(ctx.configDir, key);
  if (!removed) {
    ctx.stdout.write(`Not logged in to ${key}\n`);
    return;
  }
  ctx.stdout.write(`Removing login credentials for ${key}\n`);
};
