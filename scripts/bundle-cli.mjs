// Bundles the CLI (dist/src/cli, as tsc emitted it) into dist/cli, which bin/berth runs.
//
// Why: a CLI call pays Node's module loading every time, and Node 20's ESM loader
// costs about a millisecond per file here; `berth run -d` loaded 20 files. Bundled
// (esbuild, ESM with code splitting, so each command's handler still loads only
// when called), the same call loads a dozen, and a call is 10-20 ms shorter.
//
// Only src/cli is bundled. Every other module of berth (errors, the daemon, compose,
// distribution ...) stays external and loads from dist/src as before, so no module
// exists twice — an error class in two copies would break `instanceof` — and those
// that find files next to themselves (the addon, the monitor) still do.
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cliDir = join(root, 'dist', 'src', 'cli') + sep;
const outdir = join(root, 'dist', 'cli');

/** Relative imports that leave src/cli stay imports, re-pointed from dist/cli to dist/src. */
const outsideCli = {
  name: 'outside-cli',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      const target = resolve(dirname(args.importer), args.path);
      if (target.startsWith(cliDir)) return undefined;
      return { path: relative(outdir, target).split(sep).join('/'), external: true };
    });
  },
};

// chunk names carry content hashes: stale ones from an earlier build must not linger
await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: [join(cliDir, 'main.js')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
  plugins: [outsideCli],
});
