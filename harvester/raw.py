"""What a source yields and a crosswalk reads: one raw record, before mapping."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RawRecord:
    identifier: str                 # the source's own identifier (OAI identifier, file id, URI)
    payload: Any = None             # lxml element (XML formats), rdflib (graph, node) (RDF), None when deleted
    datestamp: str | None = None    # UTC 'YYYY-MM-DDThh:mm:ssZ' as the source gave it, normalised
    deleted: bool = False
    sets: list[str] = field(default_factory=list)
    location: str = ""              # where in the source it sits: file and line, page and position
    url: str = ""                   # endpoint or file it came from
    error: str = ""                 # set when the record could not even be read (quarantined, never mapped)
    raw_bytes: bytes = b""          # the unreadable record as received, kept for diagnostics

    def raw_text(self) -> str:
        """The payload as text, kept in the store for diagnostics and replay."""
        if self.payload is None:
            return self.raw_bytes.decode("utf-8", "replace")
        from lxml import etree
        if isinstance(self.payload, etree._Element):
            return etree.tostring(self.payload, encoding="unicode")
        if isinstance(self.payload, tuple):  # (graph, node): the node's own triples
            graph, node = self.payload
            from rdflib import Graph
            sub = Graph()
            for prefix, ns in graph.namespaces():
                sub.bind(prefix, ns)
            for t in graph.triples((node, None, None)):
                sub.add(t)
            return sub.serialize(format="turtle")
        return str(self.payload)
