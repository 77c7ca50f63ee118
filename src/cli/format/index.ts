// Output formatting shared by every berth command: Go-template --format,
// tabwriter tables, docker's human units.
export { Template, TemplateError, renderTemplate, goJson, printValue, truthy, STRUCT } from './template.js';
export { tabwrite, DOCKER_TABLE, type TabwriterOptions } from './tabwriter.js';
export { formatList, renderRows, resolveFormat, context, type ListSpec, TABLE_KEY, JSON_KEY, JSON_FORMAT } from './list.js';
export {
  humanSize,
  humanSizeWithPrecision,
  bytesSize,
  humanDuration,
  sinceUnix,
  formatG,
  goDurationSeconds,
  goTimeString,
  rfc3339,
} from './units.js';
