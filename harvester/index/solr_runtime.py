"""A local Apache Solr 9 started from Maven Central artifacts, for development, tests and small nodes.

No Solr distribution is downloaded: Maven fetches the Solr jars once (``solr_config/runtime/pom.xml``) into a
cache directory, ``javac`` compiles ``SolrLauncher.java`` against them once, and ``java`` runs the launcher in
the background, either as one standalone node or as a SolrCloud cluster (embedded ZooKeeper + N nodes, one
JVM).

    handle = start(home, port=0)            # SolrHandle(urls=[...], zk_host=None, pid=...)
    core_url = init(handle.url, "pops")     # core from the configset, ready for pysolr.Solr(core_url)
    stop(home)

    handle = start(home, cloud=2)           # nodes on 8983 and 8984, ZooKeeper on 9983
    coll_url = init(handle.zk_host, "pops", shards=2)
    index_config(handle, "pops")            # 'index: {backend: solr, solr: {zk_hosts: "127.0.0.1:9983/solr", ...'

Ports are stable, so that the config written once keeps working after a restart: a standalone Solr listens on
``port``; a SolrCloud cluster's node i (from 0) on ``port + i`` and its ZooKeeper on ``port + 1000``, as
Solr's own ``bin/solr -c`` places it. Port 0 takes free ports (tests).

The state of a running Solr (pid, urls, ZooKeeper address) is kept in ``<home>/solr.json``; its output goes to
``<home>/solr.out`` and Solr's own log to ``<home>/logs/solr.log``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import time
import zipfile
from pathlib import Path
from typing import Iterable, Iterator

import requests

SOLR_VERSION = "9.10.1"
ROOT = Path(__file__).resolve().parents[2]
SOLR_CONFIG_DIR = ROOT / "solr_config"
CONF_DIR = SOLR_CONFIG_DIR / "conf"
RUNTIME_DIR = SOLR_CONFIG_DIR / "runtime"
LAUNCHER_CLASS = "SolrLauncher"
STATE_FILE = "solr.json"
OUT_FILE = "solr.out"
CACHE_ENV = "POPS_CHM_SOLR_CACHE"
DEFAULT_CONFIG_NAME = "pops"
DEFAULT_PORT = 8983
ZK_PORT_OFFSET = 1000      # ZooKeeper's port is the first node's plus this, as with Solr's bin/solr -c

INSTALL_HINT = "install OpenJDK 17 and Maven: apt-get install openjdk-17-jdk-headless maven"

# JVM options that make a short-lived Solr (tests) start faster and use less memory.
TEST_JVM_OPTS = ("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")

_HTTP_TIMEOUT = 30
# Popen objects of the Solr processes started here, so that they are reaped (no zombies) when stopped.
_children: dict[int, subprocess.Popen] = {}


class SolrRuntimeError(RuntimeError):
    """Solr could not be fetched, started, stopped or set up; the message says why."""


class SolrToolsMissing(SolrRuntimeError):
    """java, javac or mvn is not installed."""


@dataclasses.dataclass(frozen=True)
class SolrHandle:
    """A running local Solr: one URL per node (``http://127.0.0.1:PORT/solr``), the ZooKeeper address in cloud
    mode (``127.0.0.1:PORT/solr``), the JVM's pid and the Solr home directory."""

    urls: tuple[str, ...]
    zk_host: str | None
    pid: int
    home: Path

    @property
    def url(self) -> str:
        """Base URL of the first node."""
        return self.urls[0]

    @property
    def cloud(self) -> bool:
        return self.zk_host is not None


# ---------------------------------------------------------------------------------------------- jars


def cache_dir() -> Path:
    """Where the jars and the compiled launcher are kept: $POPS_CHM_SOLR_CACHE, or
    ~/.cache/pops-chm/solr-<version>."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return Path.home() / ".cache" / "pops-chm" / f"solr-{SOLR_VERSION}"


def check_tools(*tools: str) -> dict[str, str]:
    """Paths of the given programs (default java, javac, mvn); SolrToolsMissing names the missing ones."""
    tools = tools or ("java", "javac", "mvn")
    found = {t: shutil.which(t) for t in tools}
    missing = [t for t, p in found.items() if p is None]
    if missing:
        raise SolrToolsMissing(f"{', '.join(missing)} not found on PATH: {INSTALL_HINT}")
    return found  # type: ignore[return-value]


def _digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def ensure_jars(cache: Path | str | None = None) -> Path:
    """Make sure the Solr jars and the compiled launcher are in the cache directory; returns that directory
    (``lib/`` holds the jars, ``classes/`` the launcher).

    The first call runs ``mvn -B -q dependency:copy-dependencies`` (Maven's own repository, ~/.m2, is reused)
    and ``javac``; later calls only compare two checksums. Safe to call from several processes at once."""
    cache = Path(cache).expanduser().resolve() if cache else cache_dir()
    pom = RUNTIME_DIR / "pom.xml"
    source = RUNTIME_DIR / f"{LAUNCHER_CLASS}.java"
    lib, classes = cache / "lib", cache / "classes"
    lib_stamp, classes_stamp = cache / "lib.sha256", cache / "classes.sha256"
    with _file_lock(cache / ".lock"):
        pom_digest = _digest(pom)
        if not (lib.is_dir() and lib_stamp.is_file() and lib_stamp.read_text().strip() == pom_digest):
            tools = check_tools("java", "mvn")
            shutil.rmtree(lib, ignore_errors=True)
            lib_stamp.unlink(missing_ok=True)
            shutil.copyfile(pom, cache / "pom.xml")
            log = cache / "mvn.log"
            cmd = [tools["mvn"], "-B", "-q", "-f", str(cache / "pom.xml"), "dependency:copy-dependencies",
                   f"-Dsolr.lib.dir={lib}"]
            with open(log, "w", encoding="utf-8") as out:
                rc = subprocess.call(cmd, cwd=cache, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            if rc != 0 or not any(lib.glob("solr-core-*.jar")):
                raise SolrRuntimeError(f"fetching the Solr {SOLR_VERSION} jars failed ({' '.join(cmd)}, exit {rc}):\n"
                                       f"{_tail(log)}")
            lib_stamp.write_text(pom_digest)
        src_digest = _digest(source, pom)
        if not (classes.is_dir() and classes_stamp.is_file() and classes_stamp.read_text().strip() == src_digest):
            tools = check_tools("javac")
            shutil.rmtree(classes, ignore_errors=True)
            classes.mkdir(parents=True)
            proc = subprocess.run([tools["javac"], "-nowarn", "-encoding", "UTF-8", "-cp", str(lib / "*"),
                                   "-d", str(classes), str(source)],
                                  capture_output=True, text=True, stdin=subprocess.DEVNULL)
            if proc.returncode != 0:
                raise SolrRuntimeError(f"compiling {source} failed:\n{proc.stdout}{proc.stderr}")
            classes_stamp.write_text(src_digest)
    return cache


# ---------------------------------------------------------------------------------------------- processes


def _read_state(home: Path) -> dict | None:
    try:
        return json.loads((home / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_state(home: Path, state: dict) -> None:
    tmp = home / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(state, indent=2), encoding="utf-8")
    tmp.replace(home / STATE_FILE)


def _alive(pid: int, home: Path | None = None) -> bool:
    """True if pid is a running (not zombie) launcher process, of this home when given."""
    proc = _children.get(pid)
    if proc is not None:
        return proc.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc_dir = Path("/proc") / str(pid)
    if proc_dir.is_dir():
        try:
            if proc_dir.joinpath("stat").read_text().split(") ", 1)[1].startswith("Z"):
                return False
            cmdline = proc_dir.joinpath("cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError):
            return False
        args = [c.decode(errors="replace") for c in cmdline]
        if LAUNCHER_CLASS not in args:
            return False  # pid reused by another program
        if home is not None and str(home) not in args:
            return False
    return True


def _handle_from_state(home: Path, state: dict) -> SolrHandle:
    return SolrHandle(urls=tuple(state["urls"]), zk_host=state.get("zk_host"), pid=int(state["pid"]), home=home)


def status(home: Path | str) -> SolrHandle | None:
    """The Solr running for this home, or None."""
    home = Path(home).expanduser().resolve()
    state = _read_state(home)
    if not state or not state.get("ready") or not state.get("pid") or not _alive(int(state["pid"]), home):
        return None
    return _handle_from_state(home, state)


def cloud_ports(port: int, nodes: int) -> tuple[int, list[int]]:
    """(ZooKeeper's port, the nodes' ports) of a SolrCloud cluster whose first node listens on ``port``:
    ZooKeeper on port + 1000, node i (from 0) on port + i. Port 0: free ports, all of them."""
    if not 1 <= nodes < ZK_PORT_OFFSET:
        raise SolrRuntimeError(f"a local SolrCloud has 1 to {ZK_PORT_OFFSET - 1} nodes, not {nodes}")
    if port == 0:
        return 0, [0] * nodes
    ports = [port + i for i in range(nodes)] + [port + ZK_PORT_OFFSET]
    if not all(0 < p < 65536 for p in ports):
        raise SolrRuntimeError(f"port {port}: a cluster of {nodes} nodes needs ports {port} to {port + nodes - 1} "
                               f"and {port + ZK_PORT_OFFSET} for ZooKeeper, all below 65536")
    return port + ZK_PORT_OFFSET, ports[:-1]


def _check_free(ports: dict[int, str]) -> None:
    """SolrRuntimeError naming the first port (what it was for) that something on 127.0.0.1 already uses."""
    import socket
    for port, what in ports.items():
        if port == 0:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError as e:
                raise SolrRuntimeError(f"port {port} ({what}) is in use ({e.strerror}): stop what listens there "
                                       "or start Solr with another --port") from None


def index_config(handle: "SolrHandle", name: str = "pops") -> str:
    """The ``index:`` line of node_config.yaml that points the node at the core or collection ``name`` of
    this Solr."""
    if handle.cloud:
        return f'index: {{backend: solr, solr: {{zk_hosts: "{handle.zk_host}", collection: {name}}}}}'
    return f'index: {{backend: solr, solr: {{url: "{handle.url}/{name}"}}}}'


def _answers(url: str) -> bool:
    try:
        r = requests.get(f"{url}/admin/info/system", params={"wt": "json"}, timeout=5)
    except requests.RequestException:
        return False
    return r.status_code == 200


def start(
    home: Path | str,
    port: int = DEFAULT_PORT,
    cloud: int = 0,
    heap: str = "512m",
    *,
    conf_dir: Path | str = CONF_DIR,
    config_name: str = DEFAULT_CONFIG_NAME,
    jvm_opts: Iterable[str] = (),
    timeout: float = 180.0,
    cache: Path | str | None = None,
    stop_with_parent: bool = False,
) -> SolrHandle:
    """Start Solr in the background for the Solr home ``home`` and wait until it answers.

    Standalone (``cloud=0``): one node on 127.0.0.1:``port`` (0 = any free port); cores created in ``home``
    survive restarts. The configset ``conf_dir`` is copied to ``home/configsets/<config_name>``.
    SolrCloud (``cloud=N``): ZooKeeper plus N nodes on the ports of :func:`cloud_ports`, under
    ``home/cluster`` (made anew at every start: run init again); the configset is uploaded to ZooKeeper as
    ``config_name``.

    The JVM is detached from this process (its own session) and keeps running until ``stop(home)``, or, with
    ``stop_with_parent``, until this Python process ends (tests: no Solr is left behind by a killed run)."""
    home = Path(home).expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    conf_dir = Path(conf_dir).resolve()
    if not (conf_dir / "solrconfig.xml").is_file():
        raise SolrRuntimeError(f"no solrconfig.xml in configset directory {conf_dir}")
    state = _read_state(home)
    if state and state.get("pid") and _alive(int(state["pid"]), home):
        raise SolrRuntimeError(f"Solr is already running for {home} (pid {state['pid']}, {state.get('urls')}); "
                               "stop it first")
    if cloud:
        zk_port, node_ports = cloud_ports(int(port), int(cloud))
        _check_free({**{p: f"SolrCloud node {i + 1}" for i, p in enumerate(node_ports)}, zk_port: "ZooKeeper"})
    else:
        _check_free({int(port): "Solr"})
    java = check_tools("java")["java"]
    cache = ensure_jars(cache)
    logs = home / "logs"
    logs.mkdir(exist_ok=True)
    cmd = [
        java, f"-Xmx{heap}", "-Djava.awt.headless=true", *jvm_opts,
        f"-Dlog4j2.configurationFile={RUNTIME_DIR / 'log4j2.xml'}",
        f"-Djava.util.logging.config.file={RUNTIME_DIR / 'logging.properties'}",
        f"-Dsolr.log.dir={logs}",
        "-cp", os.pathsep.join([str(cache / "lib" / "*"), str(cache / "classes")]),
        LAUNCHER_CLASS, "--home", str(home), "--conf", str(conf_dir), "--confname", config_name,
    ]
    cmd += ["--port", str(int(port))]
    if cloud:
        cmd += ["--cloud", str(int(cloud)), "--zk-port", str(zk_port)]
    if stop_with_parent:
        cmd += ["--watch-pid", str(os.getpid())]
    out_path = home / OUT_FILE
    started = time.time()
    with open(out_path, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=home, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    _children[proc.pid] = proc
    _write_state(home, {"pid": proc.pid, "urls": [], "zk_host": None, "mode": "cloud" if cloud else "standalone",
                        "nodes": int(cloud) or 1, "started": started, "solr_version": SOLR_VERSION,
                        "ready": False})

    def fail(why: str) -> SolrRuntimeError:
        _terminate(proc.pid)
        (home / STATE_FILE).unlink(missing_ok=True)
        return SolrRuntimeError(f"Solr {why} (command: {' '.join(cmd)})\n--- {out_path}:\n{_tail(out_path)}\n"
                                f"--- {logs / 'solr.log'}:\n{_tail(logs / 'solr.log', 20)}")

    deadline = started + timeout
    urls: list[str] = []
    zk_host = None
    while True:
        text = out_path.read_text(encoding="utf-8", errors="replace")
        if "SOLR_READY" in text.splitlines():
            for line in text.splitlines():
                if line.startswith("SOLR_URL="):
                    urls.append(line.split("=", 1)[1].strip().rstrip("/"))
                elif line.startswith("ZK_HOST="):
                    zk_host = line.split("=", 1)[1].strip()
            break
        if proc.poll() is not None:
            raise fail(f"exited with code {proc.returncode} while starting")
        if time.time() > deadline:
            raise fail(f"did not start within {timeout:.0f} s")
        time.sleep(0.1)
    if not urls:
        raise fail("started but printed no SOLR_URL")
    for url in urls:
        while not _answers(url):
            if proc.poll() is not None:
                raise fail(f"exited with code {proc.returncode} while starting")
            if time.time() > deadline:
                raise fail(f"did not answer at {url} within {timeout:.0f} s")
            time.sleep(0.1)
    _write_state(home, {"pid": proc.pid, "urls": urls, "zk_host": zk_host, "mode": "cloud" if cloud else "standalone",
                        "nodes": len(urls), "started": started, "solr_version": SOLR_VERSION, "ready": True,
                        "startup_seconds": round(time.time() - started, 2)})
    return SolrHandle(urls=tuple(urls), zk_host=zk_host, pid=proc.pid, home=home)


def _terminate(pid: int, timeout: float = 30.0) -> None:
    """SIGTERM (Solr closes its cores and ZooKeeper), then SIGKILL after ``timeout`` seconds."""
    proc = _children.pop(pid, None)
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        end = time.time() + wait
        while time.time() < end:
            if proc is not None:
                if proc.poll() is not None:
                    return
            elif not _alive(pid):
                return
            time.sleep(0.1)
    if proc is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)


def stop(home: Path | str, timeout: float = 30.0) -> bool:
    """Stop the Solr started for ``home`` (SIGTERM, then SIGKILL after ``timeout`` s). False if none ran."""
    home = Path(home).expanduser().resolve()
    state = _read_state(home)
    if not state or not state.get("pid"):
        return False
    pid = int(state["pid"])
    was_running = _alive(pid, home)
    if was_running:
        _terminate(pid, timeout)
    else:
        _children.pop(pid, None)
    (home / STATE_FILE).unlink(missing_ok=True)
    return was_running


# ---------------------------------------------------------------------------------------------- cores, collections


def _admin(url: str, path: str, params: dict, timeout: float = 120.0, ok_errors: tuple[str, ...] = ()) -> dict:
    params = {**params, "wt": "json"}
    try:
        r = requests.get(f"{url}{path}", params=params, timeout=timeout)
    except requests.RequestException as e:
        raise SolrRuntimeError(f"{url}{path} {params.get('action', '')}: {e}") from e
    try:
        body = r.json()
    except ValueError:
        body = {}
    if r.status_code != 200:
        msg = (body.get("error") or {}).get("msg") or r.text[:500]
        if any(s in msg for s in ok_errors):
            return body
        raise SolrRuntimeError(f"{url}{path} {params.get('action', '')} failed ({r.status_code}): {msg}")
    return body


def _is_cloud(url: str) -> bool:
    info = _admin(url, "/admin/info/system", {}, timeout=_HTTP_TIMEOUT)
    return info.get("mode") == "solrcloud"


def _node_urls_from_zk(zk_host: str, timeout: float = 30.0) -> list[str]:
    """Base URLs of the live nodes registered in ZooKeeper (``host:port/chroot``)."""
    try:
        from kazoo.client import KazooClient
    except ImportError as e:
        raise SolrRuntimeError("reading live nodes from ZooKeeper needs kazoo (pip install kazoo); "
                               "or pass a node's URL instead of the ZooKeeper address") from e
    zk = KazooClient(hosts=zk_host, timeout=timeout, read_only=True)
    zk.start(timeout=timeout)
    try:
        nodes = zk.get_children("/live_nodes")
    finally:
        zk.stop()
        zk.close()
    urls = []
    for node in sorted(nodes):  # "127.0.0.1:8983_solr"
        hostport, _, context = node.partition("_")
        urls.append(f"http://{hostport}/{context.replace('%2F', '/')}".rstrip("/"))
    if not urls:
        raise SolrRuntimeError(f"no live Solr node registered in ZooKeeper {zk_host}")
    return urls


def _resolve_target(target: "str | SolrHandle") -> tuple[str, bool]:
    """(base URL of a node, cloud?) for a SolrHandle, a base URL or a ZooKeeper address."""
    if isinstance(target, SolrHandle):
        return target.url, target.cloud
    target = str(target).rstrip("/")
    if target.startswith(("http://", "https://")):
        return target, _is_cloud(target)
    return _node_urls_from_zk(target)[0], True


def core_exists(base_url: str, name: str) -> bool:
    body = _admin(base_url, "/admin/cores", {"action": "STATUS", "core": name, "indexInfo": "false"},
                  timeout=_HTTP_TIMEOUT)
    return bool((body.get("status") or {}).get(name))


def create_core(base_url: str, name: str, config_set: str = DEFAULT_CONFIG_NAME, timeout: float = 120.0) -> str:
    """Create a standalone core from a configset of the Solr home (CoreAdmin CREATE); returns the core's URL.
    An existing core is kept."""
    base_url = base_url.rstrip("/")
    if not core_exists(base_url, name):
        _admin(base_url, "/admin/cores", {"action": "CREATE", "name": name, "configSet": config_set},
               timeout=timeout)
    return f"{base_url}/{name}"


def unload_core(base_url: str, name: str, delete: bool = True) -> bool:
    """Unload a core, deleting its directory when ``delete``; False if there was no such core."""
    base_url = base_url.rstrip("/")
    if not core_exists(base_url, name):
        return False
    params = {"action": "UNLOAD", "core": name}
    if delete:
        params["deleteInstanceDir"] = "true"
    _admin(base_url, "/admin/cores", params)
    return True


def core_names(base_url: str) -> set[str]:
    """Names of every core of a standalone Solr, those that failed to load included."""
    body = _admin(base_url.rstrip("/"), "/admin/cores", {"action": "STATUS", "indexInfo": "false"},
                  timeout=_HTTP_TIMEOUT)
    return set(body.get("status") or {}) | set(body.get("initFailures") or {})


def unload_cores_matching(base_url: str, pattern: str) -> list[str]:
    """Unload, deleting their directories, the cores whose whole name matches the regular expression
    ``pattern`` (those that failed to load too): what a process killed while it filled a core left behind.
    Returns their names."""
    base_url = base_url.rstrip("/")
    gone = sorted(n for n in core_names(base_url) if re.fullmatch(pattern, n))
    for name in gone:
        _admin(base_url, "/admin/cores", {"action": "UNLOAD", "core": name, "deleteInstanceDir": "true"},
               ok_errors=("Cannot unload non-existent core",))
    return gone


def configset_zip(conf_dir: Path | str = CONF_DIR) -> bytes:
    """The configset directory as a zip, files at the top level as the ConfigSets API expects."""
    conf_dir = Path(conf_dir)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(conf_dir.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(conf_dir).as_posix())
    return buf.getvalue()


def upload_configset(base_url: str, name: str = DEFAULT_CONFIG_NAME, conf_dir: Path | str = CONF_DIR) -> bool:
    """Upload (or replace) a configset in SolrCloud with the ConfigSets API. Returns False, changing nothing,
    when a configset of that name was put into ZooKeeper directly (a "trusted" one, as start(cloud=N) does):
    an unauthenticated upload may not replace it."""
    base_url = base_url.rstrip("/")
    try:
        r = requests.post(f"{base_url}/admin/configs",
                          params={"action": "UPLOAD", "name": name, "overwrite": "true", "cleanup": "true",
                                  "wt": "json"},
                          data=configset_zip(conf_dir), headers={"Content-Type": "application/octet-stream"},
                          timeout=120)
    except requests.RequestException as e:
        raise SolrRuntimeError(f"uploading configset {name} to {base_url}: {e}") from e
    if r.status_code != 200:
        if "untrusted ConfigSet update on a trusted configSet" in r.text:
            return False
        raise SolrRuntimeError(f"uploading configset {name} to {base_url} failed ({r.status_code}): {r.text[:500]}")
    return True


def collection_status(base_url: str, name: str) -> dict | None:
    body = _admin(base_url, "/admin/collections", {"action": "CLUSTERSTATUS", "collection": name},
                  timeout=_HTTP_TIMEOUT, ok_errors=("not found", "Could not find collection"))
    return ((body.get("cluster") or {}).get("collections") or {}).get(name)


def live_nodes(base_url: str) -> list[str]:
    body = _admin(base_url, "/admin/collections", {"action": "CLUSTERSTATUS"}, timeout=_HTTP_TIMEOUT)
    return list((body.get("cluster") or {}).get("live_nodes") or [])


def wait_for_collection(base_url: str, name: str, shards: int | None = None, replicas: int | None = None,
                        timeout: float = 120.0) -> dict:
    """Wait until every replica of the collection is active on a live node (and, when given, the expected
    number of shards and replicas per shard exist); returns its cluster state."""
    deadline = time.time() + timeout
    last: dict | None = None
    while True:
        last = collection_status(base_url, name)
        if last:
            nodes = set(live_nodes(base_url))
            shard_map = last.get("shards") or {}
            ok = bool(shard_map) and (shards is None or len(shard_map) == shards)
            for shard in shard_map.values():
                reps = list((shard.get("replicas") or {}).values())
                if replicas is not None and len(reps) != replicas:
                    ok = False
                if not any(r.get("leader") == "true" for r in reps):
                    ok = False
                if any(r.get("state") != "active" or r.get("node_name") not in nodes for r in reps):
                    ok = False
            if ok:
                return last
        if time.time() > deadline:
            raise SolrRuntimeError(f"collection {name} not active within {timeout:.0f} s: {json.dumps(last)[:1000]}")
        time.sleep(0.25)


def create_collection(base_url: str, name: str, shards: int = 2, replicas: int = 1,
                      config_name: str = DEFAULT_CONFIG_NAME, timeout: float = 180.0) -> str:
    """Create a SolrCloud collection (kept if it exists) and wait until it is active; returns its URL."""
    base_url = base_url.rstrip("/")
    if collection_status(base_url, name) is None:
        _admin(base_url, "/admin/collections",
               {"action": "CREATE", "name": name, "numShards": shards, "replicationFactor": replicas,
                "collection.configName": config_name, "waitForFinalState": "true"}, timeout=timeout)
        wait_for_collection(base_url, name, shards=shards, replicas=replicas, timeout=timeout)
    else:
        wait_for_collection(base_url, name, timeout=timeout)
    return f"{base_url}/{name}"


def delete_collection(base_url: str, name: str, timeout: float = 120.0) -> bool:
    base_url = base_url.rstrip("/")
    if collection_status(base_url, name) is None:
        return False
    _admin(base_url, "/admin/collections", {"action": "DELETE", "name": name}, timeout=timeout)
    return True


def init(
    target: "str | SolrHandle",
    name: str = "pops",
    shards: int = 2,
    replicas: int | None = None,
    *,
    config_name: str = DEFAULT_CONFIG_NAME,
    conf_dir: Path | str = CONF_DIR,
    timeout: float = 180.0,
) -> str:
    """Create the index ``name`` from the POPs configset and wait until it serves; returns its URL
    (``http://host:port/solr/<name>``, for pysolr.Solr). Nothing is changed if it already exists.

    ``target`` is a SolrHandle, a node's base URL (``http://127.0.0.1:8983/solr``) or a ZooKeeper address
    (``127.0.0.1:2181/solr``, needs kazoo). Standalone: a core from the configset ``config_name`` of the Solr
    home (start() copies it there). SolrCloud: the configset is uploaded (replacing an older upload; one that
    start(cloud=N) put into ZooKeeper is already current and kept) and a
    collection with ``shards`` shards and ``replicas`` replicas per shard is created (default: 2 replicas when
    at least 2 nodes are live, else 1)."""
    url, cloud = _resolve_target(target)
    if not cloud:
        return create_core(url, name, config_set=config_name, timeout=timeout)
    upload_configset(url, config_name, conf_dir)
    if replicas is None:
        replicas = 2 if len(live_nodes(url)) >= 2 else 1
    return create_collection(url, name, shards=shards, replicas=replicas, config_name=config_name,
                             timeout=timeout)
