// loadProject: find the files, read .env, interpolate and check each file,
// merge them, resolve `extends`, apply profiles, then normalize and validate.
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { LoadOptions, Project } from '../types.js';
import { ComposeModelError, Issues } from './errors.js';
import { mergeModels, mergeValue } from './merge.js';
import { checkKeys, interpolateTree, isMap, parseYaml, preprocessService, type RawMap } from './raw.js';
import { buildProject } from './normalize.js';
import { parseDotenv, type Env } from './text.js';

const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];
const OVERRIDE_FILES = ['compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yml', 'docker-compose.override.yaml'];
const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]*$/;

const exists = (p: string) => stat(p).then((s) => s.isFile(), () => false);

/** Compose's file discovery: the first default name in cwd or a parent, plus its override file. */
async function findFiles(cwd: string): Promise<string[]> {
  for (let dir = cwd; ; dir = dirname(dir)) {
    for (const name of DEFAULT_FILES) {
      const file = resolve(dir, name);
      if (await exists(file)) {
        for (const o of OVERRIDE_FILES) if (await exists(resolve(dir, o))) return [file, resolve(dir, o)];
        return [file];
      }
    }
    if (dirname(dir) === dir) break;
  }
  const issues = new Issues();
  issues.add('', `no configuration file provided: not found (looked for ${DEFAULT_FILES.join(', ')} in ${cwd} and its parents)`);
  throw new ComposeModelError(issues.list);
}

/** Turn a directory name into a valid project name, as compose does. */
export function normalizeProjectName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[^a-z0-9]+/, '');
}

export async function loadProject(opts: LoadOptions = {}): Promise<Project> {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const processEnv: Env = opts.env ?? process.env;
  const files = opts.files && opts.files.length > 0 ? opts.files.map((f) => resolve(cwd, f)) : await findFiles(cwd);
  const workingDir = dirname(files[0]);
  const issues = new Issues();
  const warnings: string[] = [];

  // .env: values for interpolation and COMPOSE_* settings; the process environment wins.
  const envFiles = opts.envFiles?.map((f) => resolve(cwd, f)) ?? ((await exists(resolve(workingDir, '.env'))) ? [resolve(workingDir, '.env')] : []);
  let dotenv: Record<string, string> = {};
  for (const file of envFiles) {
    try {
      dotenv = { ...dotenv, ...parseDotenv(await readFile(file, 'utf8'), { ...processEnv, ...dotenv }) };
    } catch (err) {
      issues.add(file, `failed to read env file: ${(err as Error).message}`);
    }
  }
  const env: Env = { ...dotenv, ...definedOnly(processEnv) };
  const unset = new Set<string>();
  const onUnset = (name: string) => {
    if (!unset.has(name)) warnings.push(`The "${name}" variable is not set. Defaulting to a blank string.`);
    unset.add(name);
  };

  const loadFile = async (file: string, baseDir: string): Promise<RawMap> => {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      issues.add(file, `cannot read: ${(err as Error).message}`);
      return {};
    }
    const model = checkKeys(interpolateTree(parseYaml(text, file, issues), env, '', issues, onUnset), file, issues);
    if ('version' in model) warnings.push(`${file}: the attribute \`version\` is obsolete, it will be ignored`);
    if (isMap(model.services)) {
      for (const [name, svc] of Object.entries(model.services)) {
        if (isMap(svc)) model.services[name] = preprocessService(svc, { baseDir, env, issues, path: `services.${name}` });
      }
    }
    return model;
  };

  // Every -f file resolves relative paths against the project directory.
  let merged: RawMap = {};
  for (const file of files) merged = mergeModels(merged, await loadFile(file, workingDir));
  const services = isMap(merged.services) ? merged.services : {};
  merged.services = services;

  // extends, within the merged model or from another file
  const otherFiles = new Map<string, RawMap>();
  const resolveExtends = async (
    pool: RawMap,
    name: string,
    baseDir: string,
    stack: string[],
  ): Promise<RawMap | undefined> => {
    const svc = pool[name];
    if (!isMap(svc)) return undefined;
    if (svc.extends === undefined) return svc;
    const ext = svc.extends;
    const ref = typeof ext === 'string' ? { service: ext } : isMap(ext) ? ext : undefined;
    const at = `services.${name}.extends`;
    if (!ref || typeof ref.service !== 'string') {
      issues.add(at, 'must be a string or a mapping with a service');
      return svc;
    }
    let refPool = pool;
    let refDir = baseDir;
    let refFile = stack[stack.length - 1].split('#')[0];
    if (typeof ref.file === 'string') {
      refFile = resolve(baseDir, ref.file);
      refDir = dirname(refFile);
      if (!otherFiles.has(refFile)) {
        const loaded = await loadFile(refFile, refDir);
        otherFiles.set(refFile, isMap(loaded.services) ? loaded.services : {});
      }
      refPool = otherFiles.get(refFile)!;
    }
    const key = `${refFile}#${ref.service}`;
    if (stack.includes(key)) {
      issues.add(at, `circular reference with extends: ${[...stack, key].map((k) => k.split('#')[1]).join(' -> ')}`);
      return svc;
    }
    const base = await resolveExtends(refPool, ref.service, refDir, [...stack, key]);
    if (!base) {
      issues.add(at, `cannot extend service "${ref.service}": service not found`);
      return svc;
    }
    const { extends: _drop, ...own } = svc;
    const { extends: _dropBase, ...inherited } = base;
    const result = mergeValue(inherited, own, '') as RawMap;
    pool[name] = result;
    return result;
  };
  for (const name of Object.keys(services)) await resolveExtends(services, name, workingDir, [`${files[0]}#${name}`]);

  // project name: -p, COMPOSE_PROJECT_NAME, `name:`, then the directory
  const explicit = opts.projectName ?? env.COMPOSE_PROJECT_NAME ?? (typeof merged.name === 'string' ? merged.name : undefined);
  let name: string;
  if (explicit !== undefined && explicit !== '') {
    name = explicit;
    if (!PROJECT_NAME.test(name)) {
      issues.add('name', `project name ${JSON.stringify(name)} must contain only lowercase letters, decimal digits, dashes, and underscores, and must begin with a lowercase letter or decimal digit`);
    }
  } else {
    name = normalizeProjectName(basename(workingDir));
    if (!PROJECT_NAME.test(name)) issues.add('name', `project name derived from directory ${JSON.stringify(basename(workingDir))} is empty; set one with -p or name:`);
  }

  const profiles = new Set([...(opts.profiles ?? []), ...(env.COMPOSE_PROFILES ?? '').split(',').map((p) => p.trim()).filter(Boolean)]);
  const project = await buildProject(merged, { name, workingDir, files, profiles, env, issues, warnings });
  issues.throwIfAny();
  return project;
}

function definedOnly(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
