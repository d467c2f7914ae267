"""RDF sources: DCAT / DCAT-AP catalogues and Dublin Core terms in Turtle, RDF/XML, JSON-LD or N-Triples,
from a file, a folder or a URL; paged catalogues (hydra:next) are followed page by page."""
from __future__ import annotations

from rdflib import Namespace, URIRef

from ..crosswalks import dcat
from ..raw import RawRecord
from ..xmlsafe import UnsafeXML
from . import SourceError
from .documents import DocumentReader

HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
_CONTENT_TYPES = {"text/turtle": "turtle", "application/x-turtle": "turtle", "application/rdf+xml": "xml",
                  "application/ld+json": "json-ld", "application/n-triples": "nt", "text/n3": "n3"}
MAX_PAGES = 10_000


def _format(spec: dict, content_type: str) -> str | None:
    if spec.get("rdf_format"):
        return spec["rdf_format"]
    return _CONTENT_TYPES.get(content_type.split(";")[0].strip().lower())


def _next_page(graph, current: str) -> str | None:
    for pred in (HYDRA.next, HYDRA.nextPage):
        for nxt in graph.objects(None, pred):
            if isinstance(nxt, URIRef) and str(nxt) != current:
                return str(nxt)
    return None


class RDFSource:
    def __init__(self, spec: dict, cfg, state: dict, full: bool, fetcher):
        from ..run import crosswalk_for
        self.spec, self.cfg, self.state, self.full, self.fetcher = spec, cfg, state, full, fetcher
        self.crosswalk = crosswalk_for(spec)
        self.contexts = cfg.jsonld_contexts(spec)      # remote JSON-LD contexts, from local files
        self.reader = DocumentReader(spec, cfg, state, full, fetcher, (".ttl", ".rdf", ".jsonld", ".json", ".nt", ".owl", ".xml"))
        self.complete = self.not_modified = False
        self.enumerates_all = self.listing_complete = True
        self.problems: list[str] = []
        self.unchanged_documents: list[str] | None = [] if "url" in spec else None   # HTTP 304: not read again

    def records(self):
        docs = 0
        pages = [self.reader.documents()]
        seen_pages: set[str] = set()
        while pages:
            for doc in pages.pop():
                docs += 1
                if doc.not_modified:   # its records are still there; the pages after it are read as ever
                    self.unchanged_documents.append(doc.where)
                    self._follow(doc.where, self.reader.validators.get(doc.where, {}).get("next"), seen_pages, pages)
                    continue
                try:
                    graph = dcat.parse_graph(doc.body, doc.where, _format(self.spec, doc.content_type), self.contexts)
                except (dcat.RDFError, UnsafeXML) as exc:
                    self.problems.append(str(exc))
                    self.listing_complete = False
                    yield RawRecord(identifier=doc.where, error=str(exc), location=doc.where,
                                    raw_bytes=doc.body[:100_000]), None
                    continue
                for raw in dcat.records(graph, doc.where, doc.where):
                    yield raw, None
                nxt = _next_page(graph, doc.where) if "url" in self.spec else None
                del graph
                if nxt and doc.where in self.reader.validators:   # remembered, for when this page comes back 304
                    self.reader.validators[doc.where]["next"] = nxt
                self._follow(doc.where, nxt, seen_pages, pages)
        self.not_modified = self.reader.nothing_changed(docs, self.unchanged_documents)
        self.complete = True

    def _follow(self, where: str, nxt: str | None, seen_pages: set, pages: list) -> None:
        if not nxt:
            return
        if nxt in seen_pages or len(seen_pages) >= MAX_PAGES:
            raise SourceError(f"{where}: hydra:next loops back to {nxt}; stopped")
        seen_pages.add(nxt)
        pages.append(self.reader._remote(nxt, follow_listing=False))

    def final_state(self) -> dict:
        return {"validators": self.reader.validators}
