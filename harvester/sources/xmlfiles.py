"""XML sources: a file, a folder or a URL of XML documents; a record per document (or per element the
crosswalk recognises), or per element matching `record_xpath`."""
from __future__ import annotations

from lxml import etree

from ..raw import RawRecord
from ..xmlsafe import MalformedXML, UnsafeXML, parse_bytes
from . import SourceError
from .documents import DocumentReader


class XMLSource:
    def __init__(self, spec: dict, cfg, state: dict, full: bool, fetcher):
        from ..run import crosswalk_for
        self.spec = spec
        self.crosswalk = crosswalk_for(spec)
        self.reader = DocumentReader(spec, cfg, state, full, fetcher, (".xml",))
        self.complete = self.not_modified = False
        self.enumerates_all = True
        self.listing_complete = True
        self.problems: list[str] = []
        self.unchanged_documents: list[str] | None = [] if "url" in spec else None   # HTTP 304: not read again

    def records(self):
        docs = 0
        for doc in self.reader.documents():
            docs += 1
            if doc.not_modified:
                self.unchanged_documents.append(doc.where)
                continue
            try:
                raws = list(self._split(doc))
            except (MalformedXML, UnsafeXML, ValueError) as exc:
                # one bad document is that document's error; the others are still read
                self.problems.append(str(exc))
                self.listing_complete = False
                yield RawRecord(identifier=doc.where, error=str(exc), location=doc.where, raw_bytes=doc.body[:100_000]), None
                continue
            for raw in raws:
                raw.url = raw.url or doc.where
                yield raw, None
        self.not_modified = self.reader.nothing_changed(docs, self.unchanged_documents)
        self.complete = True

    def _split(self, doc):
        xp = self.spec.get("record_xpath")
        if not xp:
            return self.crosswalk.split(doc.body, doc.where)
        root = parse_bytes(doc.body, doc.where).getroot()
        namespaces = (self.spec.get("xpath") or {}).get("namespaces") or {}
        try:
            found = root.xpath(xp, namespaces=namespaces)
        except etree.XPathError as exc:
            raise SourceError(f"source {self.spec['id']}: bad record_xpath {xp!r}: {exc}") from None
        ident = (self.spec.get("xpath") or {}).get("identifier")
        out = []
        for n, el in enumerate(e for e in found if isinstance(e, etree._Element)):
            value = el.xpath(f"string({ident})", namespaces=namespaces).strip() if ident else ""
            out.append(RawRecord(identifier=value or f"{doc.where}#{n + 1}", payload=el,
                                 location=f"{doc.where}, line {el.sourceline}"))
        return out

    def final_state(self) -> dict:
        return {"validators": self.reader.validators}
