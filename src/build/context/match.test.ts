import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { isCode } from '../../errors/index.js';
import { tempRoot } from '../../testing/index.js';
import { createIgnoreMatcher, goMatch, hasWildcards, readDockerignore } from './index.js';

test("goMatch follows Go's filepath.Match", () => {
  // [pattern, name, matches] — rows from Go's own match_test.go semantics
  const rows: [string, string, boolean][] = [
    ['abc', 'abc', true],
    ['*', 'abc', true],
    ['*c', 'abc', true],
    ['a*', 'a', true],
    ['a*', 'abc', true],
    ['a*', 'ab/c', false],
    ['a*/b', 'abc/b', true],
    ['a*/b', 'a/c/b', false],
    ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
    ['a*b?c*x', 'abxbbxdbxebxczzx', true],
    ['a*b?c*x', 'abxbbxdbxebxczzy', false],
    ['ab[c]', 'abc', true],
    ['ab[b-d]', 'abc', true],
    ['ab[e-g]', 'abc', false],
    ['ab[^c]', 'abc', false],
    ['ab[^b-d]', 'abc', false],
    ['ab[^e-g]', 'abc', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'ab', false],
    ['a?b', 'a☺b', true],
    ['a[^a]b', 'a☺b', true],
    ['a???b', 'a☺b', false],
    ['[a-ζ]*', 'α', true],
    ['*[a-ζ]', 'A', false],
    ['a?b', 'a/b', false],
    ['a*b', 'a/b', false],
    ['[\\]a]', ']', true],
    ['[\\-]', '-', true],
    ['[x\\-]', 'x', true],
    ['[x\\-]', '-', true],
    ['[x\\-]', 'z', false],
    ['[\\-x]', 'x', true],
    ['*x', 'xxx', true],
    ['index.?s', 'index.ts', true],
    ['index.?s', 'index.css', false],
    ['arr[[]0].txt', 'arr[0].txt', true],
  ];
  for (const [pattern, name, want] of rows) assert.equal(goMatch(pattern, name), want, `${pattern} vs ${name}`);
});

test('goMatch rejects malformed patterns as invalid_argument', () => {
  for (const pattern of ['[', '[^', '[^bc', 'a[', '[]a]', '[-]', '[x-]', '[-x]', '\\', '[a-b-c]', 'a[\\']) {
    assert.throws(() => goMatch(pattern, 'a'), (err) => isCode(err, 'invalid_argument'), pattern);
  }
});

test('hasWildcards skips escaped characters', () => {
  assert.equal(hasWildcards('a*'), true);
  assert.equal(hasWildcards('a?'), true);
  assert.equal(hasWildcards('[ab]'), true);
  assert.equal(hasWildcards('plain.txt'), false);
  assert.equal(hasWildcards('a\\*b'), false);
});

test("createIgnoreMatcher follows moby's patternmatcher", () => {
  // [patterns, path, excluded]
  const rows: [string[], string, boolean][] = [
    [['*.md'], 'README.md', true],
    [['*.md'], 'docs/guide.md', false], // '*' stays in one segment
    [['**/*.md'], 'docs/guide.md', true],
    [['**/*.md'], 'README.md', true],
    [['**'], 'anything/at/all', true],
    [['docs/**'], 'docs/a/b', true],
    [['docs/**'], 'docsx', false],
    [['**/node_modules'], 'a/b/node_modules', true],
    [['**/node_modules'], 'node_modules', true],
    [['a/**/b'], 'a/b', true],
    [['a/**/b'], 'a/x/y/b', true],
    [['a/**/b'], 'a/x/y/c', false],
    [['build'], 'build/out/x.o', true], // a parent's match excludes its contents
    [['/build'], 'build/x', true], // leading '/' is the context root
    [['./build/'], 'build', true], // cleaned
    [['build/../src'], 'src/main.c', true],
    [['*', '!keep'], 'keep', false],
    [['*', '!keep'], 'drop', true],
    [['dir', '!dir/keep'], 'dir/keep', false],
    [['dir', '!dir/keep'], 'dir/drop', true],
    [['dir', '!dir/keep', 'dir/keep'], 'dir/keep', true], // the last matching pattern wins
    [['*.txt', '!important.txt'], 'important.txt', false],
    [['a\\*b'], 'a*b', true],
    [['a\\*b'], 'axb', false],
    [['?.go'], 'a.go', true],
    [['?.go'], 'ab.go', false],
    [['[a-c].txt'], 'b.txt', true],
    [['[a-c].txt'], 'd.txt', false],
    [['file.(x)'], 'file.(x)', true], // regexp metacharacters are literal
    [['a+b'], 'aab', false],
    [['# comment-like but given directly'], 'x', false],
    [[''], 'x', false],
    [['*'], '.', false], // the root itself is never excluded
  ];
  for (const [patterns, path, want] of rows) {
    assert.equal(createIgnoreMatcher(patterns)(path, false), want, `${JSON.stringify(patterns)} vs ${path}`);
  }
});

test('createIgnoreMatcher refuses a lone "!"', () => {
  assert.throws(() => createIgnoreMatcher(['!']), (err) => isCode(err, 'invalid_argument'));
});

test('readDockerignore drops comments and blanks and normalises as the docker CLI', async (t) => {
  const dir = await tempRoot(t);
  assert.deepEqual(await readDockerignore(dir), []); // no file, no patterns
  await writeFile(`${dir}/.dockerignore`, '\uFEFF# comment\n\n  node_modules  \n/abs/path/\n! keep/./me\r\n**/*.log\n   # not a comment after spaces? docker trims after the # check\n');
  assert.deepEqual(await readDockerignore(dir), ['node_modules', 'abs/path', '!keep/me', '**/*.log', '# not a comment after spaces? docker trims after the # check']);
});
