"""XML and RDF sources over HTTP: listings, conditional GET, vanished documents, size limits."""
import textwrap


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


def test_xml_listing_conditional_get_and_vanished_documents(tmp_path):
    docs = tmp_path / "www"
    docs.mkdir()
    for i in range(5):
        (docs / f"rec{i}.xml").write_text(ISO.format(id=f"iso-{i}", title=f"PCB sites {i}"))
    with FileServer(docs) as srv:
        cfg = cfg_for(tmp_path, f'{{id: geo, type: xml, url: "{srv.url}", format: iso19139}}')
        rep = harvest(cfg)
        assert (rep.status, rep.stored) == ("ok", 5)
        rep = harvest(cfg)
        assert rep.status == "ok" and rep.stored == 0 and srv.not_modified == 5, "unchanged documents are not read again"
        (docs / "rec4.xml").unlink()
        (docs / "rec0.xml").write_text(ISO.format(id="iso-0", title="PCB sites, revised"))
        rep = harvest(cfg)
        assert (rep.status, rep.stored) == ("ok", 1)
        assert rep.deleted == 0, "documents not re-read (304) are never taken as deleted"
        rep = harvest(cfg, full=True)
        assert (rep.status, rep.deleted) == ("ok", 1)
        with Store(cfg.store_path) as s:
            assert s.live_identifiers("geo") == {"iso-0", "iso-1", "iso-2", "iso-3"}
            assert s.get("ke:geo:iso-0")["title"] in ({"und": "PCB sites, revised"}, {"en": "PCB sites, revised"})


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
