// The CLI's own version, read from package.json next to dist/ at run time.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function cliVersion(): string {
  if (cached) return cached;
  try {
    // dist/src/cli/version.js -> <repo>/package.json; from the bundle (dist/cli/main.cjs) it is two levels up.
    for (const rel of ['../../../package.json', '../../package.json']) {
      try {
        const pkg = JSON.parse(readFileSync(fileURLToPath(new URL(rel, import.meta.url)), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'berth' && pkg.version) return (cached = pkg.version);
      } catch {
        /* try the next location */
      }
    }
  } catch {
    /* fall through */
  }
  return (cached = 'unknown');
}
