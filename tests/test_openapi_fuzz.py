"""The node's OpenAPI description fuzzed with schemathesis against a running node (real HTTP on 127.0.0.1,
the harvested sample store, the embedded index).

Every operation of /openapi.json gets requests generated from its description - valid ones and invalid
ones - and every answer goes through schemathesis' default checks: no server error, a status code the
description declares, the content type it declares, a body that fits the declared schema (a record fits the
POPs record's JSON Schema, a search answer its shape), valid data accepted and invalid data refused. Made-up
record ids are all unknown, so the operations on one record are fuzzed again with the node's own ids. The
admin operations are fuzzed without a token (every answer a 401 with an {"error"} body, whatever the
parameters), with the node's token in every case (they run), and on a node with no admin_token (every answer
a 403).

One thing the description cannot say: a cursor is an opaque token of the node's own making, so any string
fits the schema while only the node's cursors continue a listing. A request carrying a made-up cursor is
therefore checked to be refused with a 400 that names the cursor, instead of being "valid data accepted".

CI runs few examples per operation, derandomized (the same requests every run); the long version runs by
hand:

    .venv/bin/python -m pytest -m slow tests/test_openapi_fuzz.py
"""
from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from harvester.store import Store

from .conftest import ADMIN_TOKEN, IN_CI, copy_sample_node
from .nodeserver import NodeServer

ADMIN = f"Bearer {ADMIN_TOKEN}"
QUIET = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]
SHORT = settings(max_examples=20, deadline=None, derandomize=IN_CI, database=None, suppress_health_check=QUIET,
                 print_blob=True)
LONG = settings(max_examples=400, deadline=None, database=None, suppress_health_check=QUIET, print_blob=True)
# each admin call with the token runs a harvest or rebuilds the index: a few are enough
ADMIN_SHORT = settings(SHORT, max_examples=4)
ADMIN_LONG = settings(LONG, max_examples=40)


@pytest.fixture(scope="module")
def node_schema(sample_node):
    return schemathesis.openapi.from_url(f"{sample_node.url}/openapi.json", wait_for_schema=20)


@pytest.fixture(scope="module")
def http():
    with requests.Session() as s:
        yield s


def operations(node_schema, admin: bool) -> list:
    ops = [result.ok() for result in node_schema.get_all_operations()]
    chosen = [op for op in ops if ("admin" in (op.tags or [])) == admin]
    assert chosen, "no operation to fuzz"
    return chosen


def cases(op, **fixed):
    """Valid cases of the operation and, where it has parameters to get wrong, invalid ones."""
    modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if list(op.iter_parameters()) else [])
    return st.one_of(*[op.as_strategy(generation_mode=m, **fixed) for m in modes])


def fuzz(subtests, node_schema, admin: bool, how: settings, check, strategies: dict | None = None) -> dict:
    """Run ``check(case)`` (which returns the status code) on cases generated for each operation, one subtest
    per operation; ``strategies`` maps an operation's label to its own strategy (and limits the run to those).
    Returns the status codes seen per operation."""
    seen: dict[str, set[int]] = {}
    for op in operations(node_schema, admin):
        if strategies is not None and op.label not in strategies:
            continue
        strategy = strategies[op.label] if strategies is not None else cases(op)
        statuses = seen.setdefault(op.label, set())

        @how
        @given(case=strategy)
        def run(case):
            statuses.add(check(case))

        with subtests.test(msg=op.label):
            run()
    return seen


def refused_made_up_cursor(case, response) -> bool:
    """A request with a cursor the node did not make, refused for that cursor (see the module docstring)."""
    return (bool(case.query) and case.query.get("cursor") is not None and response.status_code == 400
            and "cursor" in response.json()["error"])


def check_read(http):
    def check(case):
        response = case.call(session=http)
        excluded = [positive_data_acceptance] if refused_made_up_cursor(case, response) else []
        case.validate_response(response, excluded_checks=excluded)
        return response.status_code
    return check


def check_admin_refused(http, status: int, words: str, headers: dict | None = None):
    """Every case refused with ``status`` and an {"error"} naming ``words``, whatever its parameters: sent
    without its Authorization header (or with ``headers``)."""
    def check(case):
        if case.headers:
            case.headers = {k: v for k, v in case.headers.items() if k.lower() != "authorization"}
        response = case.call(session=http, headers=headers)
        assert response.status_code == status, (response.status_code, response.text)
        assert words in response.json()["error"]
        case.validate_response(response, excluded_checks=[positive_data_acceptance])
        return response.status_code
    return check


def check_admin_without_token(http):
    return check_admin_refused(http, 401, "admin token")


def with_token_strategies(node_schema) -> dict:
    """The admin operations' cases, each carrying the node's token (the header is never the invalid part:
    the cases without it, or with another, are those of the runs without a token)."""
    return {op.label: cases(op, headers={"Authorization": ADMIN}) for op in operations(node_schema, True)}


def check_admin_with_token(http):
    def check(case):
        response = case.call(session=http)
        assert response.request.headers.get("Authorization") == ADMIN
        assert response.status_code not in (401, 403), response.text
        case.validate_response(response)
        return response.status_code
    return check


# --------------------------------------------------------------------------- every open operation

def test_open_operations(node_schema, http, subtests):
    fuzz(subtests, node_schema, False, SHORT, check_read(http))


@pytest.mark.slow
def test_open_operations_long(node_schema, http, subtests):
    fuzz(subtests, node_schema, False, LONG, check_read(http))


def own_id_strategies(node_schema, sample_node) -> dict:
    """Made-up ids are all unknown (404): the operations on one record get the node's own ids as well."""
    with Store(sample_node.cfg.store_path) as store:
        ids = [r[0] for r in store.db.execute("SELECT id FROM records ORDER BY id")]
        assistance = [r[0] for r in store.db.execute(
            "SELECT id FROM records WHERE json_extract(record, '$.type') LIKE 'assistance%' ORDER BY id")]
    assert ids and assistance
    out = {}
    for path, pool in (("/api/records/{record_id}", ids), ("/api/assistance/{record_id}/matches", assistance)):
        op = node_schema[path]["GET"]
        out[op.label] = st.sampled_from(pool).flatmap(lambda i, op=op: cases(op, path_parameters={"record_id": i}))
    return out


def test_operations_on_the_node_s_own_records(node_schema, http, subtests, sample_node):
    seen = fuzz(subtests, node_schema, False, SHORT, check_read(http), own_id_strategies(node_schema, sample_node))
    assert 200 in seen["GET /api/records/{record_id}"], seen       # records were served and checked


@pytest.mark.slow
def test_operations_on_the_node_s_own_records_long(node_schema, http, subtests, sample_node):
    fuzz(subtests, node_schema, False, LONG, check_read(http), own_id_strategies(node_schema, sample_node))


# --------------------------------------------------------------------------- admin operations

def test_admin_operations_without_a_token(node_schema, http, subtests):
    fuzz(subtests, node_schema, True, SHORT, check_admin_without_token(http))


def test_admin_operations_with_the_token(node_schema, http, subtests, sample_node):
    fuzz(subtests, node_schema, True, ADMIN_SHORT, check_admin_with_token(http), with_token_strategies(node_schema))
    # and each runs, answering what its description says, when asked as an operator would
    source = sample_node.cfg.sources[0]["id"]
    for op, query in ((node_schema["/api/admin/harvest"]["POST"], {"source": [source]}),
                      (node_schema["/api/admin/reindex"]["POST"], {})):
        case = op.Case(query=query)
        response = case.call(session=http, headers={"Authorization": ADMIN})
        assert response.status_code == 200, response.text
        case.validate_response(response, headers={"Authorization": ADMIN})


@pytest.fixture(scope="module")
def tokenless_node(tmp_path_factory):
    """A node whose config has no admin_token: changes over HTTP are disabled."""
    cfg = copy_sample_node(tmp_path_factory.mktemp("tokenless"))
    text = cfg.read_text()
    cfg.write_text("\n".join(line for line in text.splitlines() if not line.startswith("admin_token:")) + "\n")
    with NodeServer(cfg) as srv:
        assert srv.cfg.admin_token is None
        yield srv


def test_admin_operations_on_a_node_without_a_token(tokenless_node, http, subtests):
    tokenless = schemathesis.openapi.from_url(f"{tokenless_node.url}/openapi.json", wait_for_schema=20)
    for headers in (None, {"Authorization": ADMIN}):
        fuzz(subtests, tokenless, True, SHORT, check_admin_refused(http, 403, "no admin_token configured", headers))


@pytest.mark.slow
def test_admin_operations_without_a_token_long(node_schema, http, subtests):
    fuzz(subtests, node_schema, True, LONG, check_admin_without_token(http))


@pytest.mark.slow
def test_admin_operations_with_the_token_long(node_schema, http, subtests):
    fuzz(subtests, node_schema, True, ADMIN_LONG, check_admin_with_token(http), with_token_strategies(node_schema))


# --------------------------------------------------------------------------- what the fuzzing relies on

def test_the_description_declares_every_error_the_node_answers(node_schema, sample_node):
    """The description the fuzzing reads: no 422 anywhere (a bad parameter is a 400), a 404 wherever a path
    names something, the admin operations behind a bearer token with their 401 and 403, records typed by the
    POPs record schema."""
    spec = requests.get(f"{sample_node.url}/openapi.json", timeout=10).json()
    ops = {(m.upper(), p): op for p, item in spec["paths"].items() for m, op in item.items()}
    assert ("GET", "/api/search") in ops and ("POST", "/api/admin/reindex") in ops
    for (method, path), op in ops.items():
        codes = set(op["responses"])
        assert "422" not in codes, (method, path)
        if "{" in path:
            assert "404" in codes, (method, path)
        if op.get("parameters"):
            assert "400" in codes, (method, path)
        if "admin" in (op.get("tags") or []):
            assert {"401", "403"} <= codes and op.get("security") == [{"adminToken": []}], (method, path)
    scheme = spec["components"]["securitySchemes"]["adminToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert ops[("GET", "/api/records/{record_id}")]["responses"]["410"]
    assert spec["components"]["schemas"]["PopsRecord"]["properties"]["title"]["$ref"].startswith(
        "#/components/schemas/PopsRecord_")


def test_admin_without_a_token_learns_nothing_about_the_parameters(sample_node):
    """The token is checked before the parameters: a bad parameter without a token is a 401, not a 400."""
    url = f"{sample_node.url}/api/admin/harvest"
    r = requests.post(url, params={"full": "not-a-boolean", "source": "no-such-source"}, timeout=10)
    assert r.status_code == 401 and r.json() == {"error": "a valid admin token is needed (Authorization: Bearer <token>)"}
    r = requests.post(url, params={"full": "not-a-boolean"}, headers={"Authorization": ADMIN}, timeout=10)
    assert r.status_code == 400 and r.json()["error"].startswith("full:")
    r = requests.post(url, params={"source": "no-such-source"}, headers={"Authorization": "Bearer wrong"}, timeout=10)
    assert r.status_code == 401
