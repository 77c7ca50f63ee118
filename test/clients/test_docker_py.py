# docker-py (Debian's python3-docker 5.x) against berth: run by test/docker-py.test.ts
# with pytest, DOCKER_HOST pointing at a harness daemon that has busybox:latest.
# Each test cleans up what it made.
import io
import os
import tarfile
import time
import uuid

import docker
import pytest


@pytest.fixture(scope="module")
def client():
    c = docker.from_env(version="auto")
    yield c
    c.close()


def uid(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_ping_version_info(client):
    assert client.ping() is True
    v = client.version()
    assert v["ApiVersion"] and v["Os"] == "linux"
    info = client.info()
    assert "Containers" in info and "Images" in info


def test_run_logs_wait_remove(client):
    out = client.containers.run("busybox", ["sh", "-c", "echo out; echo err >&2"], remove=True)
    assert out == b"out\n"
    out = client.containers.run("busybox", ["sh", "-c", "echo out; echo err >&2"], remove=True, stderr=True, stdout=False)
    assert out == b"err\n"
    with pytest.raises(docker.errors.ContainerError) as e:
        client.containers.run("busybox", ["sh", "-c", "exit 3"], remove=True)
    assert e.value.exit_status == 3
    # no registry is reachable here: the create's 404 makes docker-py pull, and the pull fails
    with pytest.raises(docker.errors.APIError):
        client.containers.run("127.0.0.1:9/no-such-image:1", "true")
    with pytest.raises(docker.errors.ImageNotFound):
        client.containers.create("no-such-image-here:1", "true")


def test_create_list_get_logs_stream(client):
    name = uid("pyc")
    c = client.containers.run("busybox", ["sh", "-c", "for i in 1 2 3; do echo line $i; sleep 0.2; done"], name=name, detach=True, labels={"suite": "py"})
    try:
        assert client.containers.get(name).id == c.id
        assert any(x.id == c.id for x in client.containers.list(filters={"label": "suite=py"}))
        lines = [l for l in c.logs(stream=True, follow=True)]
        assert b"".join(lines) == b"line 1\nline 2\nline 3\n"
        assert c.wait()["StatusCode"] == 0
        c.reload()
        assert c.status == "exited"
    finally:
        c.remove(force=True)
    assert name not in [x.name for x in client.containers.list(all=True)]


def test_exec_run(client):
    c = client.containers.run("busybox", ["sleep", "60"], detach=True)
    try:
        r = c.exec_run(["sh", "-c", "echo hi; echo oops >&2; exit 4"])
        assert r.exit_code == 4 and b"hi" in r.output and b"oops" in r.output
        r = c.exec_run(["sh", "-c", "echo hi; echo oops >&2"], demux=True)
        assert r.output == (b"hi\n", b"oops\n")
        r = c.exec_run(["sh", "-c", "echo a; echo b"], stream=True)
        assert b"".join(r.output) == b"a\nb\n"
        r = c.exec_run("env", environment={"X": "1"}, workdir="/tmp", user="nobody")
        assert b"X=1" in r.output
    finally:
        c.remove(force=True)


def test_archives(client):
    c = client.containers.run("busybox", ["sleep", "60"], detach=True)
    try:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as t:
            data = b"payload\n"
            info = tarfile.TarInfo("hello.txt")
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        assert c.put_archive("/tmp", buf.getvalue())
        bits, stat = c.get_archive("/tmp/hello.txt")
        assert stat["name"] == "hello.txt" and stat["size"] == 8
        raw = b"".join(bits)
        with tarfile.open(fileobj=io.BytesIO(raw)) as t:
            assert t.extractfile("hello.txt").read() == b"payload\n"
    finally:
        c.remove(force=True)


def test_stats(client):
    c = client.containers.run("busybox", ["sleep", "60"], detach=True)
    try:
        s = c.stats(stream=False)
        assert "memory_stats" in s and "cpu_stats" in s
        it = c.stats(stream=True, decode=True)
        first = next(it)
        assert "read" in first
    finally:
        c.remove(force=True)


def test_images(client):
    img = client.images.get("busybox")
    tag = uid("pytag")
    assert img.tag(tag, "v1")
    assert client.images.get(f"{tag}:v1").id == img.id
    assert any(f"{tag}:v1" in i.tags for i in client.images.list())
    client.images.remove(f"{tag}:v1")
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get(f"{tag}:v1")


def test_build(client, tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM busybox\nCOPY f /f\nCMD [\"cat\", \"/f\"]\n")
    (tmp_path / "f").write_text("built by docker-py\n")
    tag = uid("pybuild")
    img, logs = client.images.build(path=str(tmp_path), tag=tag, rm=True)
    assert any("Step" in (l.get("stream") or "") for l in logs)
    try:
        assert client.containers.run(tag, remove=True) == b"built by docker-py\n"
    finally:
        client.images.remove(tag, force=True)


def test_networks_volumes(client):
    net = client.networks.create(uid("pynet"), driver="bridge")
    vol = client.volumes.create(uid("pyvol"))
    c = client.containers.run("busybox", ["sleep", "60"], detach=True, volumes={vol.name: {"bind": "/v", "mode": "rw"}})
    try:
        net.connect(c, aliases=["svc"])
        net.reload()
        assert c.id in [x.id for x in net.containers]
        c.reload()
        assert net.name in c.attrs["NetworkSettings"]["Networks"]
        net.disconnect(c)
    finally:
        c.remove(force=True)
        net.remove()
        vol.remove()


def test_events_and_df_and_prune(client):
    since = int(time.time())
    client.containers.run("busybox", "true", remove=True)
    until = int(time.time()) + 1
    actions = [e["Action"] for e in client.events(since=since, until=until, decode=True, filters={"type": "container"})]
    assert "start" in actions and "die" in actions
    df = client.df()
    assert "Images" in df and "Containers" in df and "Volumes" in df
    assert "ContainersDeleted" in client.containers.prune()
    assert "VolumesDeleted" in client.volumes.prune()
    assert "NetworksDeleted" in client.networks.prune()


def test_attach_socket(client):
    c = client.containers.create("busybox", ["cat"], stdin_open=True)
    try:
        sock = client.api.attach_socket(c.id, params={"stdin": 1, "stdout": 1, "stream": 1})
        c.start()
        sock._sock.sendall(b"echo me\n")
        sock._sock.shutdown(1)  # SHUT_WR: cat sees EOF
        data = b""
        deadline = time.time() + 10
        while time.time() < deadline:
            chunk = sock._sock.recv(4096)
            if not chunk:
                break
            data += chunk
        assert b"echo me" in data
        assert c.wait(timeout=10)["StatusCode"] == 0
    finally:
        c.remove(force=True)


def test_push_pull(client):
    registry = os.environ["BERTH_TEST_REGISTRY"]
    repo = f"{registry}/py/{uid('bb')}"
    client.images.get("busybox").tag(repo, "1")
    lines = list(client.images.push(repo, tag="1", stream=True, decode=True))
    assert not [l for l in lines if "error" in l], lines
    assert any("digest" in (l.get("aux") or {}) or "digest:" in (l.get("status") or "") for l in lines), lines
    client.images.remove(f"{repo}:1")
    pulled = client.images.pull(repo, tag="1")
    assert f"{repo}:1" in pulled.tags
    client.images.remove(f"{repo}:1")
