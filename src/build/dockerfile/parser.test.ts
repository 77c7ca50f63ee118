// Parser and instruction model: directives, comments, continuations, flags,
// JSON vs shell form, heredocs, every instruction and its error messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCode } from '../../errors/index.js';
import { buildProgram, DockerfileError, parseDockerfile, parseProgram, type Instruction } from './index.js';

/** Asserts parsing+building throws DockerfileError with this message and line. */
function rejects(text: string, message: string, line: number): void {
  assert.throws(
    () => parseProgram(text),
    (err: unknown) => {
      assert.ok(err instanceof DockerfileError, `not a DockerfileError: ${String(err)}`);
      assert.ok(isCode(err, 'invalid_argument'));
      assert.equal(err.message, message);
      assert.equal(err.line, line);
      assert.equal(String(err), `Dockerfile:${line}: ${message}`);
      return true;
    },
  );
}

const only = (text: string): Instruction => {
  const prog = parseProgram(`FROM scratch\n${text}`);
  assert.equal(prog.stages[0].instructions.length, 1);
  return prog.stages[0].instructions[0];
};

test('directives at the top: syntax, escape, check; later or unknown ones are comments', () => {
  const p = parseDockerfile('# syntax=docker/dockerfile:1\n#ESCAPE = `\n# check=skip=all\nFROM x\n# escape=\\\n');
  assert.deepEqual(p.directives, { syntax: 'docker/dockerfile:1', escape: '`', check: 'skip=all' });
  // an unknown directive ends the block: the escape after it is a plain comment
  const q = parseDockerfile('# foo=bar\n# escape=`\nFROM x\n');
  assert.equal(q.directives.escape, '\\');
  // so does an empty line
  assert.equal(parseDockerfile('\n# escape=`\nFROM x\n').directives.escape, '\\');
  rejects('# escape=`\n# escape=\\\nFROM x\n', 'only one escape parser directive can be used', 2);
  rejects('# escape=x\nFROM x\n', "invalid escape token 'x' does not match ` or \\", 1);
});

test('comments, continuations with comments between, empty continuation warning, lines', () => {
  const text = ['FROM busybox', '# a comment', 'RUN echo a \\', '  # inside', '', '   && echo b \\', '  c', 'USER me'].join('\n');
  const p = parseDockerfile(text);
  assert.equal(p.nodes.length, 3);
  const run = p.nodes[1];
  assert.equal(run.keyword, 'run');
  assert.equal(run.rest, 'echo a    && echo b   c');
  assert.equal(run.original, 'RUN echo a    && echo b   c');
  assert.equal(run.startLine, 3);
  assert.equal(run.endLine, 7);
  assert.equal(p.nodes[2].startLine, 8);
  assert.equal(p.warnings.length, 2);
  assert.match(p.warnings[0], /Empty continuation line found in:\n {4}RUN echo a/);
  // an escaped escape at the end is not a continuation
  const q = parseDockerfile('FROM x\nRUN echo \\\\\nUSER y\n');
  assert.equal(q.nodes[1].rest, 'echo \\\\');
  assert.equal(q.nodes.length, 3);
  // CRLF line endings and a BOM
  const r = parseDockerfile('\uFEFFFROM x\r\nRUN a \\\r\n b\r\n');
  assert.equal(r.nodes[1].rest, 'a  b');
});

test('keywords are case-insensitive; flags go to flags in order', () => {
  const p = parseDockerfile('from x\ncOpY --from=build --chown="1:1" --link a b\n');
  assert.equal(p.nodes[1].keyword, 'copy');
  assert.deepEqual(p.nodes[1].flags, ['--from=build', '--chown=1:1', '--link']);
  assert.equal(p.nodes[1].rest, 'a b');
  // "--" ends the flags
  const q = parseDockerfile('FROM x\nRUN --network=none -- --not-a-flag\n');
  assert.deepEqual(q.nodes[1].flags, ['--network=none']);
  assert.equal(q.nodes[1].rest, '--not-a-flag');
});

test('escape directive backtick: continuation with `, backslashes stay literal', () => {
  const prog = parseProgram('# escape=`\nFROM x\nCOPY testfile.txt c:\\ `\n  d:\\dir\\\nWORKDIR c:\\windows\n');
  const [copy, workdir] = prog.stages[0].instructions;
  assert.equal(copy.kind, 'copy');
  if (copy.kind === 'copy') {
    assert.deepEqual(copy.sources, ['testfile.txt', 'c:\\']);
    assert.equal(copy.dest, 'd:\\dir\\');
  }
  assert.deepEqual(workdir.kind === 'workdir' && workdir.path, 'c:\\windows');
});

test('JSON vs shell form', () => {
  const exec = only('CMD ["a", "b c"]');
  assert.deepEqual(exec.kind === 'cmd' && exec.command, { form: 'exec', argv: ['a', 'b c'] });
  const shell = only('CMD [ "a", ] oops');
  assert.deepEqual(shell.kind === 'cmd' && shell.command, { form: 'shell', command: '[ "a", ] oops' });
  const single = only("ENTRYPOINT ['a']");
  assert.deepEqual(single.kind === 'entrypoint' && single.command, { form: 'shell', command: "['a']" });
  const run = only('RUN echo "$HOME" && ls');
  assert.deepEqual(run.kind === 'run' && run.command, { form: 'shell', command: 'echo "$HOME" && ls' });
  // BuildKit rejects JSON arrays with non-string members instead of falling back to shell form
  rejects('FROM x\nCMD ["a", 1]\n', 'when using JSON array syntax, arrays must be comprised of strings only', 2);
  const node = parseDockerfile('FROM x\nRUN ["echo", "hi"]\nRUN echo\n').nodes;
  assert.deepEqual(node[1].json, ['echo', 'hi']);
  assert.equal(node[2].json, null);
});

test('FROM: platform, AS name lower-cased, stage indices, meta ARGs', () => {
  const prog = parseProgram('ARG V=1 W\nARG X\nFROM --platform=$P img:$V AS Build\nFROM build\nRUN true\n');
  assert.equal(prog.metaArgs.length, 2);
  assert.deepEqual(prog.metaArgs[0].args, [{ key: 'V', value: '1' }, { key: 'W' }]);
  assert.equal(prog.stages.length, 2);
  assert.deepEqual(
    { name: prog.stages[0].name, base: prog.stages[0].base, platform: prog.stages[0].platform, index: prog.stages[0].index, line: prog.stages[0].line },
    { name: 'build', base: 'img:$V', platform: '$P', index: 0, line: 3 },
  );
  assert.equal(prog.stages[1].name, undefined);
  assert.equal(prog.stages[1].index, 1);
  assert.equal(prog.stages[1].instructions.length, 1);
  rejects('FROM a b\n', 'FROM requires either one or three arguments', 1);
  rejects('FROM a AS 1x\n', 'invalid name for build stage: "1x", name can\'t start with a number or contain symbols', 1);
  rejects('FROM --foo=bar a\n', 'unknown flag: --foo', 1);
});

test('errors: unknown instruction, no stage, empty file, argument counts', () => {
  rejects('FROM x\nRUN a\n\nFOO bar\n', 'unknown instruction: FOO', 4);
  rejects('FROM x\nfoo bar\n', 'unknown instruction: foo', 2);
  rejects('ENV A=b\nFROM x\n', 'no build stage in current context', 1);
  rejects('', 'file with no instructions', 0);
  rejects('# just a comment\n\n', 'file with no instructions', 2);
  rejects('FROM x\nCOPY a\n', 'COPY requires at least two arguments, but only one was provided. Destination could not be determined', 2);
  rejects('FROM x\nADD\n', 'ADD requires at least two arguments, but only one was provided. Destination could not be determined', 2);
  rejects('FROM x\nENV =b\n', 'ENV names can not be blank', 2);
  rejects('FROM x\nENV\n', 'ENV requires at least one argument', 2);
  rejects('FROM x\nENV A\n', 'ENV must have two arguments', 2);
  rejects('FROM x\nLABEL a=b c\n', 'Syntax error - can\'t find = in "c". Must be of the form: name=value', 2);
  rejects('FROM x\nARG =1\n', 'ARG names can not be blank', 2);
  rejects('FROM x\nWORKDIR\n', 'WORKDIR requires exactly one argument', 2);
  rejects('FROM x\nUSER\n', 'USER requires exactly one argument', 2);
  rejects('FROM x\nEXPOSE\n', 'EXPOSE requires at least one argument', 2);
  rejects('FROM x\nVOLUME []\n', 'VOLUME requires at least one argument', 2);
  rejects('FROM x\nVOLUME [""]\n', 'VOLUME specified can not be an empty string', 2);
  rejects('FROM x\nSHELL /bin/bash -c\n', 'SHELL requires the arguments to be in JSON form', 2);
  rejects('FROM x\nSHELL []\n', 'SHELL requires at least one argument', 2);
  rejects('FROM x\nSTOPSIGNAL\n', 'STOPSIGNAL requires exactly one argument', 2);
  rejects('FROM x\nCOPY --foo a b\n', 'unknown flag: --foo', 2);
  rejects('FROM x\nCOPY --checksum=sha256:0 a b\n', 'unknown flag: --checksum', 2);
  rejects('FROM x\nADD --from=a a b\n', 'unknown flag: --from', 2);
  rejects('FROM x\nCOPY --from=a --from=b a b\n', 'duplicate flag specified: --from', 2);
  rejects('FROM x\nCOPY --from a b\n', 'missing a value on flag: --from', 2);
  rejects('FROM x\nCOPY --link=maybe a b\n', 'expecting boolean value for flag --link, not: maybe', 2);
  rejects('FROM x\nWORKDIR --x=1 /a\n', 'unknown flag: --x', 2);
  rejects('FROM x\nRUN --network=bridge true\n', 'unsupported network mode "bridge"', 2);
  rejects('FROM x\nRUN --frobnicate true\n', 'unknown flag: --frobnicate', 2);
});

test('ENV and LABEL: key=value pairs, quotes kept for expansion, legacy form', () => {
  const env = only('ENV A="hello world" B=c\\ d C=');
  assert.deepEqual(env.kind === 'env' && env.pairs, [
    { key: 'A', value: '"hello world"' },
    { key: 'B', value: 'c\\ d' },
    { key: 'C', value: '' },
  ]);
  const legacy = only('ENV NAME  John   Doe  "x"');
  assert.deepEqual(legacy.kind === 'env' && legacy.pairs, [{ key: 'NAME', value: 'John   Doe  "x"' }]);
  const label = only('LABEL "com.example.vendor"="ACME Inc" version=1.0');
  assert.deepEqual(label.kind === 'label' && label.pairs, [
    { key: '"com.example.vendor"', value: '"ACME Inc"' },
    { key: 'version', value: '1.0' },
  ]);
});

test('ARG with several names per line; EXPOSE sorted; VOLUME JSON and words; USER, WORKDIR, STOPSIGNAL, MAINTAINER', () => {
  const prog = parseProgram(
    'FROM x\nARG A B=2 C="x y"\nEXPOSE 8080 443/udp 80\nVOLUME ["/a", "/b c"]\nVOLUME /d /e\nUSER nobody:nogroup\nWORKDIR /app dir\nSTOPSIGNAL SIGINT\nMAINTAINER Jane <j@x>\n',
  );
  const [arg, expose, vol1, vol2, user, workdir, stop, maint] = prog.stages[0].instructions;
  assert.deepEqual(arg.kind === 'arg' && arg.args, [{ key: 'A' }, { key: 'B', value: '2' }, { key: 'C', value: '"x y"' }]);
  assert.deepEqual(expose.kind === 'expose' && expose.ports, ['443/udp', '80', '8080']);
  assert.deepEqual(vol1.kind === 'volume' && vol1.paths, ['/a', '/b c']);
  assert.deepEqual(vol2.kind === 'volume' && vol2.paths, ['/d', '/e']);
  assert.equal(user.kind === 'user' && user.user, 'nobody:nogroup');
  assert.equal(workdir.kind === 'workdir' && workdir.path, '/app dir');
  assert.equal(stop.kind === 'stopsignal' && stop.signal, 'SIGINT');
  assert.equal(maint.kind === 'maintainer' && maint.name, 'Jane <j@x>');
  assert.ok(prog.warnings.some((w) => w.includes('MaintainerDeprecated') && w.includes('line 9')));
});

test('COPY and ADD flags', () => {
  const copy = only('COPY --from=build --chown=1000:1000 --chmod=755 --link --parents --exclude=*.md --exclude=x a b /dst/');
  assert.equal(copy.kind, 'copy');
  if (copy.kind === 'copy') {
    assert.deepEqual(copy.sources, ['a', 'b']);
    assert.equal(copy.dest, '/dst/');
    assert.equal(copy.from, 'build');
    assert.equal(copy.chown, '1000:1000');
    assert.equal(copy.chmod, '755');
    assert.equal(copy.link, true);
    assert.equal(copy.parents, true);
    assert.deepEqual(copy.excludes, ['*.md', 'x']);
  }
  const add = only('ADD --checksum=sha256:abc --keep-git-dir=true --link=false ["http://h/f", "/d"]');
  assert.equal(add.kind, 'add');
  if (add.kind === 'add') {
    assert.deepEqual(add.sources, ['http://h/f']);
    assert.equal(add.dest, '/d');
    assert.equal(add.checksum, 'sha256:abc');
    assert.equal(add.keepGitDir, true);
    assert.equal(add.link, false);
    assert.equal(add.from, undefined);
  }
});

test('RUN flags: --network, --mount (several, as written), --security', () => {
  const run = only('RUN --mount=type=cache,target=/root/.cache --mount=type=bind,source=a,target=/a --network=none --security=insecure make');
  assert.equal(run.kind, 'run');
  if (run.kind === 'run') {
    assert.deepEqual(run.mounts, ['type=cache,target=/root/.cache', 'type=bind,source=a,target=/a']);
    assert.equal(run.network, 'none');
    assert.equal(run.security, 'insecure');
    assert.deepEqual(run.command, { form: 'shell', command: 'make' });
  }
  const plain = only('RUN make');
  assert.equal(plain.kind === 'run' && plain.network, undefined);
});

test('SHELL, CMD/ENTRYPOINT shell form', () => {
  const prog = parseProgram('FROM x\nSHELL ["/bin/bash", "-c"]\nENTRYPOINT exec top -b\n');
  const [shell, ep] = prog.stages[0].instructions;
  assert.deepEqual(shell.kind === 'shell' && shell.shell, ['/bin/bash', '-c']);
  assert.deepEqual(ep.kind === 'entrypoint' && ep.command, { form: 'shell', command: 'exec top -b' });
});

test('HEALTHCHECK: NONE, CMD forms, Go durations in nanoseconds, validation', () => {
  const none = only('HEALTHCHECK NONE');
  assert.deepEqual(none.kind === 'healthcheck' && none.check.test, ['NONE']);
  const hc = only('HEALTHCHECK --interval=1m30s --timeout=1.5s --start-period=500ms --start-interval=2s --retries=3 CMD curl -f http://localhost/ || exit 1');
  assert.deepEqual(hc.kind === 'healthcheck' && hc.check, {
    test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'],
    interval: 90e9,
    timeout: 1.5e9,
    startPeriod: 500e6,
    startInterval: 2e9,
    retries: 3,
  });
  const exec = only('HEALTHCHECK CMD ["/bin/check", "-q"]');
  assert.deepEqual(exec.kind === 'healthcheck' && exec.check, { test: ['CMD', '/bin/check', '-q'], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 });
  rejects('FROM x\nHEALTHCHECK --interval=500us CMD true\n', 'Interval "interval" cannot be less than 1ms', 2);
  rejects('FROM x\nHEALTHCHECK --timeout=abc CMD true\n', 'time: invalid duration "abc"', 2);
  rejects('FROM x\nHEALTHCHECK --timeout=10 CMD true\n', 'time: missing unit in duration "10"', 2);
  rejects('FROM x\nHEALTHCHECK --timeout=10y CMD true\n', 'time: unknown unit "y" in duration "10y"', 2);
  rejects('FROM x\nHEALTHCHECK --retries=-1 CMD true\n', '--retries cannot be negative (-1)', 2);
  rejects('FROM x\nHEALTHCHECK NONE x\n', 'HEALTHCHECK NONE takes no arguments', 2);
  rejects('FROM x\nHEALTHCHECK CMD\n', 'Missing command after HEALTHCHECK CMD', 2);
  rejects('FROM x\nHEALTHCHECK FOO true\n', 'Unknown type "FOO" in HEALTHCHECK (try CMD)', 2);
  rejects('FROM x\nHEALTHCHECK\n', 'HEALTHCHECK requires at least one argument', 2);
  rejects('FROM x\nHEALTHCHECK --bogus=1 CMD true\n', 'unknown flag: --bogus', 2);
});

test('ONBUILD: trigger text kept; ONBUILD ONBUILD, FROM, MAINTAINER refused', () => {
  const ob = only('ONBUILD   RUN --mount=type=cache,target=/x echo hi');
  assert.equal(ob.kind === 'onbuild' && ob.trigger, 'RUN --mount=type=cache,target=/x echo hi');
  const lower = only('onbuild copy . /app');
  assert.equal(lower.kind === 'onbuild' && lower.trigger, 'copy . /app');
  rejects('FROM x\nONBUILD ONBUILD RUN x\n', 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed', 2);
  rejects('FROM x\nONBUILD from y\n', "FROM isn't allowed as an ONBUILD trigger", 2);
  rejects('FROM x\nONBUILD MAINTAINER me\n', "MAINTAINER isn't allowed as an ONBUILD trigger", 2);
  rejects('FROM x\nONBUILD\n', 'ONBUILD requires at least one argument', 2);
});

test('heredocs: several per line, chomp, quoted delimiters, fd, line numbers', () => {
  const text = [
    'FROM x',
    'RUN <<EOF',
    'echo $HOME',
    'EOF',
    'RUN 3<<-"FILE1" cat /proc/self/fd/3 && cat <<\'FILE2\'',
    '\t\tindented',
    '\tFILE1',
    'second $x',
    'FILE2',
    'COPY <<a.txt <<"b.txt" /dst/',
    'A $V',
    'a.txt',
    'B $V',
    'b.txt',
    'USER me',
  ].join('\n');
  const p = parseDockerfile(text);
  const [, run1, run2, copyNode, user] = p.nodes;
  assert.deepEqual(run1.heredocs, [{ name: 'EOF', content: 'echo $HOME\n', raw: 'echo $HOME\n', expand: true, chomp: false }]);
  assert.equal(run1.startLine, 2);
  assert.equal(run1.endLine, 4);
  assert.deepEqual(run2.heredocs, [
    { name: 'FILE1', content: 'indented\n', raw: '\t\tindented\n', expand: false, chomp: true, fileDescriptor: 3 },
    { name: 'FILE2', content: 'second $x\n', raw: 'second $x\n', expand: false, chomp: false },
  ]);
  assert.equal(run2.endLine, 9);
  assert.equal(copyNode.heredocs.length, 2);
  assert.equal(user.startLine, 15);
  const prog = buildProgram(p);
  const copy = prog.stages[0].instructions[2];
  assert.equal(copy.kind, 'copy');
  if (copy.kind === 'copy') {
    assert.deepEqual(copy.sources, []);
    assert.equal(copy.dest, '/dst/');
    assert.deepEqual(
      copy.heredocs.map((h) => [h.name, h.content, h.expand]),
      [
        ['a.txt', 'A $V\n', true],
        ['b.txt', 'B $V\n', false],
      ],
    );
  }
  // JSON-form RUN and other instructions don't take heredocs
  const q = parseDockerfile('FROM x\nRUN ["cat", "<<EOF"]\nENV A=<<EOF\n');
  assert.equal(q.nodes.length, 3);
  assert.deepEqual(q.nodes[1].heredocs, []);
  rejects('FROM x\nRUN <<EOF\necho\n', 'unterminated heredoc', 2);
  rejects('FROM x\nCOPY a <<EOF\nx\nEOF\n', 'COPY cannot accept a heredoc as a destination', 2);
  // ONBUILD keeps the heredoc in its trigger text
  const ob = parseProgram('FROM x\nONBUILD RUN <<EOF\necho hi\nEOF\n').stages[0].instructions[0];
  assert.equal(ob.kind === 'onbuild' && ob.trigger, 'RUN <<EOF\necho hi\nEOF');
});

test('a realistic multi-stage Dockerfile end to end', () => {
  const text = `# syntax=docker/dockerfile:1
ARG GO_VERSION=1.22
ARG APP=server

FROM golang:\${GO_VERSION}-alpine AS build
WORKDIR /src
ENV CGO_ENABLED=0 \\
    GOFLAGS="-trimpath -mod=readonly"
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \\
    go mod download
COPY . .
ARG APP
RUN go build -o /out/$APP ./cmd/$APP

FROM alpine:3.19 AS runtime
LABEL org.opencontainers.image.title="berth test" maintainer=ops
RUN apk add --no-cache ca-certificates && \\
    adduser -D app
COPY --from=build --chown=app:app /out/ /usr/local/bin/
USER app
EXPOSE 8080/tcp
HEALTHCHECK --interval=10s CMD wget -qO- http://localhost:8080/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/server"]
CMD ["--port", "8080"]
`;
  const prog = parseProgram(text);
  assert.equal(prog.directives.syntax, 'docker/dockerfile:1');
  assert.deepEqual(
    prog.metaArgs.map((a) => a.args),
    [[{ key: 'GO_VERSION', value: '1.22' }], [{ key: 'APP', value: 'server' }]],
  );
  assert.deepEqual(
    prog.stages.map((s) => [s.name, s.base, s.index, s.line, s.instructions.map((i) => i.kind)]),
    [
      ['build', 'golang:${GO_VERSION}-alpine', 0, 5, ['workdir', 'env', 'copy', 'run', 'copy', 'arg', 'run']],
      ['runtime', 'alpine:3.19', 1, 16, ['label', 'run', 'copy', 'user', 'expose', 'healthcheck', 'entrypoint', 'cmd']],
    ],
  );
  const env = prog.stages[0].instructions[1];
  assert.deepEqual(env.kind === 'env' && env.pairs, [
    { key: 'CGO_ENABLED', value: '0' },
    { key: 'GOFLAGS', value: '"-trimpath -mod=readonly"' },
  ]);
  assert.deepEqual([env.line, env.endLine], [7, 8]);
  const copyFrom = prog.stages[1].instructions[2];
  assert.equal(copyFrom.kind === 'copy' && copyFrom.from, 'build');
  assert.equal(prog.warnings.length, 0);
});
