"""A real third-party CSW catalogue for tests: pycsw 2.6.2 (PyPI, with SQLAlchemy 1.4.54), installed once into
a cached virtual environment, loaded with real ISO 19139 records of the corpus, its WSGI application served
by wsgiref on 127.0.0.1 in a subprocess (notes/peers.md, recipe B).

    from tests.cswpeer import pycsw_peer

    with pycsw_peer(tmp_path, files, maxrecords=3) as peer:
        peer.url, peer.identifiers(), peer.remove(identifier), peer.load(more_files)

No gzip_compresslevel in its config: pycsw 2.6.2 then gzips responses but sends the uncompressed length as
Content-Length, so clients receive cut documents.

Without the package index the fixture skips, except under CI=true where it fails.
"""
from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from .conftest import IN_CI

VENV = Path(os.environ.get("POPS_PYCSW_VENV", Path.home() / ".cache" / "pops-chm" / "pycsw-venv"))
PACKAGES = ("pycsw==2.6.2", "SQLAlchemy==1.4.54")


def _venv_python() -> Path:
    return VENV / "bin" / "python"


def ensure_pycsw() -> Path:
    """The cached venv's python with pycsw 2.6.2 importable; built on first use (skip, or fail under CI)."""
    py = _venv_python()
    if py.exists() and subprocess.run([str(py), "-c", "import pycsw, sqlalchemy"], capture_output=True).returncode == 0:
        return py
    building = VENV.with_name(VENV.name + f".building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(building)], check=True, capture_output=True, timeout=120)
        subprocess.run([str(building / "bin" / "python"), "-m", "pip", "install", "-q", *PACKAGES],
                       check=True, capture_output=True, timeout=600)
        shutil.rmtree(VENV, ignore_errors=True)
        building.rename(VENV)
    except (subprocess.SubprocessError, OSError) as exc:
        shutil.rmtree(building, ignore_errors=True)
        detail = getattr(exc, "stderr", b"") or b""
        msg = f"cannot install {' '.join(PACKAGES)}: {exc} {detail[-500:].decode('utf-8', 'replace')}"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return py


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CFG = """\
[server]
home={home}
url=http://127.0.0.1:{port}/csw
mimetype=application/xml; charset=UTF-8
encoding=UTF-8
language=en-US
maxrecords={maxrecords}
pretty_print=false
profiles=apiso
loglevel=WARNING
logfile={home}/pycsw.log

[manager]
transactions=false
allowed_ips=127.0.0.1

[metadata:main]
identification_title=Local pycsw peer (test)
identification_abstract=Third-party CSW endpoint for harvester tests
identification_keywords=catalogue
identification_keywords_type=theme
identification_fees=None
identification_accessconstraints=None
provider_name=Test
provider_url=http://127.0.0.1:{port}/
contact_name=Test
contact_position=Test
contact_address=Test
contact_city=Test
contact_stateorprovince=Test
contact_postalcode=0
contact_country=Test
contact_phone=+00-000
contact_fax=+00-000
contact_email=test@example.org
contact_url=http://127.0.0.1:{port}/
contact_hours=Any
contact_instructions=None
contact_role=pointOfContact

[repository]
database=sqlite:///{home}/records.db
table=records

[metadata:inspire]
enabled=false
"""

SERVE = """\
import os, sys
os.environ['PYCSW_CONFIG'] = sys.argv[2]
from wsgiref.simple_server import WSGIRequestHandler, make_server
from pycsw.wsgi import application

class Quiet(WSGIRequestHandler):
    def log_message(self, *a):
        pass

make_server('127.0.0.1', int(sys.argv[1]), application, handler_class=Quiet).serve_forever()
"""

LOAD = """\
import sys
from pycsw.core import admin, config
admin.load_records(config.StaticContext(), sys.argv[1], 'records', sys.argv[2], recursive=False, force_update=True)
"""


class PycswPeer:
    def __init__(self, home: Path, python: Path, maxrecords: int):
        self.home, self.python, self.port = home, python, _free_port()
        self.url = f"http://127.0.0.1:{self.port}/csw"
        self.db = home / "records.db"
        self.cfg = home / "pycsw.cfg"
        self.cfg.write_text(CFG.format(home=home, port=self.port, maxrecords=maxrecords), encoding="utf-8")
        (home / "serve.py").write_text(SERVE, encoding="utf-8")
        (home / "load.py").write_text(LOAD, encoding="utf-8")
        self.proc = None
        subprocess.run([str(python), "-c", "from pycsw.core import admin; import sys; "
                        "admin.setup_db(sys.argv[1], 'records', sys.argv[2])", f"sqlite:///{self.db}", str(home)],
                       check=True, capture_output=True, timeout=120)

    def load(self, files) -> None:
        folder = self.home / f"load-{time.monotonic_ns()}"
        folder.mkdir()
        for f in files:
            shutil.copy(f, folder / Path(f).name)
        subprocess.run([str(self.python), str(self.home / "load.py"), f"sqlite:///{self.db}", str(folder)],
                       check=True, capture_output=True, timeout=300)

    def identifiers(self) -> set[str]:
        with sqlite3.connect(self.db) as db:
            return {r[0] for r in db.execute("SELECT identifier FROM records")}

    def remove(self, identifier: str) -> None:
        with sqlite3.connect(self.db) as db:
            db.execute("DELETE FROM records WHERE identifier = ?", (identifier,))

    def start(self):
        self.proc = subprocess.Popen([str(self.python), str(self.home / "serve.py"), str(self.port), str(self.cfg)],
                                     stdout=subprocess.DEVNULL, stderr=open(self.home / "server.err", "wb"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.url, params={"service": "CSW", "request": "GetCapabilities"}, timeout=2)
                return self
            except requests.ConnectionError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        raise RuntimeError(f"pycsw did not start: {(self.home / 'server.err').read_text(errors='replace')[-2000:]}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@contextmanager
def pycsw_peer(tmp_path: Path, files, maxrecords: int = 10):
    python = ensure_pycsw()
    home = tmp_path / "pycsw"
    home.mkdir()
    peer = PycswPeer(home, python, maxrecords)
    peer.load(files)
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()
