"""Retry one failed record: fetch it again where the protocol allows (OAI-PMH GetRecord), else re-map the
payload kept in the store, and store it if it now maps."""
from __future__ import annotations

from .crosswalks.xmlsplit import OAI, oai_records
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
    try:
        spec = cfg.source(source_id)
    except KeyError as exc:
        return False, str(exc.args[0])
    cw = crosswalk_for(spec)
    kept = store.failure(source_id, identifier)
    if kept and kept["error"].startswith(DUPLICATE):
        return False, f"{source_id}:{identifier}: {kept['error']}; replaying cannot choose between the two: fix the source"
    raw = None
    try:
        if spec["type"] == "oaipmh" and "url" in spec:
            raw = _refetch(spec, identifier, Fetcher(timeout=cfg.source_setting(spec, "timeout"), retries=1))
        elif kept:
            raw = next(iter(cw.split(kept["raw"].encode("utf-8"), f"stored payload of {identifier}")), None)
            if raw is not None:
                raw.identifier = identifier
    except (FetchError, ValueError, MalformedXML, UnsafeXML) as exc:
        return False, f"{source_id}:{identifier}: {exc}"
    if raw is None:
        return False, f"{source_id}:{identifier}: no such failed record, and the source cannot be asked for it again"
    if raw.deleted:
        return True, f"{source_id}:{identifier}: deleted at the source"
    ctx = map_context(cfg, spec)
    item, failure = map_raw(cw, raw, ctx, cfg.harvest["max_record_bytes"])
    if failure:
        store.apply_batch([], [failure])
        return False, f"{source_id}:{identifier}: still fails: {failure.error}"
    if item is None:
        return True, f"{source_id}:{identifier}: skipped (already passed through this node)"
    store.apply_batch([item])
    return True, f"{source_id}:{identifier}: stored as {item.record['id']}"
