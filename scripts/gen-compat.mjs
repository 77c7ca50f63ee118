#!/usr/bin/env node
// Writes docs/compatibility.md from src/daemon/compat.ts (compiled: run `npx tsc -p tsconfig.json` first).
// `--check` writes nothing and exits 1 when the doc differs; src/daemon/compat.test.ts checks the same.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const { renderCompatibility } = await import(new URL('../dist/src/daemon/compat.js', import.meta.url).href);
const target = `${root}docs/compatibility.md`;
const rendered = renderCompatibility();

if (process.argv.includes('--check')) {
  const current = await readFile(target, 'utf8').catch(() => '');
  if (current !== rendered) {
    console.error('docs/compatibility.md is stale: run `npx tsc -p tsconfig.json && node scripts/gen-compat.mjs`');
    process.exit(1);
  }
} else {
  // write-then-rename: a reader never sees half a file
  await writeFile(`${target}.tmp`, rendered);
  await rename(`${target}.tmp`, target);
  console.log(`wrote ${target}`);
}
