"""Retry one failed record: fetch it again where the protocol allows (OAI-PMH GetRecord), else re-map the
payload kept in the store; store it if it now maps, and index it at once. Anything but the record asked
for, now mapped and stored, is a failure: another identifier in the answer, a deletion, a mapping error."""
from __future__ import annotations

from .crosswalks.xmlsplit import OAI, oai_records
from .harvesting import Indexer
from .http import FetchError, Fetcher
from .run import DUPLICATE, crosswalk_for, map_context, map_raw
from .xmlsafe import MalformedXML, UnsafeXML, parse_bytes


def _refetch(spec: dict, identifier: str, fetcher: Fetcher):
    resp = fetcher.get(spec["url"], params={"verb": "GetRecord", "identifier": identifier,
                                            "metadataPrefix": spec["metadata_prefix"]})
    root = parse_bytes(resp.body, spec["url"]).getroot()
    err = root.find(f"{{{OAI}}}error")
    if err is not None:
        raise ValueError(f"GetRecord: OAI-PMH error {err.get('code')}: {(err.text or '').strip()}")
    return next(oai_records(root.iter(f"{{{OAI}}}record"), f"{spec['url']} GetRecord", spec["url"]), None)


def replay_record(cfg, store, source_id: str, identifier: str) -> tuple[bool, str]:
    """(True, what was stored) or (False, why the record is still not stored)."""
    try:
        spec = cfg.source(source_id)
    except KeyError as exc:
        return False, str(exc.args[0])
    where = f"{source_id}:{identifier}"
    cw = crosswalk_for(spec)
    kept = store.failure(source_id, identifier)
    if kept and kept["error"].startswith(DUPLICATE):
        return False, f"{where}: {kept['error']}; replaying cannot choose between the two: fix the source"
    raw = None
    try:
        if spec["type"] == "oaipmh" and "url" in spec:
            raw = _refetch(spec, identifier, Fetcher(timeout=cfg.source_setting(spec, "timeout"), retries=1))
        elif kept:
            raw = next(iter(cw.split(kept["raw"].encode("utf-8"), f"stored payload of {identifier}")), None)
            if raw is not None:
                raw.identifier = identifier
    except (FetchError, ValueError, MalformedXML, UnsafeXML) as exc:
        return False, f"{where}: {exc}"
    if raw is None:
        return False, f"{where}: no such failed record, and the source cannot be asked for it again"
    if raw.identifier != identifier:
        return False, f"{where}: GetRecord answered with record {raw.identifier!r}, not the one asked for; nothing stored"
    if raw.deleted:
        return False, f"{where}: deleted at the source; nothing stored"
    item, failure = map_raw(cw, raw, map_context(cfg, spec), cfg.harvest["max_record_bytes"])
    if failure:
        store.apply_batch([], [failure])
        return False, f"{where}: still fails: {failure.error}"
    if item is None:
        return False, f"{where}: not stored: the record already passed through this node (a loop between nodes)"
    store.apply_batch([item])
    return True, f"{where}: stored as {item.record['id']}{_index_now(cfg, store)}"


def _index_now(cfg, store) -> str:
    """Index what was just stored; '' when done, else why the index is behind (the record is kept)."""
    indexer = Indexer(cfg, store)
    try:
        indexer.catch_up(now=True)
    finally:
        indexer.close()
    return f"; not yet searchable: the index is behind the store ({indexer.error}); " \
           "`pops-chm reindex --catch-up` catches up" if indexer.error else ""
