"""XML and RDF sources over HTTP: listings, conditional GET, vanished documents, size limits."""
import textwrap

import pytest

from harvester import config, run
from harvester.store import Store

from .httpfiles import FileServer

ISO = """<gmd:MD_Metadata xmlns:gmd="http://www.isotc211.org/2005/gmd" xmlns:gco="http://www.isotc211.org/2005/gco">
<gmd:fileIdentifier><gco:CharacterString>{id}</gco:CharacterString></gmd:fileIdentifier>
<gmd:identificationInfo><gmd:MD_DataIdentification><gmd:citation><gmd:CI_Citation><gmd:title>
<gco:CharacterString>{title}</gco:CharacterString></gmd:title></gmd:CI_Citation></gmd:citation>
</gmd:MD_DataIdentification></gmd:identificationInfo></gmd:MD_Metadata>"""

TTL = """@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
@prefix hydra: <http://www.w3.org/ns/hydra/core#> .
<https://data.example.org/ds/{n}> a dcat:Dataset ; dct:title "DDT residues in soil {n}"@en, "Résidus de DDT {n}"@fr .
{next}"""


def cfg_for(tmp_path, source: str, **harvest):
    h = ", ".join(f"{k}: {v}" for k, v in {"retries": 0, "timeout": 5, **harvest}.items())
    p = tmp_path / "node_config.yaml"
    p.write_text(textwrap.dedent(f"""\
        node: {{id: ke, name: Test}}
        store: {{path: node.sqlite}}
        index: {{backend: embedded}}
        harvest: {{{h}}}
        sources:
          - {source}
        """))
    return config.load(p)


def harvest(cfg, **kw):
    with Store(cfg.store_path) as s:
        return run.harvest_source(cfg, s, cfg.sources[0], **kw)


DOCS = {"xml": ("rec{i}.xml", lambda i, title: ISO.format(id=f"iso-{i}", title=title), "iso19139", {}),
        "rdf": ("rec{i}.ttl", lambda i, title: TTL.format(n=i, next="").replace("DDT residues in soil", title),
                "dcat", {".ttl": "text/turtle"})}


@pytest.mark.parametrize("kind", DOCS)
def test_http_listing_conditional_get_and_removed_documents_deleted_at_once(tmp_path, kind):
    """A document removed from an HTML listing is deleted by the next run, as from a local folder, though the
    documents that did not change are not read again (304); the deletion guard still holds."""
    name, body, fmt, ctypes = DOCS[kind]
    docs = tmp_path / "www"
    docs.mkdir()
    for i in range(5):
        (docs / name.format(i=i)).write_text(body(i, f"PCB sites {i}"))
    with FileServer(docs, ctypes) as srv:
        cfg = cfg_for(tmp_path, f'{{id: geo, type: {kind}, url: "{srv.url}", format: {fmt}}}')
        rep = harvest(cfg)
        assert (rep.status, rep.stored) == ("ok", 5)
        with Store(cfg.store_path) as s:
            ids = {i: f"ke:geo:{ident}" for i, ident in enumerate(sorted(s.live_identifiers("geo"),
                                                                         key=lambda x: x[-1]))}
        rep = harvest(cfg)
        assert rep.status == "ok" and rep.stored == 0 and srv.not_modified == 5, "unchanged documents are not read again"
        (docs / name.format(i=4)).unlink()
        (docs / name.format(i=0)).write_text(body(0, "PCB sites, revised"))
        rep = harvest(cfg)
        assert (rep.status, rep.seen, rep.stored, rep.deleted) == ("ok", 1, 1, 1), rep
        assert srv.not_modified == 5 + 3, "the three unchanged documents were not read again"
        with Store(cfg.store_path) as s:
            assert {f"ke:geo:{i}" for i in s.live_identifiers("geo")} == {ids[i] for i in range(4)}
            assert "revised" in next(iter(s.get(ids[0])["title"].values()))
        for i in (1, 2):                         # half of what is left: past the 20% limit
            (docs / name.format(i=i)).unlink()
        rep = harvest(cfg)
        assert (rep.status, rep.deleted) == ("guarded", 0) and "would delete 2 of 4" in rep.error
        rep = harvest(cfg, force=True)
        assert (rep.status, rep.deleted) == ("ok", 2)
        with Store(cfg.store_path) as s:
            assert {f"ke:geo:{i}" for i in s.live_identifiers("geo")} == {ids[0], ids[3]}


def test_rdf_catalogue_follows_hydra_pages(tmp_path):
    www = tmp_path / "www"
    www.mkdir()
    with FileServer(www, {".ttl": "text/turtle"}) as srv:
        for n in range(1, 4):
            nxt = f'<{srv.url}page{n}.ttl> hydra:next <{srv.url}page{n + 1}.ttl> .' if n < 3 else ""
            (www / f"page{n}.ttl").write_text(TTL.format(n=n, next=nxt))
        cfg = cfg_for(tmp_path, f'{{id: cat, type: rdf, url: "{srv.url}page1.ttl", format: dcat}}')
        rep = harvest(cfg)
        assert (rep.status, rep.stored) == ("ok", 3)
        assert [srv.hits[f"page{n}.ttl"] for n in (1, 2, 3)] == [1, 1, 1]
        with Store(cfg.store_path) as s:
            rec = s.get("ke:cat:https://data.example.org/ds/2")
            assert rec["title"] == {"en": "DDT residues in soil 2", "fr": "Résidus de DDT 2"}
            assert rec["chemicals"] == ["ddt"]
        # the first pages did not change (304): the pages after them are still read
        (www / "page3.ttl").write_text(TTL.format(n=3, next="").replace("DDT residues", "Dieldrin residues"))
        rep = harvest(cfg)
        assert (rep.status, rep.seen, rep.stored, rep.deleted) == ("ok", 1, 1, 0), rep
        assert srv.not_modified == 2 and [srv.hits[f"page{n}.ttl"] for n in (1, 2, 3)] == [2, 2, 2]


def test_oversize_response_is_refused_and_nothing_deleted(tmp_path):
    www = tmp_path / "www"
    www.mkdir()
    (www / "big.xml").write_text(ISO.format(id="iso-big", title="x" * 5000))
    with FileServer(www) as srv:
        cfg = cfg_for(tmp_path, f'{{id: geo, type: xml, url: "{srv.url}big.xml", format: iso19139}}',
                      max_response_bytes=2048)
        rep = harvest(cfg)
        assert rep.status == "failed" and "exceeds the limit of 2048" in rep.error


def test_oversize_record_is_a_record_error(tmp_path):
    (tmp_path / "iso").mkdir()
    (tmp_path / "iso" / "a.xml").write_text(ISO.format(id="iso-a", title="Dioxins " * 400))
    (tmp_path / "iso" / "b.xml").write_text(ISO.format(id="iso-b", title="Furans"))
    cfg = cfg_for(tmp_path, "{id: geo, type: xml, path: iso, format: iso19139}", max_record_bytes=1024)
    rep = harvest(cfg)
    assert (rep.stored, rep.failed) == (1, 1)
    with Store(cfg.store_path) as s:
        assert "exceeds the limit of 1024" in s.failures("geo")[0]["error"]
