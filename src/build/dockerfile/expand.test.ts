// The shell-word lexer, docker's per-instruction substitution rules, FROM
// and meta-ARG expansion, and BuildKit's history strings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DockerfileError,
  envFrom,
  expandBaseName,
  expandInstruction,
  formatCreatedBy,
  formatGoDuration,
  historyEntry,
  parseGoDuration,
  parseProgram,
  processWord,
  processWords,
  processWordWithMatches,
  resolveMetaArgs,
  ShellLexError,
  type Instruction,
} from './index.js';

const env = envFrom({
  PWD: '/home',
  EMPTY: '',
  KOREAN: '한국어',
  FILE: 'a/b/c.tar.gz',
  SPACED: 'x  y',
});

test('processWord: quotes, escapes, variables, defaults, unset vs empty, patterns', () => {
  const table: [string, string][] = [
    ['hello', 'hello'],
    ["he'll'o", 'hello'],
    ["he\\'llo", "he'llo"],
    ['abc\\def', 'abcdef'],
    ['"abc\\def"', 'abc\\def'],
    ['"abc\\\\def"', 'abc\\def'],
    ['"a\\"b\\$c"', 'a"b$c'],
    ["'abc\\def $PWD'", 'abc\\def $PWD'],
    ['$PWD', '/home'],
    ['${PWD}/x', '/home/x'],
    ['"$PWD"', '/home'],
    ['\\$PWD', '$PWD'],
    ['$PWDx', ''],
    ['$KOREAN', '한국어'],
    ['$', '$'],
    ['a$', 'a$'],
    ['$1', ''],
    ['${UNSET:-def}', 'def'],
    ['${EMPTY:-def}', 'def'],
    ['${EMPTY-def}', ''],
    ['${UNSET-def}', 'def'],
    ['${PWD:-def}', '/home'],
    ['${UNSET:-$PWD/sub}', '/home/sub'],
    ['${PWD:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ['${UNSET+alt}', ''],
    ['${EMPTY?x}', ''],
    ['${PWD:?x}', '/home'],
    ['${PWD#*o}', 'me'],
    ['${PWD##*/}', 'home'],
    ['${FILE%.*}', 'a/b/c.tar'],
    ['${FILE%%.*}', 'a/b/c'],
    ['${FILE#*/}', 'b/c.tar.gz'],
    ['${FILE##*/}', 'c.tar.gz'],
    ['${FILE/b/X}', 'a/X/c.tar.gz'],
    ['${FILE//./_}', 'a/b/c_tar_gz'],
    ['${FILE/nomatch/X}', 'a/b/c.tar.gz'],
    ['"${SPACED}"', 'x  y'],
    ['$SPACED', 'x  y'],
  ];
  for (const [input, expected] of table) assert.equal(processWord(input, env), expected, input);
});

test('processWord errors say what failed', () => {
  const table: [string, string][] = [
    ["he'llo", 'unexpected end of statement while looking for matching single-quote'],
    ['"abc', 'unexpected end of statement while looking for matching double-quote'],
    ['${}', 'syntax error: bad substitution'],
    ['${:x}', 'syntax error: bad substitution'],
    ['${PWD', "syntax error: missing '}'"],
    ['${PWD:-x', "syntax error: missing '}'"],
    ['${UNSET:?must be set}', 'UNSET: must be set'],
    ['${UNSET?}', 'UNSET: is not allowed to be unset'],
    ['${EMPTY:?}', 'EMPTY: is not allowed to be empty'],
    ['${PWD:x}', 'unsupported modifier (:x) in substitution'],
  ];
  for (const [input, message] of table) {
    assert.throws(
      () => processWord(input, env),
      (err: unknown) => err instanceof ShellLexError && err.message === `failed to process ${JSON.stringify(input)}: ${message}`,
      input,
    );
  }
});

test('processWords: split on unquoted whitespace after expansion', () => {
  assert.deepEqual(processWords('a  "b c" $SPACED', env), ['a', 'b c', 'x', 'y']);
  assert.deepEqual(processWords('"$SPACED" \'$PWD\'', env), ['x  y', '$PWD']);
  assert.deepEqual(processWords('a\\ b c', env), ['a b', 'c']);
  assert.deepEqual(processWords('  ', env), []);
});

test('escape character backtick: backslash is literal', () => {
  assert.equal(processWord('C:\\dir\\file', env, '`'), 'C:\\dir\\file');
  assert.equal(processWord('a`$PWD', env, '`'), 'a$PWD');
  assert.equal(processWord('"a`"b"', env, '`'), 'a"b');
});

test('processWordWithMatches reports set and unset references', () => {
  const r = processWordWithMatches('$PWD ${EMPTY:-x} $NOPE ${ALSO:-y}', env);
  assert.equal(r.result, '/home x  y');
  assert.deepEqual([...r.matched].sort(), ['EMPTY', 'PWD']);
  assert.deepEqual([...r.unmatched].sort(), ['ALSO', 'NOPE']);
});

/** Instructions of a one-stage Dockerfile body. */
const insts = (body: string): Instruction[] => parseProgram(`FROM scratch\n${body}`).stages[0].instructions;

test('expandInstruction: ENV and LABEL values lose their quotes and gain variables', () => {
  const vars = envFrom({ NAME: 'world' });
  const [e1, e2, label] = insts('ENV A="hello $NAME" B=${NAME:-x} C=\'$NAME\'\nENV LEGACY "a b" $NAME\nLABEL "k $NAME"="v"\n');
  const x1 = expandInstruction(e1, vars, '\\');
  assert.deepEqual(x1.instruction.kind === 'env' && x1.instruction.pairs, [
    { key: 'A', value: 'hello world' },
    { key: 'B', value: 'world' },
    { key: 'C', value: '$NAME' },
  ]);
  assert.deepEqual([...x1.used], ['NAME']);
  const x2 = expandInstruction(e2, vars, '\\');
  assert.deepEqual(x2.instruction.kind === 'env' && x2.instruction.pairs, [{ key: 'LEGACY', value: 'a b world' }]);
  const x3 = expandInstruction(label, vars, '\\');
  assert.deepEqual(x3.instruction.kind === 'label' && x3.instruction.pairs, [{ key: 'k world', value: 'v' }]);
  // the input is not modified
  assert.deepEqual(e1.kind === 'env' && e1.pairs[0], { key: 'A', value: '"hello $NAME"' });
});

test('expandInstruction: COPY/ADD paths and flags, inline files only when unquoted', () => {
  const vars = envFrom({ SRC: 'src', DST: '/dst', U: '1000', STAGE: 'build', V: 'val' });
  const [copy, inline] = insts('COPY --from=$STAGE --chown=$U:$U ["$SRC", "my file", "${DST}/"]\nCOPY <<a <<"b" /x/\n$V\na\n$V\nb\n');
  const x = expandInstruction(copy, vars, '\\');
  assert.equal(x.instruction.kind, 'copy');
  if (x.instruction.kind === 'copy') {
    assert.deepEqual(x.instruction.sources, ['src', 'my file']);
    assert.equal(x.instruction.dest, '/dst/');
    assert.equal(x.instruction.chown, '1000:1000');
    assert.equal(x.instruction.from, 'build');
  }
  assert.deepEqual([...x.used].sort(), ['DST', 'SRC', 'STAGE', 'U']);
  const y = expandInstruction(inline, vars, '\\');
  // shell-form paths are split on whitespace first, so a quoted space cannot work (as in docker)
  const [spaced] = insts('COPY "my file" /d/\n');
  assert.throws(() => expandInstruction(spaced, vars, '\\'), /matching double-quote/);
  assert.deepEqual(y.instruction.kind === 'copy' && y.instruction.heredocs.map((h) => h.content), ['val\n', '$V\n']);
});

test('expandInstruction: EXPOSE splits, VOLUME/WORKDIR/USER/STOPSIGNAL/ARG expand, RUN/CMD/ONBUILD do not', () => {
  const vars = envFrom({ PORTS: '80 443/udp', D: '/data', U: 'app', SIG: 'SIGTERM', X: 'v' });
  const list = insts(
    'EXPOSE $PORTS 8080\nVOLUME $D\nWORKDIR $D/w\nUSER $U\nSTOPSIGNAL $SIG\nARG K=$X L\nRUN echo $X\nCMD echo $X\nHEALTHCHECK CMD echo $X\nONBUILD RUN echo $X\nSHELL ["$X"]\n',
  );
  const out = list.map((i) => expandInstruction(i, vars, '\\'));
  const [expose, volume, workdir, user, stop, arg, run, cmd, hc, onbuild, shell] = out.map((o) => o.instruction);
  assert.deepEqual(expose.kind === 'expose' && expose.ports, ['80', '443/udp', '8080']);
  assert.deepEqual(volume.kind === 'volume' && volume.paths, ['/data']);
  assert.equal(workdir.kind === 'workdir' && workdir.path, '/data/w');
  assert.equal(user.kind === 'user' && user.user, 'app');
  assert.equal(stop.kind === 'stopsignal' && stop.signal, 'SIGTERM');
  assert.deepEqual(arg.kind === 'arg' && arg.args, [{ key: 'K', value: 'v' }, { key: 'L' }]);
  assert.deepEqual(run, list[6]);
  assert.deepEqual(cmd, list[7]);
  assert.deepEqual(hc, list[8]);
  assert.deepEqual(onbuild, list[9]);
  assert.deepEqual(shell, list[10]);
  for (const o of out.slice(6)) assert.equal(o.used.size, 0);
});

test('expandInstruction: lexer errors carry the instruction line', () => {
  const [, workdir] = insts('USER x\nWORKDIR ${X:?need X}\n');
  assert.throws(
    () => expandInstruction(workdir, () => undefined, '\\'),
    (err: unknown) =>
      err instanceof DockerfileError && err.line === 3 && err.message === 'failed to process "${X:?need X}": X: need X',
  );
});

test('FROM with meta ARGs: defaults chain, build args override, blank names refused', () => {
  const prog = parseProgram('ARG REPO=library/alpine\nARG TAG\nARG REF=$REPO:${TAG:-latest}\nFROM --platform=$TARGETPLATFORM $REF\nFROM ${NOPE}\n');
  const meta = resolveMetaArgs(prog.metaArgs, { TAG: '3.19' }, '\\', (n) => (n === 'TARGETPLATFORM' ? 'linux/amd64' : undefined));
  assert.equal(meta.get('REF'), 'library/alpine:3.19');
  assert.ok(meta.has('TAG'));
  const withDefaults = resolveMetaArgs(prog.metaArgs, {});
  assert.equal(withDefaults.get('REF'), 'library/alpine:latest');
  assert.equal(withDefaults.get('TAG'), undefined);
  const lookup = (n: string) => (meta.has(n) ? meta.get(n) : n === 'TARGETPLATFORM' ? 'linux/amd64' : undefined);
  const first = expandBaseName(prog.stages[0], lookup);
  assert.equal(first.base, 'library/alpine:3.19');
  assert.equal(first.platform, 'linux/amd64');
  assert.deepEqual([...first.used].sort(), ['REF', 'TARGETPLATFORM']);
  assert.throws(
    () => expandBaseName(prog.stages[1], meta),
    (err: unknown) => err instanceof DockerfileError && err.line === 5 && err.message === 'base name (${NOPE}) should not be blank',
  );
});

test('Go durations: parse and format like time.ParseDuration / Duration.String', () => {
  assert.equal(parseGoDuration('1h2m3.5s'), 3723.5e9);
  assert.equal(parseGoDuration('.5s'), 0.5e9);
  assert.equal(parseGoDuration('1.s'), 1e9);
  assert.equal(parseGoDuration('-1.5h'), -5400e9);
  assert.equal(parseGoDuration('10us'), 10_000);
  assert.equal(parseGoDuration('0'), 0);
  assert.throws(() => parseGoDuration('.s'), /time: invalid duration "\.s"/);
  assert.throws(() => parseGoDuration(''), /time: invalid duration ""/);
  const formats: [number, string][] = [
    [0, '0s'],
    [999, '999ns'],
    [1500, '1.5µs'],
    [500e6, '500ms'],
    [1.5e9, '1.5s'],
    [30e9, '30s'],
    [90e9, '1m30s'],
    [3600e9, '1h0m0s'],
    [-2e9, '-2s'],
  ];
  for (const [ns, s] of formats) assert.equal(formatGoDuration(ns), s, s);
});

test('formatCreatedBy: BuildKit history strings', () => {
  const list = insts(
    [
      'RUN apt-get update',
      'RUN ["echo", "hi"]',
      'COPY --from=build --chown=1:1 --chmod=755 --parents a b /d/',
      'ENV A=b C="d e"',
      'LABEL a=b',
      'ARG V=1 W',
      'WORKDIR /app',
      'USER nobody',
      'EXPOSE 80 443/udp 8000-8001',
      'VOLUME ["/data", "/x"]',
      'CMD ["sh"]',
      'CMD echo hi',
      'ENTRYPOINT ["x"]',
      'HEALTHCHECK --interval=30s --retries=3 CMD true',
      'STOPSIGNAL SIGINT',
      'SHELL ["/bin/bash", "-c"]',
      'MAINTAINER me',
      'COPY <<a.txt /d/',
      'a',
      'a.txt',
    ].join('\n') + '\n',
  ).map((i) => expandInstruction(i, () => undefined, '\\').instruction);
  const expected = [
    'RUN /bin/sh -c apt-get update # buildkit',
    'RUN echo hi # buildkit',
    'COPY --parents --chown=1:1 --chmod=755 a b /d/ # buildkit',
    'ENV A=b C=d e',
    'LABEL a=b',
    'ARG V=1 W',
    'WORKDIR /app',
    'USER nobody',
    'EXPOSE map[443/udp:{} 80/tcp:{} 8000/tcp:{} 8001/tcp:{}]',
    'VOLUME [/data /x]',
    'CMD ["sh"]',
    'CMD ["/bin/sh" "-c" "echo hi"]',
    'ENTRYPOINT ["x"]',
    `HEALTHCHECK &{["CMD-SHELL" "true"] "30s" "0s" "0s" "0s" '\\x03'}`,
    'STOPSIGNAL SIGINT',
    'SHELL [/bin/bash -c]',
    'MAINTAINER me',
    'COPY <<a.txt /d/ # buildkit',
  ];
  assert.deepEqual(list.map((i) => formatCreatedBy(i)), expected);
  assert.deepEqual(
    list.map((i) => historyEntry(i)?.emptyLayer),
    [false, false, false, true, true, true, false, true, true, true, true, true, true, true, true, true, true, false],
  );
});

test('formatCreatedBy: RUN with SHELL, build args, heredocs; WORKDIR resolved; ONBUILD records nothing', () => {
  const [run, script, shebang, multi, workdir, onbuild] = insts(
    'RUN make\nRUN <<EOF\necho hi\nEOF\nRUN <<EOF\n#!/bin/sh\necho hi\nEOF\nRUN cat <<A && cat <<-B\na\nA\n\tb\n\tB\nWORKDIR /\nONBUILD RUN x\n',
  );
  assert.equal(
    formatCreatedBy(run, { shell: ['/bin/bash', '-o', 'pipefail', '-c'], buildArgs: [{ key: 'A', value: '1' }, { key: 'B' }] }),
    'RUN |2 A=1 B= /bin/bash -o pipefail -c make # buildkit',
  );
  assert.equal(formatCreatedBy(script), 'RUN /bin/sh -c echo hi\n # buildkit');
  assert.equal(formatCreatedBy(shebang), 'RUN /bin/sh -c /dev/pipes/EOF # buildkit');
  assert.equal(formatCreatedBy(multi), 'RUN /bin/sh -c cat <<A && cat <<-B\na\nA\n\tb\nB # buildkit');
  assert.deepEqual(historyEntry(workdir), { createdBy: 'WORKDIR /', emptyLayer: true });
  assert.equal(formatCreatedBy(workdir, { workdir: '/srv' }), 'WORKDIR /srv');
  assert.equal(historyEntry(onbuild), undefined);
  assert.equal(formatCreatedBy(onbuild), 'ONBUILD RUN x');
});
