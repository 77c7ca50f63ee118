import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanSize, humanSizeWithPrecision, bytesSize, humanDuration, formatG, goDurationSeconds } from './units.js';
import { tabwrite, DOCKER_TABLE } from './tabwriter.js';
import { Template, renderTemplate, TemplateError } from './template.js';
import { formatList, context } from './list.js';

test('sizes match go-units (values docker prints)', () => {
  const cases: Array<[number, number, string]> = [
    [0, 3, '0B'],
    [999, 3, '999B'],
    [1000, 3, '1kB'],
    [4_261_574, 3, '4.26MB'],
    [1_234_567_890, 3, '1.23GB'],
    [999_500, 3, '1e+03kB'], // go's %.3g rounds up into an exponent; docker prints this too
    [4_261_574, 4, '4.262MB'],
    [1_500_000_000_000, 4, '1.5TB'],
  ];
  for (const [size, precision, want] of cases) assert.equal(humanSizeWithPrecision(size, precision), want, `${size}@${precision}`);
  assert.equal(humanSize(2_000_000), '2MB');
  assert.equal(bytesSize(8_345_000_000), '7.772GiB');
  assert.equal(bytesSize(1024), '1KiB');
  assert.equal(formatG(0.00001234, 3), '1.23e-05');
  assert.equal(formatG(12.0, 3), '12');
});

test('durations match units.HumanDuration', () => {
  const s = 1000;
  const cases: Array<[number, string]> = [
    [500, 'Less than a second'],
    [1 * s, '1 second'],
    [45 * s, '45 seconds'],
    [61 * s, 'About a minute'],
    [30 * 60 * s, '30 minutes'],
    [65 * 60 * s, 'About an hour'],
    [2 * 3600 * s, '2 hours'],
    [47 * 3600 * s, '47 hours'],
    [3 * 86400 * s, '3 days'],
    [20 * 86400 * s, '2 weeks'],
    [90 * 86400 * s, '3 months'],
    [800 * 86400 * s, '2 years'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, String(ms));
  assert.deepEqual([0, 45, 90, 3725].map(goDurationSeconds), ['0s', '45s', '1m30s', '1h2m5s']);
});

test('tabwriter aligns like text/tabwriter with docker settings', () => {
  const out = tabwrite('REPOSITORY\tTAG\tIMAGE ID\nbusybox\tlatest\tabababababab\nlocalhost:5000/tools/busybox\t1.36\tabababababab\n', DOCKER_TABLE);
  assert.equal(
    out,
    'REPOSITORY                     TAG       IMAGE ID\n' +
      'busybox                        latest    abababababab\n' +
      'localhost:5000/tools/busybox   1.36      abababababab\n',
  );
  // Column blocks: a line with fewer cells ends the block above it.
  assert.equal(tabwrite('a\tb\nx\nlonger\tc\n', { minwidth: 0, tabwidth: 8, padding: 1, padchar: ' ' }), 'a b\nx\nlonger c\n');
  // Widths count runes, not UTF-16 units or bytes.
  assert.equal(tabwrite('é…\tx\nab\ty\n', { minwidth: 0, tabwidth: 8, padding: 1, padchar: ' ' }), 'é… x\nab y\n');
});

test('template engine: fields, functions, conditionals, ranges', () => {
  const data = { Name: 'busybox', Tags: ['a', 'b'], Labels: { 'org.x': 'y' }, Nested: { Inner: { Value: 3 } }, Empty: '', Yes: true, None: [] };
  const cases: Array<[string, string]> = [
    ['{{.Name}}', 'busybox'],
    ['{{.Nested.Inner.Value}}', '3'],
    ['{{json .}}', '{"Name":"busybox","Tags":["a","b"],"Labels":{"org.x":"y"},"Nested":{"Inner":{"Value":3}},"Empty":"","Yes":true,"None":[]}'],
    ['{{json .Tags}}', '["a","b"]'],
    ['{{.Name | upper}}', 'BUSYBOX'],
    ['{{upper .Name}} {{lower "AbC"}} {{title "hello world"}}', 'BUSYBOX abc Hello World'],
    ['{{truncate .Name 4}}', 'busy'],
    ['{{join .Tags ","}}', 'a,b'],
    ['{{index .Labels "org.x"}}', 'y'],
    ['{{index .Tags 1}}', 'b'],
    ['{{if .Empty}}yes{{else}}no{{end}}', 'no'],
    ['{{if .Empty}}1{{else if .Yes}}2{{else}}3{{end}}', '2'],
    ['{{range .Tags}}[{{.}}]{{end}}', '[a][b]'],
    ['{{range .None}}x{{else}}none{{end}}', 'none'],
    ['{{with .Nested}}{{.Inner.Value}}{{end}}', '3'],
    ['{{println .Name}}', 'busybox\n'],
    ['{{.Missing}}', '<no value>'],
    ['{{.Tags}} {{.Labels}}', '[a b] map[org.x:y]'],
    ['a {{- " b " -}} c', 'a b c'],
    ['{{len .Tags}} {{eq .Name "busybox"}} {{not .Yes}}', '2 true false'],
    ['{{printf "%s-%d" .Name 7}}', 'busybox-7'],
    ['{{(index .Tags 0) | upper}}', 'A'],
    ['{{json "<&>"}}', '"\\u003c\\u0026\\u003e"'],
  ];
  for (const [tmpl, want] of cases) assert.equal(renderTemplate(tmpl, data), want, tmpl);
});

test('template errors: syntax, unknown functions, unknown struct fields', () => {
  assert.throws(() => Template.parse('{{.Name'), TemplateError);
  assert.throws(() => Template.parse('{{nope .Name}}'), /function "nope" not defined/);
  assert.throws(() => Template.parse('{{if .X}}a'), TemplateError);
  assert.throws(() => renderTemplate('{{.Nope}}', context({ Name: 'x' })), /can't evaluate field Nope/);
});

test('formatList: table headers, json keyword, quiet, plain templates', () => {
  const rows = [context({ ID: 'abc', Repository: 'busybox', Tag: 'latest' }), context({ ID: 'def', Repository: '<none>', Tag: '<none>' })];
  const headers = { ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG' };
  const defaultTable = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}';
  assert.equal(
    formatList(rows, { format: '', defaultTable, headers }),
    'REPOSITORY   TAG       IMAGE ID\nbusybox      latest    abc\n<none>       <none>    def\n',
  );
  assert.equal(formatList(rows, { format: '', quiet: true, quietFormat: '{{.ID}}', defaultTable, headers }), 'abc\ndef\n');
  assert.equal(formatList(rows, { format: 'json', defaultTable, headers }), '{"ID":"abc","Repository":"busybox","Tag":"latest"}\n{"ID":"def","Repository":"\\u003cnone\\u003e","Tag":"\\u003cnone\\u003e"}\n');
  assert.equal(formatList(rows, { format: 'table {{.ID}}\\t{{upper .Tag}}', defaultTable, headers }), 'IMAGE ID   TAG\nabc        LATEST\ndef        <NONE>\n');
  assert.equal(formatList([], { format: '', defaultTable, headers }), 'REPOSITORY   TAG       IMAGE ID\n');
  assert.throws(() => formatList(rows, { format: '{{.ID', defaultTable, headers }), /template parsing error/);
});
