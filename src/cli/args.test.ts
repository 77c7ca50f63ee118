import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, UsageError, type FlagSpec } from './args.js';
import { resolveCommand, commandName } from './commands.js';
import { parseReference, referenceString, withDefaultTag, familiarName } from './reference.js';
import { socketPathOf, normalizeHost, minVersion, buildQuery } from './client.js';

const specs: FlagSpec[] = [
  { name: 'all', short: 'a', type: 'bool', description: '' },
  { name: 'quiet', short: 'q', type: 'bool', description: '' },
  { name: 'format', short: 'f', type: 'string', description: '' },
  { name: 'filter', type: 'strings', description: '' },
  { name: 'human', short: 'H', type: 'bool', default: true, description: '' },
];

test('flags: bundles, =value, separate values, repeats, interspersed args, --', () => {
  const p = parseArgs(specs, ['-aq', 'busybox', '--format={{.ID}}', '--filter', 'dangling=true', '--filter=label=x', '--', '-notaflag']);
  assert.deepEqual(p.flags, { all: true, quiet: true, format: '{{.ID}}', filter: ['dangling=true', 'label=x'], human: true });
  assert.deepEqual(p.args, ['busybox', '-notaflag']);
  assert.equal(parseArgs(specs, ['-f{{.ID}}']).flags.format, '{{.ID}}');
  assert.equal(parseArgs(specs, ['-af', 'x']).flags.format, 'x');
  assert.equal(parseArgs(specs, ['-H=false']).flags.human, false);
  assert.equal(parseArgs(specs, ['--human=false']).flags.human, false);
  assert.equal(parseArgs(specs, ['--help']).help, true);
  assert.deepEqual(parseArgs(specs, ['-']).args, ['-']);
});

test('flag errors are usage errors with exit code 125', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--nope'], /^unknown flag: --nope$/],
    [['-z'], /^unknown shorthand flag: 'z' in -z$/],
    [['--format'], /flag needs an argument: --format/],
    [['--all=maybe'], /invalid argument "maybe"/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(() => parseArgs(specs, argv), (err) => err instanceof UsageError && err.exitCode === 125 && message.test(err.message));
  }
});

test('global flags stop at the command word', () => {
  const p = parseArgs([{ name: 'host', short: 'H', type: 'strings', description: '' }], ['-H', 'unix:///x.sock', 'images', '-a'], { stopAtPositional: true });
  assert.deepEqual(p.flags.host, ['unix:///x.sock']);
  assert.deepEqual(p.rest, ['images', '-a']);
});

test('commands resolve by canonical name and docker aliases', () => {
  const cases: Array<[string[], string, number]> = [
    [['images'], 'image ls', 1],
    [['image', 'ls'], 'image ls', 2],
    [['image', 'list'], 'image ls', 2],
    [['rmi', 'x'], 'image rm', 1],
    [['image', 'rm'], 'image rm', 2],
    [['pull'], 'image pull', 1],
    [['history'], 'image history', 1],
    [['image', 'inspect'], 'image inspect', 2],
    [['inspect'], 'inspect', 1],
    [['info'], 'system info', 1],
    [['system', 'df'], 'system df', 2],
    [['image', 'prune'], 'image prune', 2],
    [['save'], 'image save', 1],
    [['load'], 'image load', 1],
    [['import'], 'image import', 1],
    [['tag'], 'image tag', 1],
    [['login'], 'login', 1],
    [['daemon'], 'daemon', 1],
  ];
  for (const [words, name, used] of cases) {
    const found = resolveCommand(words);
    assert.ok(found, words.join(' '));
    assert.equal(commandName(found.def), name);
    assert.equal(found.used, used);
  }
  assert.equal(resolveCommand(['nope']), undefined);
});

test('references normalise like docker/distribution', () => {
  assert.equal(referenceString(withDefaultTag(parseReference('busybox'))), 'docker.io/library/busybox:latest');
  assert.equal(referenceString(parseReference('user/app:1')), 'docker.io/user/app:1');
  assert.equal(referenceString(parseReference('localhost:5000/a/b:2')), 'localhost:5000/a/b:2');
  assert.equal(parseReference('127.0.0.1:5000/x').domain, '127.0.0.1:5000');
  assert.equal(familiarName(parseReference('docker.io/library/busybox')), 'busybox');
  const d = 'sha256:' + '0'.repeat(64);
  assert.equal(parseReference(`busybox@${d}`).digest, d);
  assert.throws(() => parseReference('BusyBox'), /must be lowercase/);
  assert.throws(() => parseReference('a:b:c:'), /invalid reference format/);
});

test('hosts, version negotiation and queries', () => {
  assert.equal(socketPathOf('unix:///run/berth/berth.sock'), '/run/berth/berth.sock');
  assert.equal(socketPathOf('/tmp/x.sock'), '/tmp/x.sock');
  assert.equal(normalizeHost('/tmp/x.sock'), 'unix:///tmp/x.sock');
  assert.throws(() => socketPathOf('tcp://1.2.3.4:2375'), /unsupported host/);
  assert.equal(minVersion('1.50', '1.44'), '1.44');
  assert.equal(minVersion('1.50', '1.51'), '1.50');
  assert.equal(minVersion('1.9', '1.10'), '1.9');
  assert.equal(buildQuery({ a: 'x y', b: ['1', '2'], c: true, d: undefined }), '?a=x+y&b=1&b=2&c=1');
});
