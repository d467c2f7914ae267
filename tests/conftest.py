import os
from pathlib import Path

import pytest

from tests.solr_fixture import solr_url  # noqa: F401  (session fixture: one real Solr per test session)

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("POPS_SHARED_DIR", ROOT.parent / "shared"))
CORPUS = Path(os.environ.get("POPS_CORPUS_DIR", SHARED / "corpus"))
IN_CI = os.environ.get("CI", "").lower() == "true"


def need(path: Path) -> Path:
    """A prerequisite outside the project: skip without it, except under CI where it must be there."""
    if not path.exists():
        if IN_CI:
            pytest.fail(f"{path} is required under CI=true")
        pytest.skip(f"{path} not present")
    return path


def valid_record(**over) -> dict:
    rec = {"id": "ke:ke-moe:oai:ke:1", "origin": {"node": "ke", "source": "ke-moe", "identifier": "oai:ke:1"},
           "path": ["ke"], "datestamp": "2024-01-02T03:04:05Z", "title": {"en": "National implementation plan"},
           "type": "national_implementation_plan"}
    rec.update(over)
    return rec


@pytest.fixture
def record():
    return valid_record()


ADMIN_TOKEN = "t0ken-for-tests"


def copy_sample_node(d: Path, token: str | None = None) -> Path:
    """A copy of the bundled node (config and samples) in folder d; returns its config file."""
    import shutil
    shutil.copytree(ROOT / "samples", d / "samples")
    text = (ROOT / "node_config.yaml").read_text()
    if token:
        text = text.replace("${POPS_CHM_ADMIN_TOKEN}", token)
    (d / "node_config.yaml").write_text(text)
    return d / "node_config.yaml"


@pytest.fixture(scope="module")
def sample_node(tmp_path_factory):
    """A real node on 127.0.0.1 that has harvested the bundled samples (admin token ADMIN_TOKEN)."""
    from click.testing import CliRunner

    from cli import main
    from tests.nodeserver import NodeServer
    cfg = copy_sample_node(tmp_path_factory.mktemp("node"), ADMIN_TOKEN)
    assert CliRunner().invoke(main, ["--config", str(cfg), "harvest"]).exit_code == 0
    with NodeServer(cfg) as srv:
        yield srv
