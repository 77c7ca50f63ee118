// Bundles the CLI (dist/src/cli, as tsc emitted it) into one CommonJS file,
// dist/cli/main.cjs, which bin/berth runs.
//
// Why: a CLI call pays Node's module loading every time. Node 20's ES module loader
// costs about a millisecond per file here, and starting it at all ~13 ms of CPU (an
// empty .mjs against `node -e 0`); a CommonJS file needs neither. So the CLI and
// what it imports statically (berth's pure modules: errors, reference, util, events)
// are one file; each command's code is still evaluated only when the command runs
// (esbuild's lazy module wrappers).
//
// What the CLI imports with import() stays an ES module, loaded from dist/src when
// the command needs it: the daemon, compose's engine, the registry server, the build
// context packer, the native addon. Those find files next to themselves (the addon,
// the monitor, worker scripts) through import.meta.url, so they must not be bundled;
// a static import of such a module from the CLI fails this build.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'dist', 'src') + sep;
const cliDir = join(srcDir, 'cli') + sep;
const outdir = join(root, 'dist', 'cli');

const outsideCli = {
  name: 'outside-cli',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      const target = resolve(dirname(args.importer), args.path);
      if (target.startsWith(cliDir)) return undefined;
      // import() of a berth module: stays an import(), re-pointed from dist/cli to dist/src
      if (args.kind === 'dynamic-import') return { path: relative(outdir, target).split(sep).join('/'), external: true };
      // the CLI's own import.meta.url (version.ts) is the bundle's, defined below
      if (readFileSync(target, 'utf8').includes('import.meta')) {
        return { errors: [{ text: `${relative(root, args.importer)} imports ${relative(root, target)} statically, which locates files through import.meta: import() it instead` }] };
      }
      return undefined;
    });
  },
};

// stale output of an earlier build (and earlier layouts: ESM chunks) must not linger
await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: [join(cliDir, 'main.js')],
  outfile: join(outdir, 'main.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
  plugins: [outsideCli],
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: 'const __bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
});
