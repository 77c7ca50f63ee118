// Isolation and limits seen from inside real containers, driven by the real
// docker CLI: namespaces, docker's default capabilities and seccomp profile,
// a custom seccomp profile file, read-only rootfs with tmpfs, /dev, limits
// (OOM kill reported as OOMKilled and 137, pids, ulimits).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { daemonWithBusybox } from './harness/index.js';

test('namespaces, capabilities, seccomp and /dev as docker sets them up', async (t) => {
  const d = await daemonWithBusybox(t);
  const script = [
    'echo pid=$$',
    'echo procs=$(ls -d /proc/[0-9]* | wc -l)',
    'echo host=$(hostname)',
    "grep -E '^(CapEff|Seccomp|NoNewPrivs):' /proc/self/status",
    'echo dev=$(ls /dev | tr "\\n" " ")',
    'cat /proc/kcore >/dev/null 2>&1; echo kcore=$?',
    'echo 1 > /proc/sys/kernel/domainname 2>/dev/null; echo procsys=$?',
  ].join('; ');
  const r = await d.docker(['run', '--rm', '--hostname', 'boxy', 'busybox', 'sh', '-c', script]);
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /^pid=1$/m); // the entrypoint is PID 1
  assert.match(out, /^procs=[1-5]$/m); // only its own processes (sh, its subshell, ls, wc), none of the host's
  assert.match(out, /^host=boxy$/m);
  assert.match(out, /^CapEff:\s+00000000a80425fb$/m); // docker's default capability set
  assert.match(out, /^Seccomp:\s+2$/m); // filter mode: docker's default profile
  assert.match(out, /^NoNewPrivs:\s+0$/m);
  const dev = (/^dev=(.*)$/m.exec(out)?.[1] ?? '').trim().split(' ').sort();
  for (const name of ['full', 'mqueue', 'null', 'ptmx', 'pts', 'random', 'shm', 'tty', 'urandom', 'zero']) assert.ok(dev.includes(name), `no /dev/${name}`);
  assert.ok(!dev.includes('sda') && !dev.includes('mem') && !dev.includes('kmsg'), `host devices leaked: ${dev.join(' ')}`);
  assert.match(out, /^kcore=1$/m); // masked path
  assert.match(out, /^procsys=1$/m); // read-only /proc/sys

  const dropped = await d.docker(['run', '--rm', '--cap-drop', 'ALL', '--cap-add', 'CHOWN', '--security-opt', 'no-new-privileges', 'busybox', 'grep', '-E', '^(CapEff|NoNewPrivs):', '/proc/self/status']);
  assert.equal(dropped.code, 0, dropped.stderr);
  assert.match(dropped.stdout, /^CapEff:\s+0000000000000001$/m);
  assert.match(dropped.stdout, /^NoNewPrivs:\s+1$/m);

  const privileged = await d.docker(['run', '--rm', '--privileged', 'busybox', 'grep', '-E', '^(CapEff|Seccomp):', '/proc/self/status']);
  assert.match(privileged.stdout, /^Seccomp:\s+0$/m);
  assert.doesNotMatch(privileged.stdout, /^CapEff:\s+00000000a80425fb$/m);
});

test('--security-opt seccomp=FILE: the docker CLI sends the profile, and it is enforced', async (t) => {
  const d = await daemonWithBusybox(t);
  // allow everything except mkdir/mkdirat, which fail with EPERM
  const profile = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }],
  };
  const file = join(d.dir, 'no-mkdir.json');
  await writeFile(file, JSON.stringify(profile));
  const r = await d.docker(['run', '--rm', '--security-opt', `seccomp=${file}`, 'busybox', 'sh', '-c', 'mkdir /tmp/x; echo rc=$?; touch /tmp/y; echo touch=$?']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^rc=1$/m);
  assert.match(r.stdout, /^touch=0$/m);
  assert.match(r.stderr + r.stdout, /Operation not permitted/);
  const unconfined = await d.docker(['run', '--rm', '--security-opt', 'seccomp=unconfined', 'busybox', 'grep', 'Seccomp:', '/proc/self/status']);
  assert.match(unconfined.stdout, /^Seccomp:\s+0$/m);
  const bad = await d.docker(['run', '--rm', '--security-opt', 'seccomp=/nonexistent.json', 'busybox', 'true']);
  assert.notEqual(bad.code, 0);
});

test('--read-only with --tmpfs; limits: OOM kill (137, OOMKilled), pids-limit, ulimit', async (t) => {
  const d = await daemonWithBusybox(t);
  const ro = await d.docker(['run', '--rm', '--read-only', '--tmpfs', '/scratch', 'busybox', 'sh', '-c', 'touch /x 2>/dev/null; echo root=$?; touch /scratch/y; echo tmpfs=$?']);
  assert.equal(ro.code, 0, ro.stderr);
  assert.match(ro.stdout, /^root=1$/m);
  assert.match(ro.stdout, /^tmpfs=0$/m);

  const oom = await d.docker(['run', '--name', 'hog', '-m', '16m', '--memory-swap', '16m', 'busybox', 'sh', '-c', 'x=$(head -c 64000000 /dev/zero | tr "\\0" a); echo survived']);
  assert.equal(oom.code, 137, oom.stderr);
  const state = await d.docker(['inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}}', 'hog']);
  assert.equal(state.stdout.trim(), 'true 137');

  const pids = await d.docker(['run', '--rm', '--pids-limit', '5', 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do sleep 5 & done 2>&1; echo done']);
  assert.match(pids.stdout + pids.stderr, /can't fork|Resource temporarily unavailable|fork/i);

  const ulimit = await d.docker(['run', '--rm', '--ulimit', 'nofile=1024:2048', 'busybox', 'sh', '-c', 'ulimit -n; ulimit -Hn']);
  assert.equal(ulimit.code, 0, ulimit.stderr);
  assert.equal(ulimit.stdout, '1024\n2048\n');
});
