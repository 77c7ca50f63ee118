// The one formatter every listing command goes through: docker's --format
// semantics ("table ..." with aligned columns and a header row, "json" as
// one object per line, any other Go template once per row).
import { Template, STRUCT, TemplateError } from './template.js';
import { tabwrite, DOCKER_TABLE } from './tabwriter.js';

export const TABLE_KEY = 'table';
export const JSON_KEY = 'json';
export const JSON_FORMAT = '{{json .}}';

/** A row's fields, marked as a struct so unknown fields are template errors. */
export function context<T extends Record<string, unknown>>(fields: T): T {
  Object.defineProperty(fields, STRUCT, { value: true, enumerable: false });
  return fields;
}

export interface ListSpec {
  /** What the user passed to --format ('' when absent). */
  format: string;
  quiet?: boolean;
  /** docker's default table for this command, used for '' and 'table'. */
  defaultTable: string;
  /** The format used for -q when no --format was given. */
  quietFormat?: string;
  /** Field name -> column header (REPOSITORY, "IMAGE ID", ...). */
  headers: Record<string, string>;
}

/** Resolves '', 'table', 'json' and -q into the template text to run. */
export function resolveFormat(spec: ListSpec): string {
  const f = spec.format.trim();
  if (f === '' || f === TABLE_KEY) return spec.quiet && spec.quietFormat ? spec.quietFormat : spec.defaultTable;
  if (f === JSON_KEY) return JSON_FORMAT;
  return spec.format;
}

/** Renders rows; throws TemplateError for a bad template, as docker does before printing anything. */
export function formatList(rows: readonly object[], spec: ListSpec): string {
  return renderRows(resolveFormat(spec), rows, spec.headers);
}

export function renderRows(format: string, rows: readonly object[], headers: Record<string, string>): string {
  const isTable = format.startsWith(TABLE_KEY);
  let body = isTable ? format.slice(TABLE_KEY.length) : format;
  body = body.trim().replaceAll('\\t', '\t').replaceAll('\\n', '\n');
  let tmpl: Template;
  try {
    tmpl = Template.parse(body);
  } catch (err) {
    throw new TemplateError(`template parsing error: ${(err as Error).message}`);
  }
  let out = '';
  for (const row of rows) out += tmpl.execute(row) + '\n';
  if (!isTable) return out;
  const header = tmpl.forHeader().execute(headers);
  return tabwrite(header + '\n' + out, DOCKER_TABLE);
}
