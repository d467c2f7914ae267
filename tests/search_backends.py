"""The search backends the contract suite (tests/test_search_contract.py) runs against.

The fixture ``backend`` yields a fresh, empty backend, once per entry of BACKENDS. Import it into a test
module (``solr_url``, the session's Solr that the Solr branch asks for, comes from tests/conftest.py):

    from tests.search_backends import backend  # noqa: F401

Each Solr test gets a core of its own on the session's Solr (created from the configset in about 0.1 s),
unloaded with its files afterwards.
"""
from __future__ import annotations

import uuid

import pytest

from harvester.index import Backend
from harvester.index.embedded import EmbeddedBackend

BACKENDS = ["embedded", pytest.param("solr", marks=pytest.mark.solr)]


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path) -> Backend:
    cleanup = None
    if request.param == "embedded":
        b = EmbeddedBackend(tmp_path / "node.sqlite")
    elif request.param == "solr":
        from harvester.index import solr_runtime
        from harvester.index.solr import SolrBackend
        base = request.getfixturevalue("solr_url")
        core = f"contract_{uuid.uuid4().hex[:10]}"
        b = SolrBackend({"url": solr_runtime.create_core(base, core)})
        cleanup = lambda: solr_runtime.unload_core(base, core)  # noqa: E731
    else:
        raise ValueError(f"no such backend {request.param!r}")
    try:
        yield b
    finally:
        b.close()
        if cleanup:
            cleanup()


def load(backend: Backend, records: list[dict], batch: int = 1000) -> None:
    """Index records in batches and commit."""
    for i in range(0, len(records), batch):
        backend.upsert(records[i:i + batch])
    backend.commit()
