"""One real standalone Solr per test session, started from Maven Central artifacts.

Wire it into tests/conftest.py with:

    from tests.solr_fixture import solr_url  # noqa: F401  (session fixture: base URL of the test Solr)

Tests then create their own cores (``solr_runtime.create_core(solr_url, name)``) so that they do not
interfere. Without java/javac/mvn the tests that use it are skipped, except on CI (CI=true), where that is a
failure.
"""

from __future__ import annotations

import os
import time
from typing import Iterator

import pytest

from harvester.index import solr_runtime

TEST_HEAP = "512m"


def require_solr_tools() -> None:
    """Skip (or fail on CI) when the programs needed to run Solr are missing; fetch the jars otherwise."""
    try:
        solr_runtime.check_tools("java", "javac", "mvn")
    except solr_runtime.SolrToolsMissing as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Solr tests cannot run on CI: {e}", pytrace=False)
        pytest.skip(str(e))
    solr_runtime.ensure_jars()


def solr_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start a standalone Solr on a free port in a temporary Solr home, yield its base URL
    (``http://127.0.0.1:PORT/solr``), stop it afterwards."""
    require_solr_tools()
    home = tmp_path_factory.mktemp("solr-home")
    t0 = time.monotonic()
    handle = solr_runtime.start(home, port=0, heap=TEST_HEAP, jvm_opts=solr_runtime.TEST_JVM_OPTS,
                                stop_with_parent=True)
    print(f"\nstandalone Solr at {handle.url} (pid {handle.pid}), started in {time.monotonic() - t0:.1f} s")
    try:
        yield handle.url
    finally:
        solr_runtime.stop(home)


@pytest.fixture(scope="session")
def solr_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the session's standalone Solr."""
    yield from solr_session(tmp_path_factory)
