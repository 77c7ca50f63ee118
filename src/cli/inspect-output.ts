// How every `inspect` command prints: a JSON array indented 4 spaces, or the
// --format template once per object; then the errors for names not found
// (exit 1 when there were any, after printing what was found, like docker).
import { CliError, type CommandContext } from './context.js';
import { TemplateError, type Template } from './format/index.js';

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
