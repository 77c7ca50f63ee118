// A CNI runtime (the CNI spec's "runtime" role, /work/shared/specs/cni/SPEC.md):
// runs plugin binaries with CNI_* environment variables and the network
// configuration on stdin, chains a conflist's plugins through prevResult,
// deletes in reverse order, and caches ADD results on disk as libcni does so
// that DEL and CHECK still have them after a daemon restart.
import { access, constants, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError } from '../errors/index.js';
import { runChild } from '../native/index.js';
import { writeFileAtomic } from '../util/index.js';

export const CNI_VERSION = '1.0.0';

export interface CniPluginConf {
  type: string;
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

export interface CniConfList {
  cniVersion: string;
  name: string;
  plugins: CniPluginConf[];
}

export interface CniRuntimeConf {
  containerId: string;
  /** path of the network namespace; may be gone on DEL */
  netns: string;
  ifName: string;
  /** CNI_ARGS pairs (IgnoreUnknown=1 is always added) */
  args?: Array<[string, string]>;
  /** runtimeConfig values, handed only to plugins declaring the capability */
  capabilityArgs?: Record<string, unknown>;
}

export interface CniInterface {
  name: string;
  mac?: string;
  sandbox?: string;
}
export interface CniIpConfig {
  address: string;
  gateway?: string;
  interface?: number;
}
export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIpConfig[];
  routes?: Array<{ dst: string; gw?: string }>;
  dns?: Record<string, unknown>;
}

/** What the cache keeps per attachment: enough to DEL or CHECK with the same inputs. */
export interface CniCacheEntry {
  kind: 'cniCacheV1';
  containerId: string;
  ifName: string;
  networkName: string;
  config: CniConfList;
  cniArgs: Array<[string, string]>;
  capabilityArgs: Record<string, unknown>;
  netns: string;
  result: CniResult | null;
}

interface PluginError {
  code?: number;
  msg?: string;
  details?: string;
}

export class CniRuntime {
  readonly #pluginDirs: string[];
  readonly #cacheDir: string;

  constructor(opts: { pluginDirs: string[]; cacheDir: string }) {
    this.#pluginDirs = opts.pluginDirs;
    this.#cacheDir = opts.cacheDir;
  }

  #cachePath(network: string, containerId: string, ifName: string): string {
    return join(this.#cacheDir, 'results', `${network}-${containerId}-${ifName}`);
  }

  async cached(network: string, containerId: string, ifName: string): Promise<CniCacheEntry | undefined> {
    try {
      return JSON.parse(await readFile(this.#cachePath(network, containerId, ifName), 'utf8')) as CniCacheEntry;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Every cached attachment (for reconcile after a restart). */
  async allCached(): Promise<CniCacheEntry[]> {
    const dir = join(this.#cacheDir, 'results');
    const names = await readdir(dir).catch(() => [] as string[]);
    const out: CniCacheEntry[] = [];
    for (const n of names) {
      if (n.endsWith('.tmp')) continue;
      try {
        out.push(JSON.parse(await readFile(join(dir, n), 'utf8')) as CniCacheEntry);
      } catch {
        /* a torn or foreign file: not ours to act on */
      }
    }
    return out;
  }

  /**
   * ADD every plugin in order, each getting the previous result. The inputs
   * are cached before the first plugin runs, so a crash mid-ADD still leaves
   * enough behind for a DEL. On failure the whole list is deleted again.
   */
  async add(list: CniConfList, rt: CniRuntimeConf): Promise<CniResult> {
    const entry: CniCacheEntry = {
      kind: 'cniCacheV1',
      containerId: rt.containerId,
      ifName: rt.ifName,
      networkName: list.name,
      config: list,
      cniArgs: rt.args ?? [],
      capabilityArgs: rt.capabilityArgs ?? {},
      netns: rt.netns,
      result: null,
    };
    await this.#writeCache(entry);
    let prev: CniResult | undefined;
    try {
      for (const plugin of list.plugins) {
        prev = (await this.#exec('ADD', this.#pluginConfig(list, plugin, rt, prev), rt)) as CniResult;
      }
    } catch (err) {
      // Roll back what the chain made. The cache goes either way: a config
      // that cannot ADD will not DEL any better on the next start.
      await this.del(list, rt, prev).catch(() => undefined);
      await rm(this.#cachePath(list.name, rt.containerId, rt.ifName), { force: true });
      throw err;
    }
    const result = prev ?? { cniVersion: list.cniVersion };
    await this.#writeCache({ ...entry, result });
    return result;
  }

  /** CHECK every plugin with the cached result as prevResult. */
  async check(list: CniConfList, rt: CniRuntimeConf): Promise<void> {
    const entry = await this.cached(list.name, rt.containerId, rt.ifName);
    if (!entry?.result) throw new BerthError('not_found', `no cached CNI result for ${rt.containerId} on ${list.name}`);
    for (const plugin of list.plugins) await this.#exec('CHECK', this.#pluginConfig(list, plugin, rt, entry.result), rt);
  }

  /**
   * DEL in reverse order with the cached result (or `prevResult`) and the
   * cached inputs, then drop the cache entry. Plugins are idempotent on DEL,
   * so a repeated or partial DEL is safe.
   */
  async del(list: CniConfList | undefined, rt: CniRuntimeConf, prevResult?: CniResult): Promise<void> {
    const entry = list ? await this.cached(list.name, rt.containerId, rt.ifName) : undefined;
    const config = list ?? entry?.config;
    if (!config) return;
    const conf: CniRuntimeConf = {
      ...rt,
      args: rt.args ?? entry?.cniArgs,
      capabilityArgs: rt.capabilityArgs ?? entry?.capabilityArgs,
    };
    const prev = prevResult ?? entry?.result ?? undefined;
    for (const plugin of [...config.plugins].reverse()) {
      await this.#exec('DEL', this.#pluginConfig(config, plugin, conf, prev), conf);
    }
    await rm(this.#cachePath(config.name, rt.containerId, rt.ifName), { force: true });
  }

  /** DEL straight from a cache entry: the configuration that made it, as it was. */
  async delCached(entry: CniCacheEntry, netns = entry.netns): Promise<void> {
    const rt: CniRuntimeConf = {
      containerId: entry.containerId,
      ifName: entry.ifName,
      netns,
      args: entry.cniArgs,
      capabilityArgs: entry.capabilityArgs,
    };
    for (const plugin of [...entry.config.plugins].reverse()) {
      await this.#exec('DEL', this.#pluginConfig(entry.config, plugin, rt, entry.result ?? undefined), rt);
    }
    await rm(this.#cachePath(entry.networkName, entry.containerId, entry.ifName), { force: true });
  }

  async #writeCache(entry: CniCacheEntry): Promise<void> {
    await mkdir(join(this.#cacheDir, 'results'), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.#cachePath(entry.networkName, entry.containerId, entry.ifName), JSON.stringify(entry), 0o600);
  }

  /** The spec's "network configuration" for one plugin of a list. */
  #pluginConfig(list: CniConfList, plugin: CniPluginConf, rt: CniRuntimeConf, prev: CniResult | undefined): Record<string, unknown> {
    const conf: Record<string, unknown> = { ...plugin, cniVersion: list.cniVersion, name: list.name };
    const runtimeConfig: Record<string, unknown> = {};
    for (const [cap, on] of Object.entries(plugin.capabilities ?? {})) {
      if (on && rt.capabilityArgs && cap in rt.capabilityArgs) runtimeConfig[cap] = rt.capabilityArgs[cap];
    }
    if (Object.keys(runtimeConfig).length) conf.runtimeConfig = runtimeConfig;
    if (prev) conf.prevResult = prev;
    return conf;
  }

  async #findPlugin(type: string): Promise<string> {
    if (!/^[A-Za-z0-9_.-]+$/.test(type)) throw new BerthError('invalid_argument', `invalid CNI plugin type ${JSON.stringify(type)}`);
    for (const dir of this.#pluginDirs) {
      const p = join(dir, type);
      try {
        await access(p, constants.X_OK);
        return p;
      } catch {
        /* try the next directory */
      }
    }
    throw new BerthError('not_found', `failed to find plugin "${type}" in path [${this.#pluginDirs.join(' ')}]`);
  }

  async #exec(command: 'ADD' | 'DEL' | 'CHECK', conf: Record<string, unknown>, rt: CniRuntimeConf): Promise<unknown> {
    const type = conf.type as string;
    const bin = await this.#findPlugin(type);
    const args = [['IgnoreUnknown', '1'], ...(rt.args ?? [])].map(([k, v]) => `${k}=${v}`).join(';');
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      CNI_COMMAND: command,
      CNI_CONTAINERID: rt.containerId,
      CNI_NETNS: rt.netns,
      CNI_IFNAME: rt.ifName,
      CNI_ARGS: args,
      CNI_PATH: this.#pluginDirs.join(':'),
    };
    const { code, stdout, stderr } = await run(bin, env, JSON.stringify(conf));
    if (code !== 0) {
      let perr: PluginError = {};
      try {
        perr = JSON.parse(stdout) as PluginError;
      } catch {
        /* not the spec's error shape; fall back to stderr */
      }
      const detail = perr.msg ? `${perr.msg}${perr.details ? `: ${perr.details}` : ''}` : stderr.trim() || stdout.trim() || `exit status ${code}`;
      throw new BerthError('internal', `plugin type="${type}" failed (${command.toLowerCase()}): ${detail}`);
    }
    if (command !== 'ADD') return undefined;
    try {
      return JSON.parse(stdout) as unknown;
    } catch (err) {
      throw new BerthError('internal', `plugin type="${type}" returned invalid JSON: ${stdout.slice(0, 200)}`, { cause: err });
    }
  }
}

async function run(bin: string, env: NodeJS.ProcessEnv, input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await runChild(bin, [], { env, input });
  return { code: r.code ?? 1, stdout: r.stdout, stderr: r.stderr };
}
