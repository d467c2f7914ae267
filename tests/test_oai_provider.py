"""The node's OAI-PMH 2.0 data provider (harvester/node/oai.py): every verb, format, set and error through the
pure `respond` function, each response validated against OAI-PMH.xsd and each pops record against pops.xsd;
then the same provider on a real node on 127.0.0.1, harvested by sickle, by the `oaipmh` 4.0.0 client and by
the npm `oai-pmh` CLI, with a resumption token that outlives a restart of the node."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from lxml import etree

from harvester import config, popsxml, vocab
from harvester.node import oai as provider
from harvester.record import validate
from harvester.store import Item, Store

from .conftest import CORPUS, IN_CI, ROOT, need, valid_record
from .nodeserver import NodeServer

OAI = "{http://www.openarchives.org/OAI/2.0/}"
DC = "{http://purl.org/dc/elements/1.1/}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
BASE = "http://127.0.0.1:8080/oai"
PAGE = 5
ODD_ID = "ke:docs:a?b#c%d[e]/é"
TYPES = ["national_implementation_plan", "national_report", "legislation", "training_material"]
COUNTRIES = [["KE"], ["KE", "TZ"], ["UG"], []]
CHEMICALS = [["pcb"], ["ddt", "lindane"], [], ["pfos"]]
START = datetime(2024, 1, 1, tzinfo=timezone.utc)
TOTAL, DELETED = 20, 2       # what fill() leaves in a store


# --------------------------------------------------------------------------- a node's config and store

def write_config(d: Path, node_id: str = "ke", sources: list | None = None) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    sources = sources if sources is not None else [
        {"id": "docs", "name": "Ministry of Environment documents", "type": "oaipmh",
         "url": "http://127.0.0.1:9/oai", "metadata_prefix": "oai_dc"},
        {"id": "geo", "name": "National spatial data infrastructure", "type": "xml",
         "url": "http://127.0.0.1:9/iso.xml", "format": "iso19139"}]
    listed = "".join(f"\n  - {json.dumps(s)}" for s in sources) or " []"
    (d / "node_config.yaml").write_text(textwrap.dedent(f"""\
        node: {{id: {node_id}, name: "Kenya POPs node (test)", country: KE, role: country}}
        store: {{path: node.sqlite}}
        index: {{backend: embedded}}
        sources:""") + listed + "\n", encoding="utf-8")
    return d / "node_config.yaml"


def docs(n: int = 14) -> list[dict]:
    out = []
    for i in range(n):
        rec = valid_record(id=f"ke:docs:{i}", origin={"node": "ke", "source": "docs", "identifier": f"oai:moe:{i}"},
                           type=TYPES[i % 4], title={"en": f"Document {i}", "fr": f"Document {i} (fr)"},
                           languages=["en", "fr"])
        if COUNTRIES[i % 4]:
            rec["countries"] = COUNTRIES[i % 4]
        if CHEMICALS[i % 4]:
            rec["chemicals"] = CHEMICALS[i % 4]
        out.append(validate(rec))
    out.append(validate(valid_record(
        id="ke:docs:rich", origin={"node": "ke", "source": "docs", "identifier": "oai:moe:rich", "format": "oai_dc"},
        type="assistance_source", title={"en": "PCB phase-out support", "fr": "Appui à l'élimination des PCB",
                                         "zh": "多氯联苯淘汰支持"},
        description={"en": "Grants for PCB <equipment> & oil disposal ]]>", "fr": "Subventions"},
        keywords={"en": ["PCB", "transformers"], "fr": ["transformateurs"]}, chemicals=["pcb"],
        countries=["KE", "TZ"], regions=["africa"], languages=["en", "fr", "zh"], creators=["Ministry of Environment"],
        publisher="Government of Kenya", rights="CC BY 4.0", dates={"issued": "2021-03", "created": "2020"},
        links=[{"url": "https://example.org/files/pcb.pdf", "rel": "file", "format": "application/pdf"},
               {"url": "https://example.org/pcb", "rel": "landing"},
               {"url": "https://example.org/api/pcb", "rel": "service"}],
        assistance={"kind": ["financial"], "provider": "Global Environment Facility", "status": "open"})))
    out.append(validate(valid_record(id=ODD_ID, origin={"node": "ke", "source": "docs", "identifier": "odd"},
                                     title={"en": "An id with ?, #, %, [, ] and é in it"})))
    return out


def geo(n: int = 4) -> list[dict]:
    return [validate(valid_record(id=f"ke:geo:{i}", origin={"node": "ke", "source": "geo", "identifier": f"g{i}"},
                                  type="monitoring_report", title={"en": f"Dataset {i}"}, countries=["KE"],
                                  chemicals=["pcdd"]))
            for i in range(n)]


def fill(store: Store, spread: bool = True) -> None:
    """The test records, two of them deleted since; with `spread`, one change per hour from 2024-01-01."""
    store.apply_batch([Item("docs", r["origin"]["identifier"], r, "", "pops") for r in docs()])
    store.apply_batch([Item("geo", r["origin"]["identifier"], r, "", "pops") for r in geo()])
    store.tombstone_ids("docs", ["oai:moe:3"])
    store.tombstone_ids("geo", ["g1"])
    if spread:
        with store.transaction() as db:
            for (seq,) in db.execute("SELECT seq FROM records ORDER BY seq").fetchall():
                db.execute("UPDATE records SET changed=? WHERE seq=?", (stamp(seq), seq))


def stamp(hours: int) -> str:
    return (START + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """(config, store) of a node holding 20 records, 2 of them tombstones, changed one an hour from 2024:
    the change sequence numbers 1..22 less 4 and 18 (the two records deleted since), at seq hours after START."""
    d = tmp_path_factory.mktemp("oai-node")
    cfg = config.load(write_config(d))
    store = Store(cfg.store_path)
    fill(store)
    yield cfg, store
    store.close()


OAI_XSD = CORPUS / "other" / "schemas" / "OAI-PMH.xsd"


@pytest.fixture(scope="module")
def oai_xsd():
    """OAI-PMH.xsd from the shared corpus; without it (outside CI) responses are checked but not validated,
    and test_responses_are_validated says so by skipping."""
    if not OAI_XSD.exists() and not IN_CI:
        return None
    return etree.XMLSchema(etree.parse(str(need(OAI_XSD))))


def check(oai_xsd, root) -> etree._Element:
    if oai_xsd is not None:
        oai_xsd.assertValid(root)
    return root


def test_responses_are_validated(oai_xsd):
    need(OAI_XSD)
    assert oai_xsd is not None


@pytest.fixture(scope="module")
def pops_xsd():
    return etree.XMLSchema(etree.parse(str(ROOT / "schemas" / "pops.xsd")))


def call(node, oai_xsd, page_size=PAGE, **params) -> etree._Element:
    """One request through `respond`; the answer must be HTTP 200 and valid OAI-PMH."""
    cfg, store = node
    status, body = provider.respond({k: v if isinstance(v, list) else [v] for k, v in params.items()},
                                    store, cfg, BASE, page_size=page_size)
    assert status == 200
    return check(oai_xsd, etree.fromstring(body))


def error(root) -> str | None:
    e = root.find(f"{OAI}error")
    return None if e is None else e.get("code")


def listing(node, oai_xsd, verb="ListRecords", page_size=PAGE, **args) -> tuple[list, list]:
    """Every item of a list, following resumption tokens; and the token elements seen."""
    items, tokens = [], []
    root = call(node, oai_xsd, page_size, verb=verb, **args)
    while True:
        assert error(root) is None, etree.tostring(root)
        body = root.find(f"{OAI}{verb}")
        tag = {"ListRecords": "record", "ListIdentifiers": "header", "ListSets": "set"}[verb]
        items += body.findall(f"{OAI}{tag}")
        tok = body.find(f"{OAI}resumptionToken")
        if tok is None:
            return items, tokens
        tokens.append(tok)
        if not tok.text:
            return items, tokens
        root = call(node, oai_xsd, page_size, verb=verb, resumptionToken=tok.text)


def header_of(item):
    return item if item.tag == f"{OAI}header" else item.find(f"{OAI}header")


def ident(item) -> str:
    return header_of(item).findtext(f"{OAI}identifier")


def rows(store, where="1=1", args=()) -> list:
    return store.db.execute(f"SELECT * FROM records WHERE {where} ORDER BY seq", args).fetchall()


# --------------------------------------------------------------------------- Identify and formats

def test_identify(node, oai_xsd):
    cfg, store = node
    root = call(node, oai_xsd, verb="Identify")
    ident_ = root.find(f"{OAI}Identify")
    assert ident_.findtext(f"{OAI}repositoryName") == "Kenya POPs node (test)"
    assert ident_.findtext(f"{OAI}baseURL") == BASE
    assert ident_.findtext(f"{OAI}protocolVersion") == "2.0"
    assert ident_.findtext(f"{OAI}granularity") == "YYYY-MM-DDThh:mm:ssZ"
    assert ident_.findtext(f"{OAI}deletedRecord") == "persistent"
    assert ident_.findtext(f"{OAI}earliestDatestamp") == stamp(1) == min(r["changed"] for r in rows(store))
    assert "@" in ident_.findtext(f"{OAI}adminEmail")
    assert "oai:ke:<record id>" in "".join(ident_.find(f"{OAI}description").itertext())
    assert root.find(f"{OAI}request").attrib == {"verb": "Identify"}


def test_list_metadata_formats(node, oai_xsd):
    root = call(node, oai_xsd, verb="ListMetadataFormats")
    formats = {f.findtext(f"{OAI}metadataPrefix"): (f.findtext(f"{OAI}schema"), f.findtext(f"{OAI}metadataNamespace"))
               for f in root.iter(f"{OAI}metadataFormat")}
    assert formats == {"oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd", "http://www.openarchives.org/OAI/2.0/oai_dc/"),
                       "pops": (BASE + "/schemas/pops.xsd", popsxml.NS)}
    for rid in ("oai:ke:ke:docs:1", "oai:ke:ke:docs:3"):     # live and deleted items
        root = call(node, oai_xsd, verb="ListMetadataFormats", identifier=rid)
        assert len(root.findall(f".//{OAI}metadataFormat")) == 2
        assert root.find(f"{OAI}request").get("identifier") == rid
    assert error(call(node, oai_xsd, verb="ListMetadataFormats", identifier="oai:ke:nothing")) == "idDoesNotExist"


# --------------------------------------------------------------------------- sets

def test_list_sets_names_every_set_from_the_vocabularies(node, oai_xsd):
    sets, tokens = listing(node, oai_xsd, "ListSets", page_size=40)
    names = {s.findtext(f"{OAI}setSpec"): s.findtext(f"{OAI}setName") for s in sets}
    assert len(names) == len(sets)
    expected = (4 + len(vocab.document_types()) + len(vocab.countries()) + len(vocab.chemicals()) + 2)
    assert len(sets) == expected and len(tokens) == -(-expected // 40)   # the last page has an empty token
    assert names["type"] == "Document types" and names["country"] == "Countries"
    assert names["chemical"] == "POPs chemicals" and names["source"].startswith("Sources")
    assert names["type:national_implementation_plan"] == "National implementation plan"
    assert names["country:KE"] == "Kenya" and names["country:TZ"] == vocab.label("countries", "TZ")
    assert names["chemical:pcb"] == vocab.label("chemicals", "pcb")
    assert names["source:docs"] == "Ministry of Environment documents"
    assert names["source:geo"] == "National spatial data infrastructure"
    ke = next(s for s in sets if s.findtext(f"{OAI}setSpec") == "country:KE")
    titles = {t.get(XML_LANG): t.text for t in ke.iter(f"{DC}title")}
    assert titles["fr"] == "Kenya" and titles["zh"] == "肯尼亚"
    for i, tok in enumerate(tokens):
        assert tok.get("completeListSize") == str(expected) and tok.get("cursor") == str(40 * i)
    assert not tokens[-1].text


@pytest.mark.parametrize("spec, expected", [
    ("type:legislation", lambda r: r["type"] == "legislation"),
    ("country:KE", lambda r: "KE" in r.get("countries", [])),
    ("country:TZ", lambda r: "TZ" in r.get("countries", [])),
    ("chemical:pcb", lambda r: "pcb" in r.get("chemicals", [])),
    ("chemical:lindane", lambda r: "lindane" in r.get("chemicals", [])),
    ("source:geo", lambda r: r["origin"]["source"] == "geo"),
    ("type", lambda r: True),
    ("source", lambda r: True),
    ("country", lambda r: bool(r.get("countries"))),
    ("chemical", lambda r: bool(r.get("chemicals"))),
])
def test_sets_select_records_deleted_ones_included(node, oai_xsd, spec, expected):
    cfg, store = node
    want = [provider.oai_identifier("ke", r["id"]) for r in rows(store) if expected(json.loads(r["record"]))]
    assert want
    items, _ = listing(node, oai_xsd, "ListIdentifiers", metadataPrefix="pops", set=spec)
    assert [ident(i) for i in items] == want
    for h in items:
        specs = [s.text for s in h.findall(f"{OAI}setSpec")]
        assert spec in specs or any(s.startswith(spec + ":") for s in specs)


def test_unknown_set_matches_nothing(node, oai_xsd):
    for spec in ("type:recipe", "colour:red", "country:XX", "source:nowhere"):
        assert error(call(node, oai_xsd, verb="ListRecords", metadataPrefix="pops", set=spec)) == "noRecordsMatch"


# --------------------------------------------------------------------------- records

def test_list_records_pops_is_the_store_lossless(node, oai_xsd, pops_xsd):
    cfg, store = node
    items, tokens = listing(node, oai_xsd, metadataPrefix="pops")
    held = rows(store)
    assert [ident(i) for i in items] == [provider.oai_identifier("ke", r["id"]) for r in held]  # in change order
    assert len(items) == TOTAL and sum(r["deleted"] for r in held) == DELETED
    for item, row in zip(items, held):
        head = header_of(item)
        assert head.findtext(f"{OAI}datestamp") == row["changed"]
        if row["deleted"]:
            assert head.get("status") == "deleted" and item.find(f"{OAI}metadata") is None
            continue
        assert head.get("status") is None
        rec = item.find(f"{OAI}metadata")[0]
        pops_xsd.assertValid(etree.fromstring(etree.tostring(rec)))
        assert popsxml.from_element(rec) == json.loads(row["record"])
    assert [t.get("cursor") for t in tokens] == [str(PAGE * i) for i in range(len(tokens))]
    assert all(t.get("completeListSize") == str(TOTAL) for t in tokens) and len(tokens) == 4 and not tokens[-1].text


def test_list_identifiers_headers_carry_sets(node, oai_xsd):
    items, _ = listing(node, oai_xsd, "ListIdentifiers", metadataPrefix="oai_dc")
    assert len(items) == TOTAL and all(i.tag == f"{OAI}header" for i in items)
    rich = next(h for h in items if ident(h) == "oai:ke:ke:docs:rich")
    assert [s.text for s in rich.findall(f"{OAI}setSpec")] == [
        "type:assistance_source", "country:KE", "country:TZ", "chemical:pcb", "source:docs"]


def test_oai_dc_is_derived_from_the_record(node, oai_xsd):
    root = call(node, oai_xsd, verb="GetRecord", identifier="oai:ke:ke:docs:rich", metadataPrefix="oai_dc")
    dc = root.find(f".//{OAI}metadata")[0]
    assert dc.tag == "{http://www.openarchives.org/OAI/2.0/oai_dc/}dc"
    assert {c.tag for c in dc} <= {DC + n for n in ("title", "creator", "subject", "description", "publisher", "contributor",
                                                    "date", "type", "format", "identifier", "source", "language",
                                                    "relation", "coverage", "rights")}

    def values(name, lang=...):
        return [e.text for e in dc.findall(DC + name) if lang is ... or e.get(XML_LANG) == lang]

    assert values("title", "zh") == ["多氯联苯淘汰支持"] and values("title", "fr") == ["Appui à l'élimination des PCB"]
    assert values("description", "en") == ["Grants for PCB <equipment> & oil disposal ]]>"]
    assert "transformateurs" in values("subject", "fr") and "PCB" in values("subject", "en")
    assert "Polychlorinated biphenyls" in values("subject", "en") and "多氯联苯" in values("subject", "zh")
    assert values("type", "en") == ["Assistance source"] and values("type", "fr") == [vocab.label("type", "assistance_source", "fr")]
    assert values("coverage", "en") == ["Kenya", "Tanzania", vocab.label("regions", "africa")]
    assert values("identifier")[0] == "https://example.org/pcb" and "https://example.org/files/pcb.pdf" in values("identifier")
    assert values("relation") == ["https://example.org/api/pcb"]
    assert values("language") == ["en", "fr", "zh"]
    assert values("date") == ["2021-03", "2020"]
    assert values("creator") == ["Ministry of Environment"] and values("publisher") == ["Government of Kenya"]
    assert values("contributor") == ["Global Environment Facility"] and values("rights") == ["CC BY 4.0"]
    assert values("format") == ["application/pdf"]


def test_get_record(node, oai_xsd, pops_xsd):
    cfg, store = node
    odd = provider.oai_identifier("ke", ODD_ID)
    assert odd == "oai:ke:ke:docs:a%3Fb%23c%25d%5Be%5D/%C3%A9"
    assert provider.record_id_of("ke", odd) == ODD_ID
    root = call(node, oai_xsd, verb="GetRecord", identifier=odd, metadataPrefix="pops")
    rec = root.find(f".//{OAI}metadata")[0]
    pops_xsd.assertValid(etree.fromstring(etree.tostring(rec)))
    assert popsxml.from_element(rec) == store.get(ODD_ID)
    assert root.find(f"{OAI}request").attrib == {"verb": "GetRecord", "identifier": odd, "metadataPrefix": "pops"}
    gone = call(node, oai_xsd, verb="GetRecord", identifier="oai:ke:ke:geo:1", metadataPrefix="oai_dc")
    assert gone.find(f".//{OAI}header").get("status") == "deleted" and gone.find(f".//{OAI}metadata") is None


# --------------------------------------------------------------------------- from / until

def test_from_until_select_on_this_nodes_change_datestamps(node, oai_xsd):
    def got(**args):
        items, _ = listing(node, oai_xsd, "ListIdentifiers", metadataPrefix="pops", **args)
        return [header_of(i).findtext(f"{OAI}datestamp") for i in items]

    assert got(**{"from": stamp(5), "until": stamp(9)}) == [stamp(h) for h in range(5, 10)]   # inclusive
    assert got(**{"from": stamp(20)}) == [stamp(20), stamp(21), stamp(22)]    # 21, 22: the two deletions
    assert got(until=stamp(2)) == [stamp(1), stamp(2)]
    assert got(**{"from": "2024-01-01", "until": "2024-01-01"}) == [stamp(h) for h in range(1, 23) if h not in (4, 18)]
    assert got(**{"from": "2023-12-31T00:00:00Z", "until": stamp(3)}) == [stamp(1), stamp(2), stamp(3)]
    for args in ({"until": "2023-12-31T23:59:59Z"}, {"from": "2024-01-02"}, {"from": "2030-01-01T00:00:00Z"}):
        assert error(call(node, oai_xsd, verb="ListRecords", metadataPrefix="pops", **args)) == "noRecordsMatch"


@pytest.mark.parametrize("args", [
    {"from": "2024-13-01"}, {"from": "2024-1-1"}, {"until": "2024-01-01T00:00:00"}, {"from": "2024-01-01T00:00:00.5Z"},
    {"from": "2024-01-01T25:00:00Z"}, {"until": "yesterday"}, {"from": "2024-01-01T00:00:00+01:00"},
    {"from": "2024-01-01", "until": "2024-01-02T00:00:00Z"},          # mixed granularities
    {"from": "2024-01-02", "until": "2024-01-01"},                    # from > until
    {"from": "2024-01-01T10:00:01Z", "until": "2024-01-01T10:00:00Z"},
])
def test_bad_dates_are_bad_arguments(node, oai_xsd, args):
    root = call(node, oai_xsd, verb="ListIdentifiers", metadataPrefix="pops", **args)
    assert error(root) == "badArgument" and root.find(f"{OAI}request").attrib == {}


# --------------------------------------------------------------------------- errors

@pytest.mark.parametrize("params, code", [
    ({}, "badVerb"),
    ({"verb": "ListThings"}, "badVerb"),
    ({"verb": ["Identify", "Identify"]}, "badVerb"),
    ({"verb": "identify"}, "badVerb"),
    ({"verb": "Identify", "set": "type"}, "badArgument"),
    ({"verb": "ListRecords"}, "badArgument"),
    ({"verb": "GetRecord", "identifier": "oai:ke:ke:docs:1"}, "badArgument"),
    ({"verb": "GetRecord", "metadataPrefix": "pops"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": ["pops", "oai_dc"]}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": ""}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "pops", "resumptionToken": "x"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "pops", "set": "type:"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "<pops>"}, "badArgument"),
    ({"verb": "ListIdentifiers", "metadataPrefix": "pops", "identifier": "oai:ke:ke:docs:1"}, "badArgument"),
    ({"verb": "ListSets", "metadataPrefix": "pops"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
    ({"verb": "ListIdentifiers", "metadataPrefix": "iso19139"}, "cannotDisseminateFormat"),
    ({"verb": "GetRecord", "identifier": "oai:ke:ke:docs:1", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
    ({"verb": "GetRecord", "identifier": "oai:ke:ke:docs:404", "metadataPrefix": "pops"}, "idDoesNotExist"),
    ({"verb": "GetRecord", "identifier": "ke:docs:1", "metadataPrefix": "pops"}, "idDoesNotExist"),   # bare record id
    ({"verb": "GetRecord", "identifier": "oai:tz:ke:docs:1", "metadataPrefix": "pops"}, "idDoesNotExist"),
    ({"verb": "GetRecord", "identifier": "oai:ke:%ff%fe", "metadataPrefix": "pops"}, "idDoesNotExist"),
    ({"verb": "GetRecord", "identifier": "not a URI <at all>\x01", "metadataPrefix": "pops"}, "idDoesNotExist"),
    ({"verb": "ListMetadataFormats", "identifier": "oai:ke:ke:docs:404"}, "idDoesNotExist"),
    ({"verb": "ListRecords", "resumptionToken": "garbage"}, "badResumptionToken"),
    ({"verb": "ListRecords", "resumptionToken": "e30.AAAAAAAAAAAAAAAAAAAAAA"}, "badResumptionToken"),
    ({"verb": "ListSets", "resumptionToken": "\x00\x01"}, "badResumptionToken"),
    ({"verb": "ListSets", "resumptionToken": "é.é"}, "badResumptionToken"),
    ({"verb": "ListRecords", "metadataPrefix": "pops", "set": "chemical:mirex"}, "noRecordsMatch"),
])
def test_every_error_condition(node, oai_xsd, params, code):
    root = call(node, oai_xsd, **params)
    assert error(root) == code
    assert root.find(f"{OAI}error").text
    request = root.find(f"{OAI}request")
    assert request.text == BASE
    if code in ("badVerb", "badArgument"):
        assert request.attrib == {}                 # the protocol: no attributes echoed for these
    else:
        assert request.get("verb") == params["verb"]
    assert len(root) == 3                           # responseDate, request, error: nothing else


def test_no_metadata_formats_for_an_item_without_metadata(tmp_path, oai_xsd):
    cfg = config.load(write_config(tmp_path))
    with Store(cfg.store_path) as store:
        fill(store, spread=False)
        store.db.execute("UPDATE records SET record=NULL WHERE id='ke:docs:2'")
        assert error(call((cfg, store), oai_xsd, verb="ListMetadataFormats", identifier="oai:ke:ke:docs:2")) == "noMetadataFormats"
        assert error(call((cfg, store), oai_xsd, verb="GetRecord", identifier="oai:ke:ke:docs:2",
                          metadataPrefix="pops")) == "cannotDisseminateFormat"


def test_empty_repository(tmp_path, oai_xsd):
    cfg = config.load(write_config(tmp_path))
    with Store(cfg.store_path) as store:
        ident_ = call((cfg, store), oai_xsd, verb="Identify").find(f"{OAI}Identify")
        assert ident_.findtext(f"{OAI}earliestDatestamp")
        assert error(call((cfg, store), oai_xsd, verb="ListRecords", metadataPrefix="oai_dc")) == "noRecordsMatch"


# --------------------------------------------------------------------------- resumption tokens

def first_token(node, oai_xsd, verb="ListRecords", **args) -> str:
    root = call(node, oai_xsd, verb=verb, **args)
    return root.find(f".//{OAI}resumptionToken").text


def test_forged_or_foreign_tokens_are_refused(node, oai_xsd, tmp_path):
    cfg, store = node
    good = first_token(node, oai_xsd, metadataPrefix="pops")
    payload, sig = good.split(".")
    state = json.loads(provider._unb64(payload))
    forged = provider._b64(json.dumps(dict(state, a=0, c=0), separators=(",", ":")).encode()) + "." + sig
    flipped = good[:-3] + ("A" if good[-3] != "A" else "B") + good[-2:]
    other_cfg = config.load(write_config(tmp_path / "other"))
    with Store(other_cfg.store_path) as other:
        assert provider.token_key(other) != provider.token_key(store)
        foreign = provider.encode_token(provider.token_key(other), state)
    for token in (forged, flipped, foreign, payload, good + "x", good.replace(".", "..")):
        assert error(call(node, oai_xsd, verb="ListRecords", resumptionToken=token)) == "badResumptionToken", token
    # a token is for the verb it was issued for
    assert error(call(node, oai_xsd, verb="ListIdentifiers", resumptionToken=good)) == "badResumptionToken"
    sets_token = first_token(node, oai_xsd, "ListSets")
    assert error(call(node, oai_xsd, verb="ListRecords", resumptionToken=sets_token)) == "badResumptionToken"
    assert error(call(node, oai_xsd, verb="ListRecords", resumptionToken=good)) is None
    echoed = call(node, oai_xsd, verb="ListRecords", resumptionToken=good).find(f"{OAI}request")
    assert echoed.attrib == {"verb": "ListRecords", "resumptionToken": good}


def test_tokens_are_stateless_and_survive_a_new_store_connection(node, oai_xsd):
    cfg, store = node
    token = first_token(node, oai_xsd, metadataPrefix="pops", set="country:KE")
    with Store(cfg.store_path) as reopened:       # as after a restart: only the file is shared
        root = call((cfg, reopened), oai_xsd, verb="ListRecords", resumptionToken=token)
        assert provider.token_key(reopened) == provider.token_key(store)
    assert error(root) is None and root.find(f".//{OAI}resumptionToken").get("cursor") == str(PAGE)


def test_records_changed_during_a_harvest_are_neither_lost_nor_listed_twice(tmp_path, oai_xsd):
    cfg = config.load(write_config(tmp_path))
    with Store(cfg.store_path) as store:
        fill(store, spread=False)
        n = PAGE
        node_ = (cfg, store)
        root = call(node_, oai_xsd, page_size=n, verb="ListRecords", metadataPrefix="pops")
        started = root.findtext(f"{OAI}responseDate")
        first = [ident(r) for r in root.iter(f"{OAI}record")]
        token = root.find(f".//{OAI}resumptionToken").text
        held = [provider.oai_identifier("ke", r["id"]) for r in rows(store)]
        listed_id, unlisted_id = provider.record_id_of("ke", first[1]), provider.record_id_of("ke", held[n + 2])
        # during the harvest: a listed record and a not yet listed one change, one is deleted, one is added
        changed = []
        for rid in (listed_id, unlisted_id):
            rec = store.get(rid)
            rec["title"]["en"] += " (revised)"
            changed.append(Item(store.row(rid)["source"], store.row(rid)["identifier"], rec, "", "pops"))
        new = valid_record(id="ke:docs:new", origin={"node": "ke", "source": "docs", "identifier": "oai:moe:new"})
        store.apply_batch(changed + [Item("docs", "oai:moe:new", new, "", "pops")])
        store.tombstone_ids("docs", [store.row(provider.record_id_of("ke", held[n + 4]))["identifier"]])
        seen = list(first)
        while token:
            root = call(node_, oai_xsd, page_size=n, verb="ListRecords", resumptionToken=token)
            seen += [ident(r) for r in root.iter(f"{OAI}record")]
            tok = root.find(f".//{OAI}resumptionToken")
            token = tok.text if tok is not None else None
        assert len(seen) == len(set(seen))                           # nothing twice
        assert int(tok.get("completeListSize")) == len(seen)          # the last page states the exact size
        assert provider.oai_identifier("ke", "ke:docs:new") not in seen  # the list was fixed when it began
        # the next incremental harvest, from the first response's date, brings exactly what changed meanwhile
        items, _ = listing(node_, oai_xsd, page_size=n, metadataPrefix="pops", **{"from": started})
        later = {ident(i): i for i in items}
        assert {provider.oai_identifier("ke", rid) for rid in (listed_id, unlisted_id, "ke:docs:new")} <= set(later)
        assert set(seen) | set(later) == {provider.oai_identifier("ke", r["id"]) for r in rows(store)}
        revised = later[provider.oai_identifier("ke", unlisted_id)].find(f".//{{{popsxml.NS}}}title")
        assert revised.text.endswith("(revised)")
        assert header_of(later[held[n + 4]]).get("status") == "deleted"


def revise(store, rid: str, title: str) -> None:
    rec = store.get(rid)
    rec["title"] = {"en": title}
    row = store.row(rid)
    store.apply_batch([Item(row["source"], row["identifier"], rec, "", "pops")])


def test_a_list_whose_rest_all_changed_still_ends_with_a_record(tmp_path, oai_xsd):
    cfg = config.load(write_config(tmp_path))
    with Store(cfg.store_path) as store:
        fill(store, spread=False)
        revise(store, "ke:docs:0", "now the last change")
        root = call((cfg, store), oai_xsd, page_size=TOTAL - 1, verb="ListIdentifiers", metadataPrefix="pops")
        token = root.find(f".//{OAI}resumptionToken").text
        revise(store, "ke:docs:0", "changed again after the list began")   # the one record left moves past the list
        root = call((cfg, store), oai_xsd, page_size=TOTAL - 1, verb="ListIdentifiers", resumptionToken=token)
        assert [ident(h) for h in root.iter(f"{OAI}header")] == ["oai:ke:ke:docs:0"]
        assert root.find(f".//{OAI}resumptionToken").get("completeListSize") == str(TOTAL)


def test_text_xml_cannot_carry_is_dropped_not_fatal(tmp_path, oai_xsd, pops_xsd):
    cfg = config.load(write_config(tmp_path))
    with Store(cfg.store_path) as store:
        rec = valid_record(id="ke:docs:ctl", title={"en": "bell\x07 and \x0b tab"}, description={"en": "nul\x00 byte"})
        store.apply_batch([Item("docs", "ctl", rec, "", "pops")])
        for prefix in ("pops", "oai_dc"):
            root = call((cfg, store), oai_xsd, verb="GetRecord", identifier="oai:ke:ke:docs:ctl", metadataPrefix=prefix)
            meta = root.find(f".//{OAI}metadata")[0]
            assert "bell and  tab" in "".join(meta.itertext())
            if prefix == "pops":
                pops_xsd.assertValid(etree.fromstring(etree.tostring(meta)))


# --------------------------------------------------------------------------- on a real node

@pytest.fixture
def served(tmp_path, monkeypatch):
    """A real node on 127.0.0.1 over the test records, lists paged by 4."""
    monkeypatch.setattr(provider, "PAGE_SIZE", 4)
    path = write_config(tmp_path)
    cfg = config.load(path)
    with Store(cfg.store_path) as store:
        fill(store)
    with NodeServer(path) as srv:
        srv.oai = srv.url + "/oai"
        yield srv


def test_http_get_post_and_schema(served, oai_xsd, pops_xsd):
    r = requests.get(served.oai, params={"verb": "Identify"}, timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/xml")
    check(oai_xsd, etree.fromstring(r.content))
    assert etree.fromstring(r.content).findtext(f".//{OAI}baseURL") == served.oai
    r = requests.post(served.oai, data={"verb": "GetRecord", "identifier": "oai:ke:ke:docs:rich", "metadataPrefix": "pops"},
                      timeout=10)
    root = check(oai_xsd, etree.fromstring(r.content))
    assert popsxml.from_element(root.find(f".//{OAI}metadata")[0])["id"] == "ke:docs:rich"
    r = requests.get(served.oai, params=[("verb", "ListRecords"), ("verb", "ListRecords")], timeout=10)
    assert r.status_code == 200 and error(etree.fromstring(r.content)) == "badVerb"
    assert error(etree.fromstring(requests.get(served.oai, timeout=10).content)) == "badVerb"
    r = requests.post(served.oai, data=b"verb=Identify&\xff", timeout=10,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200 and error(etree.fromstring(r.content)) in ("badVerb", "badArgument")
    # the schema named by ListMetadataFormats is served, and it validates what is served
    lmf = etree.fromstring(requests.get(served.oai, params={"verb": "ListMetadataFormats"}, timeout=10).content)
    url = next(f.findtext(f"{OAI}schema") for f in lmf.iter(f"{OAI}metadataFormat")
               if f.findtext(f"{OAI}metadataPrefix") == "pops")
    xsd_dir = Path(served.cfg.base_dir) / "xsd"
    xsd_dir.mkdir()
    for name in ("pops.xsd", "xml.xsd"):
        got = requests.get(url.rsplit("/", 1)[0] + "/" + name, timeout=10)
        assert got.status_code == 200
        (xsd_dir / name).write_bytes(got.content)
    assert requests.get(url.rsplit("/", 1)[0] + "/../node_config.yaml", timeout=10).status_code == 404
    served_xsd = etree.XMLSchema(etree.parse(str(xsd_dir / "pops.xsd")))
    served_xsd.assertValid(etree.fromstring(etree.tostring(root.find(f".//{OAI}metadata")[0])))


def store_identifiers(srv) -> tuple[set, set]:
    with Store(srv.cfg.store_path) as store:
        held = rows(store)
    return ({provider.oai_identifier("ke", r["id"]) for r in held},
            {provider.oai_identifier("ke", r["id"]) for r in held if r["deleted"]})


def test_sickle_harvests_everything_across_pages(served):
    from sickle import Sickle
    everything, deleted = store_identifiers(served)
    sickle = Sickle(served.oai, max_retries=0, timeout=10)
    for prefix in ("pops", "oai_dc"):
        recs = list(sickle.ListRecords(metadataPrefix=prefix, ignore_deleted=False))
        assert len(recs) == len(everything) == TOTAL
        assert {r.header.identifier for r in recs} == everything
        assert {r.header.identifier for r in recs if r.deleted} == deleted
    assert len(list(sickle.ListIdentifiers(metadataPrefix="pops"))) == TOTAL
    assert len(list(sickle.ListRecords(metadataPrefix="pops", ignore_deleted=True))) == TOTAL - DELETED
    assert sum(1 for _ in sickle.ListSets()) > 300
    with Store(served.cfg.store_path) as store:
        in_ke = [r for r in rows(store) if "KE" in json.loads(r["record"]).get("countries", [])]
    assert len(list(sickle.ListIdentifiers(metadataPrefix="oai_dc", set="country:KE"))) == len(in_ke) == 13
    assert sickle.Identify().granularity == "YYYY-MM-DDThh:mm:ssZ"
    rec = sickle.GetRecord(identifier="oai:ke:ke:docs:rich", metadataPrefix="oai_dc")
    assert "多氯联苯淘汰支持" in rec.metadata["title"]


def test_oaipmh_client_harvests_everything(served):
    """The `oaipmh` 4.0.0 client (the maintained pyoai): POST requests, its own datestamp parsing."""
    from oaipmh.client import Client
    from oaipmh.metadata import MetadataRegistry, oai_dc_reader
    everything, deleted = store_identifiers(served)
    registry = MetadataRegistry()
    registry.registerReader("oai_dc", oai_dc_reader)
    client = Client(served.oai, registry)
    ident_ = client.identify()
    assert ident_.granularity() == "YYYY-MM-DDThh:mm:ssZ" and ident_.deletedRecord() == "persistent"
    client.updateGranularity()
    recs = list(client.listRecords(metadataPrefix="oai_dc"))
    assert len(recs) == TOTAL and {h.identifier() for h, _, _ in recs} == everything
    assert {h.identifier() for h, _, _ in recs if h.isDeleted()} == deleted
    rich = next(m for h, m, _ in recs if h.identifier() == "oai:ke:ke:docs:rich")
    assert "Government of Kenya" in rich.getField("publisher")
    some = list(client.listIdentifiers(metadataPrefix="oai_dc", from_=datetime(2024, 1, 1, 5),
                                       until=datetime(2024, 1, 1, 9)))
    assert len(some) == 5
    assert len(list(client.listSets())) > 300
    assert {f[0] for f in client.listMetadataFormats()} == {"oai_dc", "pops"}


NPM_OAI_PMH = "oai-pmh@2.0.3"


@pytest.fixture(scope="session")
def npm_oai_pmh():
    """The npm `oai-pmh` CLI, installed once into ~/.cache (skipped when npm or its registry is unreachable,
    except under CI)."""
    def unavailable(why):
        if IN_CI:
            pytest.fail(why)
        pytest.skip(why)

    if not shutil.which("npm") or not shutil.which("node"):
        unavailable("node/npm not installed")
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "pops-chm" / "npm-oai-pmh-2.0.3"
    cli = cache / "node_modules" / ".bin" / "oai-pmh"
    if not cli.exists():
        cache.mkdir(parents=True, exist_ok=True)
        try:
            done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(cache), NPM_OAI_PMH],
                                  capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            unavailable("npm install timed out")
        if done.returncode != 0:
            unavailable(f"npm install {NPM_OAI_PMH} failed: {done.stderr[-500:]}")
    if not cli.exists():
        unavailable("the oai-pmh CLI was not installed")
    return cli


def test_npm_oai_pmh_cli_harvests_everything(served, npm_oai_pmh):
    everything, deleted = store_identifiers(served)

    def run(*args):
        done = subprocess.run(["node", str(npm_oai_pmh), *args], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "YYYY-MM-DDThh:mm:ssZ" in run("identify", served.oai)
    out = run("list-identifiers", served.oai, "--metadata-prefix", "pops")
    got = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert len(got) == TOTAL and {h["identifier"] for h in got} == everything
    assert {h["identifier"] for h in got if h.get("$", {}).get("status") == "deleted"} == deleted
    out = run("list-records", served.oai, "--metadata-prefix", "oai_dc")
    got = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert len(got) == TOTAL and {r["header"]["identifier"] for r in got} == everything
    assert {r["header"]["identifier"] for r in got if "metadata" not in r} == deleted
    rich = next(r for r in got if r["header"]["identifier"] == "oai:ke:ke:docs:rich")
    assert rich["metadata"]["oai_dc:dc"]["dc:publisher"] == "Government of Kenya"
    assert len(run("list-sets", served.oai).splitlines()) > 300


def test_a_token_outlives_a_restart_of_the_node(tmp_path, monkeypatch, oai_xsd):
    monkeypatch.setattr(provider, "PAGE_SIZE", 6)
    path = write_config(tmp_path)
    cfg = config.load(path)
    with Store(cfg.store_path) as store:
        fill(store)
    with NodeServer(path) as srv:
        page = etree.fromstring(requests.get(srv.url + "/oai", params={"verb": "ListRecords", "metadataPrefix": "pops"},
                                             timeout=10).content)
        token = page.find(f".//{OAI}resumptionToken").text
        seen = [ident(r) for r in page.iter(f"{OAI}record")]
    with NodeServer(path) as srv:                   # a new process would hold the same: only the store file
        while token:
            page = etree.fromstring(requests.get(srv.url + "/oai", params={"verb": "ListRecords", "resumptionToken": token},
                                                 timeout=10).content)
            check(oai_xsd, page)
            assert error(page) is None
            seen += [ident(r) for r in page.iter(f"{OAI}record")]
            tok = page.find(f".//{OAI}resumptionToken")
            token = tok.text if tok is not None else None
    assert len(seen) == len(set(seen)) == TOTAL
