"""A third-party OAI-PMH data provider for tests: the PyPI package `oaipmh` 4.0.0 (the maintained fork of
Infrae pyoai), run as a WSGI app on 127.0.0.1 in a thread, serving real ISO 19139 records of the corpus.

    from tests.peers import oaipmh_peer

    with oaipmh_peer() as peer:
        Sickle(peer.url).ListRecords(metadataPrefix="oai_dc")     # 8 records over 3 pages
        peer.identifiers, peer.live_identifiers, peer.deleted_identifiers, peer.count

What it serves (notes/peers.md, recipe A): the 7 ISO 19139 documents of PEER_FILES, each as `iso19139`
(the original gmd:MD_Metadata) and `oai_dc` (derived: title, abstract, keywords, language, date,
identifier, type, format), plus one deleted record; sets `iso` (all), `even`, `odd` (by position);
datestamps 2024-01-01T12:00:00Z + one day per document, the deleted one 2024-02-01T00:00:00Z;
second granularity, deletedRecord persistent, a resumption token every `batch_size` (3) items; GET and POST.
The corpus folder is $POPS_CORPUS_DIR, else $POPS_SHARED_DIR/corpus, else ../shared/corpus next to the project.
"""
from __future__ import annotations

import copy
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Iterable, Sequence
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from lxml import etree
from oaipmh import common, error
from oaipmh.metadata import MetadataRegistry
from oaipmh.server import Server, oai_dc_writer

GMD = "http://www.isotc211.org/2005/gmd"
GCO = "http://www.isotc211.org/2005/gco"
NS = {"gmd": GMD, "gco": GCO}
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"

PEER_FILES = (
    "iso19139/pycsw/greece_aerial_photos_1991.xml",
    "iso19139/pycsw/greece_dtm_1996_276395.xml",
    "iso19139/pycsw/greece_ortho_1998_284404.xml",
    "iso19139/owslib/geobretagne_cadastre_fr.xml",
    "iso19139/owslib/eemsmonding_nl.xml",
    "iso19139/owslib/iso19139_srv_alkis_de.xml",
    "iso19139/pycsw/auscope_geoprovinces_iso19139.xml",
)
ID_PREFIX = "oai:peer.local:"
DELETED_ID = ID_PREFIX + "deleted-1"
FORMATS = [("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC),
           ("iso19139", "http://www.isotc211.org/2005/gmd/gmd.xsd", GMD)]
SETS = [("iso", "All ISO 19139 records", ""), ("even", "Records at even positions", ""),
        ("odd", "Records at odd positions", "")]


def corpus_dir() -> Path:
    """$POPS_CORPUS_DIR, else $POPS_SHARED_DIR/corpus, else ../shared/corpus next to the project."""
    if os.environ.get("POPS_CORPUS_DIR"):
        return Path(os.environ["POPS_CORPUS_DIR"])
    shared = os.environ.get("POPS_SHARED_DIR")
    return (Path(shared) if shared else Path(__file__).resolve().parents[2] / "shared") / "corpus"


@dataclass
class PeerRecord:
    identifier: str
    datestamp: datetime                 # naive, UTC (oaipmh wants naive datetimes)
    sets: list[str]
    deleted: bool = False
    path: Path | None = None
    doc: etree._Element | None = None   # the gmd:MD_Metadata root
    dc: dict[str, list[str]] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return (self.dc.get("title") or [""])[0]


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                          remove_blank_text=True)


def _texts(doc: etree._Element, xpath: str) -> list[str]:
    out = []
    for v in doc.xpath(xpath, namespaces=NS):
        v = (v if isinstance(v, str) else (v.text or "")).strip()
        if v and v not in out:
            out.append(v)
    return out


def load_records(paths: Sequence[Path]) -> list[PeerRecord]:
    """The served records: one per ISO 19139 file, in the given order, then the deleted one."""
    recs = []
    start = datetime(2024, 1, 1, 12, 0, 0)
    for i, path in enumerate(paths):
        doc = etree.parse(str(path), _PARSER).getroot()
        ident = (_texts(doc, "gmd:fileIdentifier/gco:CharacterString/text()") or [path.stem])[0]
        ident_info = "gmd:identificationInfo/*"
        dc = {
            "title": _texts(doc, f"{ident_info}/gmd:citation/*/gmd:title/gco:CharacterString/text()")[:1],
            "description": [t[:500] for t in _texts(doc, f"{ident_info}/gmd:abstract/gco:CharacterString/text()")[:1]],
            "subject": _texts(doc, f"{ident_info}/gmd:descriptiveKeywords/*/gmd:keyword/gco:CharacterString/text()"),
            "language": (_texts(doc, "gmd:language/gmd:LanguageCode/@codeListValue")
                         or _texts(doc, "gmd:language/gco:CharacterString/text()"))[:1],
            "date": (_texts(doc, "gmd:dateStamp/gco:Date/text()") or _texts(doc, "gmd:dateStamp/gco:DateTime/text()"))[:1],
            "publisher": _texts(doc, "gmd:contact/*/gmd:organisationName/gco:CharacterString/text()")[:1],
            "identifier": [ident],
            "type": ["Dataset"],
            "format": ["application/xml"],
        }
        recs.append(PeerRecord(ID_PREFIX + ident, start + timedelta(days=i),
                               ["iso", "even" if i % 2 == 0 else "odd"], False, Path(path), doc, dc))
    recs.append(PeerRecord(DELETED_ID, datetime(2024, 2, 1), ["iso"], deleted=True))
    return recs


class _Repository:
    """The IOAI interface that oaipmh.server.Server turns into OAI-PMH responses."""

    def __init__(self, records: list[PeerRecord], base_url: str):
        self.records = records
        self.base_url = base_url

    def identify(self):
        return common.Identify(
            repositoryName="oaipmh 4.0.0 peer (ISO 19139 corpus)", baseURL=self.base_url, protocolVersion="2.0",
            adminEmails=["peer@example.org"], earliestDatestamp=min(r.datestamp for r in self.records),
            deletedRecord="persistent", granularity="YYYY-MM-DDThh:mm:ssZ", compression=["identity"])

    def listMetadataFormats(self, identifier=None):
        if identifier is not None and self._find(identifier) is None:
            raise error.IdDoesNotExistError(identifier)
        return FORMATS

    def listSets(self):
        return SETS

    def _find(self, identifier):
        return next((r for r in self.records if r.identifier == identifier), None)

    def _select(self, metadataPrefix, set=None, from_=None, until=None):
        if metadataPrefix not in dict((p, s) for p, s, _ in FORMATS):
            raise error.CannotDisseminateFormatError(metadataPrefix)
        if set is not None and set not in [s for s, _, _ in SETS]:
            raise error.NoRecordsMatchError(f"no set {set}")
        return [r for r in self.records
                if (set is None or set in r.sets) and (from_ is None or r.datestamp >= from_)
                and (until is None or r.datestamp <= until)]

    @staticmethod
    def _result(rec: PeerRecord, prefix: str):
        header = common.Header(None, rec.identifier, rec.datestamp, rec.sets, rec.deleted)
        if rec.deleted:
            return header, None, None
        return header, common.Metadata(None, rec.dc if prefix == "oai_dc" else {"doc": rec.doc}), None

    def listIdentifiers(self, metadataPrefix, set=None, from_=None, until=None):
        return [self._result(r, metadataPrefix)[0] for r in self._select(metadataPrefix, set, from_, until)]

    def listRecords(self, metadataPrefix, set=None, from_=None, until=None):
        return [self._result(r, metadataPrefix) for r in self._select(metadataPrefix, set, from_, until)]

    def getRecord(self, metadataPrefix, identifier):
        if metadataPrefix not in [p for p, _, _ in FORMATS]:
            raise error.CannotDisseminateFormatError(metadataPrefix)
        rec = self._find(identifier)
        if rec is None:
            raise error.IdDoesNotExistError(identifier)
        return self._result(rec, metadataPrefix)


def _iso19139_writer(element, metadata):
    element.append(copy.deepcopy(metadata.getMap()["doc"]))


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class OaipmhPeer:
    """The oaipmh 4.0.0 Server on 127.0.0.1:<ephemeral>/oai. Use as a context manager."""

    def __init__(self, files: Iterable[str | Path] | None = None, *, batch_size: int = 3,
                 corpus: str | Path | None = None, host: str = "127.0.0.1", port: int = 0):
        self.corpus = Path(corpus) if corpus else corpus_dir()
        self.paths = [Path(f) if Path(f).is_absolute() else self.corpus / f for f in (files or PEER_FILES)]
        missing = [str(p) for p in self.paths if not p.is_file()]
        if missing:
            raise FileNotFoundError(f"corpus files missing (set POPS_CORPUS_DIR): {', '.join(missing)}")
        self.batch_size = batch_size
        self.host, self.port = host, port
        self.records = load_records(self.paths)
        self.requests: list[dict] = []
        self._httpd = None
        self._thread = None

    # -- what it serves
    @property
    def identifiers(self) -> list[str]:
        return [r.identifier for r in self.records]

    @property
    def live_identifiers(self) -> list[str]:
        return [r.identifier for r in self.records if not r.deleted]

    @property
    def deleted_identifiers(self) -> list[str]:
        return [r.identifier for r in self.records if r.deleted]

    @property
    def count(self) -> int:
        return len(self.records)

    @property
    def sets(self) -> dict[str, list[str]]:
        """set spec -> identifiers in it"""
        return {spec: [r.identifier for r in self.records if spec in r.sets] for spec, _, _ in SETS}

    @property
    def formats(self) -> list[str]:
        return [p for p, _, _ in FORMATS]

    def record(self, identifier: str) -> PeerRecord:
        return next(r for r in self.records if r.identifier == identifier)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/oai"

    # -- life cycle
    def start(self) -> "OaipmhPeer":
        if self._httpd is not None:
            return self
        registry = MetadataRegistry()
        registry.registerWriter("oai_dc", oai_dc_writer)
        registry.registerWriter("iso19139", _iso19139_writer)
        repo = _Repository(self.records, "")
        server = Server(repo, registry, resumption_batch_size=self.batch_size)
        lock = threading.Lock()         # the oaipmh server and lxml trees are not meant for concurrent use

        def app(environ, start_response):
            if environ.get("PATH_INFO") != "/oai":
                start_response("404 Not Found", [("Content-Type", "text/plain")])
                return [b"not found"]
            qs = environ.get("QUERY_STRING", "")
            if environ["REQUEST_METHOD"] == "POST":
                qs = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)).decode("utf-8")
            params = dict(parse_qsl(qs, keep_blank_values=True))
            with lock:
                self.requests.append(params)
                body = server.handleRequest(params)
            if isinstance(body, str):
                body = body.encode("utf-8")
            start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"),
                                      ("Content-Length", str(len(body)))])
            return [body]

        self._httpd = make_server(self.host, self.port, app, server_class=_ThreadingWSGIServer,
                                  handler_class=_QuietHandler)
        self.port = self._httpd.server_address[1]
        repo.base_url = self.url
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs=dict(poll_interval=0.05),
                                        name=f"oaipmh-peer-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)
        self._httpd = self._thread = None

    def __enter__(self) -> "OaipmhPeer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def oaipmh_peer(files: Iterable[str | Path] | None = None, *, batch_size: int = 3,
                corpus: str | Path | None = None) -> OaipmhPeer:
    """A not yet started peer; `with oaipmh_peer() as peer:` starts and stops it."""
    return OaipmhPeer(files, batch_size=batch_size, corpus=corpus)


def peer_available(corpus: str | Path | None = None) -> bool:
    """Whether the corpus files the peer serves are present (for pytest skip conditions)."""
    base = Path(corpus) if corpus else corpus_dir()
    return all((base / f).is_file() for f in PEER_FILES)
