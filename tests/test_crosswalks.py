"""The crosswalks field by field, on real records of the shared corpus and on small hostile documents."""
from __future__ import annotations

import http.server
import json
import threading

import pytest

from harvester import crosswalks
from harvester.crosswalks import codes, dcat
from harvester.crosswalks.common import guess_type
from harvester.crosswalks.dcat import RDFError, RemoteContext, parse_graph, rdf_format
from harvester.crosswalks.xpath import make_xpath_crosswalk
from harvester.mapping import MapContext, MappingError, map_record
from harvester.raw import RawRecord
from harvester.xmlsafe import UnsafeXML

from .conftest import CORPUS, need

CTX = MapContext(node="test", source="unit")


@pytest.fixture
def corpus():
    """The shared corpus: these tests skip without it, except under CI where it must be there."""
    return need(CORPUS / "MANIFEST.tsv").parent


def records(fmt: str, rel: str) -> list[RawRecord]:
    return list(crosswalks.get(fmt).split((CORPUS / rel).read_bytes(), rel))


def one(fmt: str, rel: str, identifier: str | None = None) -> RawRecord:
    found = [r for r in records(fmt, rel) if identifier is None or r.identifier == identifier]
    assert found, f"{identifier or 'a record'} not found in {rel}"
    return found[0]


def oai_response(metadata: str, identifier: str = "oai:example.org:1") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
  <responseDate>2026-01-01T00:00:00Z</responseDate>
  <request verb="GetRecord" metadataPrefix="oai_dc">https://example.org/oai</request>
  <GetRecord><record>
    <header><identifier>{identifier}</identifier><datestamp>2025-12-01T10:00:00Z</datestamp></header>
    <metadata>
      <oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/">
        {metadata}
      </oai_dc:dc>
    </metadata>
  </record></GetRecord>
</OAI-PMH>""".encode("utf-8")


def test_registry_lists_the_formats():
    assert {"oai_dc", "iso19139", "dcat", "xpath", "pops"} <= set(crosswalks.names())


# ---------------------------------------------------------------- ISO 19139 / 19115-3

def test_swiss_geocat_che_record(corpus):
    raw = one("iso19139", "iso19139/owslib/iso_che_geocat_multilingual.xml")
    assert raw.identifier == "3d2981af-d5db-4122-8db6-1ea41ed44b3f"
    rec = crosswalks.get("iso19139").extract(raw)
    # the record's title exists in German only; its keywords carry the PT_FreeText translations
    assert rec["title"] == {"de": "Gewässerschutzkarte"}
    assert rec["description"]["de"].startswith("Die Gewässerschutzkarte mit den darin aufgeführten")
    kw = rec["keywords"]
    assert set(kw) == {"de", "en", "fr", "it"}            # the #RM strings are empty and dropped
    assert kw["de"][:2] == ["Grundwasser", "Gewässer"]
    assert kw["en"][:2] == ["groundwater", "water (geographic)"]
    assert kw["fr"][0] == "eaux souterraines" and kw["it"][0] == "acqua sotterranea"
    assert rec["languages"] == ["de"]
    assert rec["dates"] == {"created": "2005-06-14", "modified": "2017-01-24"}
    assert rec["publisher"] == "Amt für Umweltschutz"             # owner of the resource
    assert rec["links"] == [{"url": "http://www.zugmap.ch/?link=gewaesserschutzkarte", "rel": "related"}]
    assert rec["datestamp"] == "2017-01-24T12:15:29Z"
    assert "countries" not in rec       # geographic identifier 'ZG' is the canton of Zug, not a country


def test_che_record_through_pycsw_oai_getrecord(corpus):
    raw = one("iso19139", "oaipmh/pycsw262_live/GetRecord_iso19139_che.xml")
    assert raw.identifier == "3d2981af-d5db-4122-8db6-1ea41ed44b3f"
    assert raw.datestamp == "2017-01-24T12:15:29Z"                  # from pycsw's <oai:dateStamp>
    rec = map_record("iso19139", raw, CTX)
    assert rec["id"] == "test:unit:3d2981af-d5db-4122-8db6-1ea41ed44b3f"
    assert rec["title"] == {"de": "Gewässerschutzkarte"} and rec["origin"]["format"] == "iso19139"


def test_geobretagne_french_record(corpus):
    rec = crosswalks.get("iso19139").extract(one("iso19139", "iso19139/owslib/geobretagne_cadastre_fr.xml"))
    assert rec["title"] == {"fr": "Cadastre 2018 en Bretagne"}
    assert rec["languages"] == ["fr"]
    assert rec["countries"] == ["FR"]                          # place keyword 'France'
    assert {"France", "parcelles cadastrales", "cadastre"} <= set(rec["keywords"]["fr"])
    assert rec["publisher"] == "DGFIP Bretagne"
    assert rec["dates"] == {"modified": "2018-09-01"}
    assert rec["links"][0] == {"url": "http://www.cadastre.gouv.fr", "rel": "related", "title": "SCPC"}
    assert rec["rights"].startswith("le plan cadastral décrit les limites apparentes de la propriété.")


def test_iso_locale_ids_become_language_tags(corpus):
    rec = crosswalks.get("iso19139").extract(one("iso19139", "iso19139/owslib/iso_mi_19115-2.xml"))
    assert rec["title"] == {"en": "title in English", "fr": "title in French"}
    assert rec["description"] == {"en": "abstract in English", "fr": "abstract in French"}
    assert rec["keywords"]["fr"][:3] == ["kw1 in French", "kw2 in French", "kw3 in French"]
    assert rec["dates"] == {"created": "2011-11-11", "issued": "2000-09-01"}


def test_csw_response_with_four_language_record(corpus):
    raws = records("iso19139", "csw/owslib/inspire_GetRecordsResponse_multilingual.xml")
    assert [r.identifier for r in raws] == ["8dad9c98-0512-4845-a2bf-3ace1c93df6f",
                                            "eeae2de7-0a09-4b69-b7a0-0b6b20903fd5"]
    first = crosswalks.get("iso19139").extract(raws[0])
    assert set(first["title"]) == {"en", "fr", "nl", "de"}
    assert first["countries"] == ["AQ", "BE", "LU"]                 # place keywords
    assert first["links"][0]["rel"] == "service" and first["links"][0]["format"] == "OGC:WMS"
    second = crosswalks.get("iso19139").extract(raws[1])
    assert second["title"] == {"de": "CSW Suchdienst der ZAMG"} and second["languages"] == ["de"]


def test_iso19115_3_record(corpus):
    raw = one("iso19139", "iso19139/pycsw/iso19115-3_metawal_wallonie_catchments_fr.xml")
    assert raw.identifier == "74f81503-8d39-4ec8-a49a-c76e0cd74946"
    rec = crosswalks.get("iso19139").extract(raw)
    assert rec["title"] == {"fr": "Protection des captages - Série"}
    assert rec["languages"] == ["fr"]
    assert rec["links"][0] == {"url": "https://metawal.wallonie.be/geonetwork/srv/api/records/"
                                      "74f81503-8d39-4ec8-a49a-c76e0cd74946", "rel": "landing"}
    rest = [link for link in rec["links"] if link.get("format") == "ESRI:REST"]
    assert rest and rest[0]["rel"] == "service"
    assert rec["publisher"] == "Service public de Wallonie (SPW)"
    assert rec["datestamp"] == "2023-08-08T07:34:11Z"               # the latest of the metadata dates


def test_iso_geographic_identifiers_under_iso3166_and_anchor_keywords(corpus):
    gemini = crosswalks.get("iso19139").extract(one("iso19139", "iso19139/ckanext-spatial/gemini_country_parks_scotland.xml"))
    assert gemini["countries"] == ["GB"]                             # 'SCT' under ISO 3166 authority
    assert gemini["dates"] == {"created": "2004-02", "modified": "2006-07-03"}
    anchors = crosswalks.get("iso19139").extract(one("iso19139", "iso19139/owslib/iso_keywords_gmx_anchor.xml"))
    assert {"Air temperature", "Salinity", "Wind speed"} <= set(anchors["keywords"]["en"])


def test_doubly_escaped_keyword_hierarchy_names_countries(corpus):
    rec = crosswalks.get("iso19139").extract(one("iso19139", "iso19139/pycsw/pacioos_NS06agg_pohnpei.xml"))
    assert "FM" in rec["countries"] and "US" in rec["countries"]
    assert any(k.startswith("Ocean > Pacific Ocean > Western Pacific Ocean") for k in rec["keywords"]["en"])


# ---------------------------------------------------------------- OAI Dublin Core

def test_erasmus_oai_dc_record(corpus):
    raw = one("oai_dc", "oaipmh/pyoai/erasmus2004_ListRecords_81records.xml", "hdl:1765/9")
    rec = map_record("oai_dc", raw, CTX)
    assert rec["title"] == {"en": "The Causality of Supply Relationships"}
    assert rec["description"]["en"].startswith("This study examines the 'logic' or underlying causality")
    assert rec["creators"] == ["Jong, G. de", "Nooteboom, B."]
    assert rec["languages"] == ["en"]                                  # 'en' and 'en_US'
    assert rec["dates"]["issued"] == "2001-01-04"                      # the earliest dc:date
    assert rec["links"] == [
        {"url": "https://ep.eur.nl/retrieve/6/erimrs20020104123434.pdf", "rel": "file", "format": "application/pdf"},
        {"url": "http://hdl.handle.net/1765/9", "rel": "landing"}]
    assert rec["publisher"].startswith("Erasmus Research Institute of Management (ERIM)")
    assert rec["type"] == "scientific_technical_study"                 # dc:type 'Working Paper'
    assert {"Automobile industries", "Supply relationships"} <= set(rec["keywords"]["en"])
    assert rec["datestamp"] == "2004-02-03T10:58:05Z"


def test_tethys_xml_lang_titles_and_doi_relation(corpus):
    rec = crosswalks.get("oai_dc").extract(one("oai_dc", "oaipmh/tethys/get-record.xml"))
    assert rec["title"] == {"de": "GEOFAST 1:50.000, Blatt 53 – Amstetten, Stand 2019",
                            "en": "GEOFAST 1:50,000. Map Nr. 53 – Amstetten, stand 2019"}
    assert set(rec["description"]) == {"de", "en"}
    assert rec["languages"] == ["de"]                                   # dc:language 'ger'
    assert {"url": "https://doi.org/10.24341/tethys.1", "rel": "related"} in rec["links"]
    assert rec["keywords"] == {"de": ["Vektordaten", "Kompilation", "Kartenwerk", "Niederösterreich"]}


def test_deleted_oai_record_has_no_payload(corpus):
    raws = records("oai_dc", "oaipmh/pyoai/erasmus2004_GetRecord_1160.xml")
    assert len(raws) == 1
    assert raws[0].deleted is True and raws[0].payload is None
    assert raws[0].identifier == "hdl:1765/1160" and raws[0].datestamp == "2004-02-16T13:29:54Z"


def test_oai_dc_markup_stays_literal_text():
    data = oai_response("""
        <dc:title xml:lang="fre">&lt;script&gt;alert('x')&lt;/script&gt; Plan national de mise en œuvre</dc:title>
        <dc:title xml:lang="eng"><![CDATA[<b>National</b> implementation plan]]>\u0085 of Kenya</dc:title>
        <dc:description>Line one
              continued.

              Second   paragraph.</dc:description>
        <dc:type>National Implementation Plan</dc:type>
        <dc:language>fre</dc:language>
        <dc:language>English</dc:language>
        <dc:coverage>Kenya</dc:coverage>
        <dc:coverage>SEN</dc:coverage>
        <dc:coverage>Lake Victoria basin</dc:coverage>
        <dc:identifier>doi:10.1234/nip.2020</dc:identifier>
        <dc:identifier>javascript:alert(1)</dc:identifier>
        <dc:date>2020-03-04</dc:date>""")
    raw = next(crosswalks.get("oai_dc").split(data, "hostile.xml"))
    rec = map_record("oai_dc", raw, CTX)
    assert rec["title"] == {"fr": "<script>alert('x')</script> Plan national de mise en œuvre",
                            "en": "<b>National</b> implementation plan of Kenya"}   # C1 control dropped
    assert rec["description"] == {"und": "Line one continued.\n\nSecond paragraph."}
    assert rec["type"] == "national_implementation_plan"
    assert rec["languages"] == ["fr", "en"]
    assert rec["countries"] == ["KE", "SN"]
    assert rec["links"] == [{"url": "https://doi.org/10.1234/nip.2020", "rel": "landing"}]
    assert rec["dates"] == {"issued": "2020-03-04"}


def test_record_without_title_is_refused_with_reason():
    raw = next(crosswalks.get("oai_dc").split(oai_response("<dc:creator>Someone</dc:creator>"), "t.xml"))
    with pytest.raises(ValueError, match="has no title"):
        crosswalks.get("oai_dc").extract(raw)
    with pytest.raises(MappingError, match="no title"):
        map_record("oai_dc", raw, CTX)


def test_wrong_payload_is_a_clear_error():
    iso = b"""<gmd:MD_Metadata xmlns:gmd="http://www.isotc211.org/2005/gmd"/>"""
    raw = next(crosswalks.get("iso19139").split(iso, "iso.xml"))
    with pytest.raises(ValueError, match="expected oai_dc metadata, found <MD_Metadata>"):
        crosswalks.get("oai_dc").extract(raw)
    with pytest.raises(ValueError, match="without identificationInfo"):
        crosswalks.get("iso19139").extract(raw)
    with pytest.raises(ValueError, match="no DCAT metadata"):
        crosswalks.get("dcat").extract(raw)


# ---------------------------------------------------------------- DCAT

def test_dcat_multilingual_turtle(corpus):
    raw = one("dcat", "dcat/ckanext-dcat/dataset_multilingual.ttl")
    assert raw.identifier == "https://example.org/dataset/0112cf32-bce0-4071-9504-923375f9f2ad"
    rec = crosswalks.get("dcat").extract(raw)
    assert rec["title"] == {"ca": "Conjunt de dades de prova DCAT", "en": "Test DCAT dataset",
                            "es": "Conjunto de datos de prueba DCAT"}
    assert rec["description"] == {"ca": "Una descripció qualsevol", "en": "Some description",
                                  "es": "Una descripción cualquiera"}
    assert rec["keywords"] == {"ca": ["Pins", "Roures"], "en": ["Oaks", "Pines"], "es": ["Pinos", "Robles"]}
    assert rec["languages"] == ["ca", "en", "es"]
    assert rec["dates"] == {"issued": "2024-05-01", "modified": "2024-05-05"}
    assert {"url": "http://example.org/ds1", "rel": "landing"} in rec["links"]
    assert {"url": "https://example.com/data.csv", "rel": "file", "format": "CSV", "title": "Resource 1"} in rec["links"]
    assert rec["rights"] == "Some stament about rights"      # the distribution's, in English
    # the landing page is typed foaf:Document but is not a record of its own
    assert len(records("dcat", "dcat/ckanext-dcat/dataset_multilingual.ttl")) == 1


def test_dcat_spanish_datos_gob_es_dataset(corpus):
    rec = map_record("dcat", one("dcat", "dcat/ckanext-dcat/dataset_gob_es.ttl"), CTX)
    assert rec["title"] == {"es": "Estudio de Satisfacción con el Programa de Escuelas Municipales de "
                                  "Promoción Deportiva en centros escolares"}
    assert rec["keywords"] == {"es": ["deporte escolar", "escuelas", "promoción"]}
    assert rec["languages"] == ["es"]
    assert rec["publisher"] == "Ayuntamiento de Madrid"              # skos:prefLabel of the publisher
    assert rec["dates"] == {"issued": "2024-04-15", "modified": "2024-04-15"}
    assert rec["datestamp"] == "2024-04-15T07:08:10Z"                # +02:00 made UTC
    assert {"url": "https://datos.madrid.es/egob/catalogo/300676-0-deporte-encuesta-escuelas.xlsx", "rel": "file",
            "format": "application/vnd.ms-excel", "title": "Estudio de satisfacción temporada 2023-2024"} in rec["links"]
    assert rec["rights"] == "https://datos.madrid.es/egob/catalogo/aviso-legal"


def test_dcat_rdfxml_catalogue_with_spatial_country_and_service(corpus):
    raws = records("dcat", "dcat/ckanext-dcat/dataset.rdf")
    recs = {r.identifier: crosswalks.get("dcat").extract(r) for r in raws}
    dataset = next(r for r in recs.values() if "Zimbabwe Regional Geochemical Survey." in r["title"].values())
    assert dataset["countries"] == ["ZW"]
    assert dataset["creators"] == ["Creating Organization for dataset 1"]
    service = next(r for r in recs.values() if "Sparql-end Point" in r["title"].values())
    assert {"url": "http://publications.europa.eu/webapi/rdf/sparql", "rel": "service"} in service["links"]


def test_dcat_jsonld_with_locally_supplied_context(corpus):
    name = "dcat/dcat-ap/dcatap3_dataset_series_combined.jsonld"
    context = json.loads((CORPUS / "dcat/dcat-ap/dcatap3_examples_context.jsonld").read_text(encoding="utf-8"))
    url = json.loads((CORPUS / name).read_text(encoding="utf-8"))["@context"]
    raws = list(dcat.splitter({url: context})((CORPUS / name).read_bytes(), name))
    titles = sorted(crosswalks.get("dcat").extract(r)["title"]["en"] for r in raws)
    assert "Bee population 2000 in Greece" in titles and len(titles) >= 3


def test_rdfxml_with_external_entity_is_refused():
    evil = b"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dct="http://purl.org/dc/terms/"
         xmlns:dcat="http://www.w3.org/ns/dcat#">
  <dcat:Dataset rdf:about="http://example.org/d"><dct:title>&secret;</dct:title></dcat:Dataset>
</rdf:RDF>"""
    with pytest.raises(UnsafeXML, match="evil.rdf"):
        list(crosswalks.get("dcat").split(evil, "evil.rdf"))
    external_dtd = b"""<?xml version="1.0"?><!DOCTYPE rdf:RDF SYSTEM "http://127.0.0.1:9/x.dtd">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>"""
    with pytest.raises(UnsafeXML, match="external DTD"):
        list(crosswalks.get("dcat").split(external_dtd, "dtd.rdf"))


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    hits: list = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        type(self).hits.append(self.path)
        body = json.dumps({"@context": {"title": "http://purl.org/dc/terms/title"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/ld+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_jsonld_remote_context_is_never_fetched():
    _CountingHandler.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        ctx_url = f"http://127.0.0.1:{server.server_port}/context.jsonld"
        docs = {
            "plain": {"@context": ctx_url, "@id": "http://example.org/d", "@type": "dcat:Dataset", "title": "T"},
            "list": {"@context": [{"dcat": "http://www.w3.org/ns/dcat#"}, ctx_url],
                     "@id": "http://example.org/d", "@type": "dcat:Dataset", "title": "T"},
            "import": {"@context": {"@version": 1.1, "@import": ctx_url}, "@id": "http://example.org/d", "title": "T"},
            "nested": {"@context": {"dcat": "http://www.w3.org/ns/dcat#"},
                       "@graph": [{"@context": ctx_url, "@id": "http://example.org/d", "title": "T"}]},
        }
        for name, doc in docs.items():
            with pytest.raises(RemoteContext, match=f"{name}.jsonld: JSON-LD @context .*127.0.0.1.* is a remote"):
                list(crosswalks.get("dcat").split(json.dumps(doc).encode(), f"{name}.jsonld"))
        # a supplied copy that refers to itself is refused too, not handed on to be fetched
        with pytest.raises(RDFError, match="includes itself"):
            list(dcat.splitter({ctx_url: {"@context": ctx_url}})(json.dumps(docs["plain"]).encode(), "loop.jsonld"))
        assert _CountingHandler.hits == []
        # the server does answer (so a fetch would have been counted)
        import urllib.request
        with urllib.request.urlopen(ctx_url, timeout=5) as resp:
            assert resp.status == 200
        assert _CountingHandler.hits == ["/context.jsonld"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_rdf_syntax_errors_name_the_file_and_format():
    with pytest.raises(RDFError, match=r"broken\.ttl: not valid Turtle"):
        parse_graph(b"@prefix dct: <http://purl.org/dc/terms/> .\n<http://x> dct:title 'a' ;; ]", "broken.ttl")
    with pytest.raises(RDFError, match=r"broken\.jsonld: not valid JSON-LD"):
        parse_graph(b'{"@id": ', "broken.jsonld")
    with pytest.raises(RDFError, match=r"broken\.rdf: not valid RDF/XML"):
        parse_graph(b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description>",
                    "broken.rdf")


def test_rdf_format_from_content_and_name():
    assert rdf_format(b'  {"@graph": []}', "x.ttl") == "json-ld"
    assert rdf_format(b"<?xml version='1.0'?><rdf:RDF/>", "x") == "xml"
    assert rdf_format(b"<http://a> <http://b> <http://c> .\n", "x.nt") == "nt"
    assert rdf_format(b"<http://a> <http://b> <http://c> .\n", "download") == "nt"
    assert rdf_format(b"PREFIX dct: <http://purl.org/dc/terms/>\n", "download") == "turtle"


def test_turtle_literal_control_characters_and_language_tags():
    ttl = """@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
<https://example.org/ds/7> a dcat:Dataset ;
    dct:title "Inventaire des PCB\\u0001 au Sénégal"@fr-SN , "PCB inventory of Senegal"@en ;
    dct:language <http://publications.europa.eu/resource/authority/language/FRA> ;
    dct:spatial <http://publications.europa.eu/resource/authority/country/SEN> ;
    dcat:keyword "PCB"@fr , "<script>x</script>" , "PCB inventory"@en ;
    dcat:landingPage <https://example.org/ds/7/page> ;
    dcat:distribution [ dcat:downloadURL <https://example.org/ds/7/inventaire.pdf> ;
                        dcat:mediaType <http://www.iana.org/assignments/media-types/application/pdf> ] .
""".encode()
    raw = next(crosswalks.get("dcat").split(ttl, "sn.ttl"))
    rec = map_record("dcat", raw, CTX)
    assert rec["title"] == {"fr": "Inventaire des PCB au Sénégal", "en": "PCB inventory of Senegal"}
    assert rec["languages"] == ["fr"] and rec["countries"] == ["SN"]
    # untagged -> the record's language; markup stays literal text
    assert rec["keywords"] == {"fr": ["<script>x</script>", "PCB"], "en": ["PCB inventory"]}
    assert rec["type"] == "release_inventory"                          # from the keyword
    assert rec["links"] == [{"url": "https://example.org/ds/7/page", "rel": "landing"},
                            {"url": "https://example.org/ds/7", "rel": "related"},
                            {"url": "https://example.org/ds/7/inventaire.pdf", "rel": "file",
                             "format": "application/pdf"}]


# ---------------------------------------------------------------- xpath

SPEC = {
    "record": "//d:item",
    "identifier": "d:id",
    "namespaces": {"d": "urn:example:docs"},
    "fields": {
        "title": "d:title", "description": "d:summary", "keywords": ["d:tag", "d:subject/@term"],
        "date": "d:published", "link": "d:link/@href", "file": "d:file/@href", "country": "d:country",
        "type": "d:kind", "language": "d:lang", "publisher": "../d:publisher", "rights": "d:rights",
    },
}
XPATH_DOC = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="urn:example:docs">
  <publisher>Ministère de l'Environnement</publisher>
  <item xml:lang="fr">
    <id> doc-1 </id>
    <title>Plan national de mise en œuvre</title>
    <title xml:lang="en">National implementation plan</title>
    <summary>Le plan   décrit les mesures.</summary>
    <tag>PCB</tag><tag xml:lang="en">dioxins</tag><subject term="DDT"/>
    <published>2019-05-03T10:00:00Z</published>
    <link href="https://example.org/docs/1"/><link href="https://example.org/docs/1/fr"/>
    <file href="https://example.org/docs/1.pdf"/>
    <country>Sénégal</country>
    <kind>national_implementation_plan</kind>
    <lang>fre</lang>
    <rights>CC BY 4.0</rights>
  </item>
  <item><id>doc-2</id><summary>No title here.</summary></item>
</feed>""".encode()


def test_xpath_crosswalk_maps_a_configured_document():
    cw = make_xpath_crosswalk(SPEC)
    raws = list(cw.split(XPATH_DOC, "feed.xml"))
    assert [r.identifier for r in raws] == ["doc-1", "doc-2"]
    rec = map_record(cw, raws[0], CTX)
    assert rec["id"] == "test:unit:doc-1" and rec["origin"]["format"] == "xpath"
    assert rec["title"] == {"fr": "Plan national de mise en œuvre", "en": "National implementation plan"}
    assert rec["description"] == {"fr": "Le plan décrit les mesures."}
    assert rec["keywords"] == {"fr": ["PCB", "DDT"], "en": ["dioxins"]}
    assert rec["dates"] == {"issued": "2019-05-03"}
    assert rec["links"] == [{"url": "https://example.org/docs/1", "rel": "landing"},
                            {"url": "https://example.org/docs/1/fr", "rel": "related"},
                            {"url": "https://example.org/docs/1.pdf", "rel": "file"}]
    assert rec["countries"] == ["SN"] and rec["languages"] == ["fr"]
    assert rec["type"] == "national_implementation_plan"
    assert rec["publisher"] == "Ministère de l'Environnement" and rec["rights"] == "CC BY 4.0"
    with pytest.raises(MappingError, match="no title"):
        map_record(cw, raws[1], CTX)


@pytest.mark.parametrize("change,message", [
    ({"fields": {"titel": "d:title"}}, "field 'titel' is not a known field"),
    ({"fields": {"title": "d:title["}}, "field 'title': invalid XPath"),
    ({"fields": {"title": "d:title", "keywords": ["d:tag", "q:subject"]}}, "field 'keywords': invalid XPath"),
    ({"fields": {"description": "d:summary"}}, "field 'title' is required"),
    ({"record": "//d:item[@"}, "record: invalid XPath"),
    ({"recrod": "//d:item"}, "unknown key"),
    ({"namespaces": ["d"]}, "namespaces must map prefixes"),
])
def test_xpath_mapping_errors_name_the_field(change, message):
    spec = {**SPEC, **change}
    with pytest.raises(ValueError, match=message):
        make_xpath_crosswalk(spec)


def test_registered_xpath_format_asks_for_a_mapping():
    cw = crosswalks.get("xpath")
    with pytest.raises(ValueError, match="xpath format needs a mapping"):
        cw.extract(RawRecord(identifier="x"))
    with pytest.raises(ValueError, match="xpath format needs a mapping"):
        list(cw.split(XPATH_DOC, "feed.xml"))


def test_xpath_split_refuses_entities():
    doc = b"""<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY a "aaaa">]><feed xmlns="urn:example:docs">&a;</feed>"""
    with pytest.raises(UnsafeXML):
        list(make_xpath_crosswalk(SPEC).split(doc, "bomb.xml"))


# ---------------------------------------------------------------- shared helpers

@pytest.mark.parametrize("value,code", [
    ("eng", "en"), ("en_US", "en"), ("fre", "fr"), ("fra", "fr"), ("spa", "es"), ("rus", "ru"), ("ara", "ar"),
    ("chi", "zh"), ("zho", "zh"), ("ger", "de"), ("deu", "de"), ("dut", "nl"), ("nld", "nl"), ("#FR", None),
    ("English", "en"), ("français", "fr"), ("eng; CAN", "en"), ("other", None), ("und", None),
    ("http://publications.europa.eu/resource/authority/language/ENG", "en"),
])
def test_language_codes(value, code):
    assert codes.language(value) == code


@pytest.mark.parametrize("value,code", [
    ("KEN", "KE"), ("KE", "KE"), ("Kenya", "KE"), ("Côte d'Ivoire", "CI"), ("Turkey", "TR"), ("GB-SCT", "GB"),
    ("http://publications.europa.eu/resource/authority/country/KEN", "KE"), ("España", "ES"),
    ("ZG", None), ("ke", None), ("https://sws.geonames.org/734077", None), ("Lake Victoria", None),
])
def test_country_codes(value, code):
    assert codes.country(value) == code


@pytest.mark.parametrize("types,keywords,expected", [
    (["info:eu-repo/semantics/doctoralThesis"], [], "scientific_technical_study"),
    (["doc-type:ResearchData"], [], "scientific_technical_study"),
    (["dataset"], ["groundwater"], None),
    (["service"], [], None),
    (["Text"], ["National Implementation Plan", "PCB"], "national_implementation_plan"),
    ([], ["Best Available Techniques", "incineration"], "bat_bep_guidance"),
    (["Law"], [], "legislation"),
    (["national_report"], [], "national_report"),
    ([], ["regulation of gene expression"], None),
])
def test_document_type_guess(types, keywords, expected):
    assert guess_type(types, keywords) == expected


def test_dcat_access_url_that_is_the_landing_page_keeps_it_a_page():
    """Portals often give a distribution's accessURL as the dataset's landing page: the page must not be
    described as a CSV file."""
    ttl = b"""@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
    <https://data.example.org/ds/1> a dcat:Dataset ; dct:title "PCB inventory"@en ;
        dcat:landingPage <https://data.example.org/ds/1/page> ;
        dcat:distribution [ a dcat:Distribution ; dcat:accessURL <https://data.example.org/ds/1/page> ;
                            dcat:mediaType "text/csv" ] ."""
    [raw] = crosswalks.get("dcat").split(ttl, "inline.ttl")
    rec = crosswalks.get("dcat").extract(raw)
    assert {"url": "https://data.example.org/ds/1/page", "rel": "landing"} in rec["links"]
