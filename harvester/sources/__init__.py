"""Sources: one module per protocol, each turning a configured source into a stream of raw records.

A source object offers:
  records()       -> iterator of (RawRecord, resume point); the resume point is the checkpoint from which
                     a new run re-reads this record at worst (never skips it)
  complete        True once the whole source (or the whole increment) was read without a gap
  listing_complete True when what was read is the source's entire content, so identifiers held but not
                     seen have disappeared at the source (XML and RDF files, static repositories)
  enumerates_all  True when the source yields every record it holds each time (files, static repositories)
  not_modified    True when a conditional request said nothing changed
  final_state()   what to remember after a successful run (last datestamp, HTTP validators)
  problems        gaps noticed while reading (a truncated page...) that make the run partial
"""
from __future__ import annotations

from ..http import Fetcher


class SourceError(Exception):
    """The source failed as a whole (unreachable, OAI error, unreadable file): the run fails, nothing is deleted."""


def open_source(spec: dict, cfg, state: dict, full: bool = False, fetcher: Fetcher | None = None):
    fetcher = fetcher or Fetcher(timeout=cfg.source_setting(spec, "timeout"), retries=cfg.source_setting(spec, "retries"),
                                 backoff=cfg.source_setting(spec, "backoff"), max_bytes=cfg.harvest["max_response_bytes"])
    kind = spec["type"]
    if kind == "oaipmh":
        from .oaipmh import OAIPMHSource
        return OAIPMHSource(spec, cfg, state, full, fetcher)
    if kind == "xml":
        from .xmlfiles import XMLSource
        return XMLSource(spec, cfg, state, full, fetcher)
    if kind == "rdf":
        from .rdf import RDFSource
        return RDFSource(spec, cfg, state, full, fetcher)
    if kind == "csw":
        from .csw import CSWSource
        return CSWSource(spec, cfg, state, full, fetcher)
    if kind == "odata":
        from .odata import ODataSource
        return ODataSource(spec, cfg, state, full, fetcher)
    raise SourceError(f"source {spec['id']}: unknown type {kind!r}")
