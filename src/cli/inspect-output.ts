// How every `inspect` command prints: a JSON array indented 4 spaces, or the
// --format template once per object; then the errors for names not found
// (exit 1 when there were any, after printing what was found, like docker).
import { ApiError } from './client.js';
import { CliError, type CommandContext } from './context.js';
import { Template, TemplateError } from './format/index.js';

export function printInspected(ctx: CommandContext, found: unknown[], tmpl: Template | undefined, errors: string[]): number {
  if (tmpl) {
    let out = '';
    for (const item of found) {
      try {
        out += tmpl.execute(item) + '\n';
      } catch (err) {
        if (err instanceof TemplateError) throw new CliError(`template: ${err.message.replace(/^template: /, '')}`, 1);
        throw err;
      }
    }
    ctx.stdout.write(out);
  } else {
    ctx.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
  }
  if (errors.length) {
    ctx.stderr.write(`${errors.join('\n')}\n`);
    return 1;
  }
  return 0;
}

/**
 * The whole of an `inspect NAME...` command: the --format template parsed
 * first (docker's exit 64 on a bad one), each name fetched, a 404 kept as an
 * error line, the rest printed by printInspected.
 */
export async function inspectEach(
  ctx: CommandContext,
  names: readonly string[],
  format: string,
  fetch: (name: string) => Promise<unknown>,
  /** the error line for a name nothing was found for (default: the daemon's message) */
  notFound: (name: string, err: ApiError) => string = (_name, err) => `Error response from daemon: ${err.message}`,
): Promise<number> {
  let tmpl: Template | undefined;
  if (format) {
    try {
      tmpl = Template.parse(format.replaceAll('\\t', '\t').replaceAll('\\n', '\n'));
    } catch (err) {
      throw new CliError(`template parsing error: ${(err as Error).message}`, 64);
    }
  }
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const name of names) {
    try {
      found.push(await fetch(name));
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
      errors.push(notFound(name, err));
    }
  }
  return printInspected(ctx, found, tmpl, errors);
}
