"""PLACEHOLDER: the shared enrichment step. Public API (kept when implemented):

enrich(record: dict) -> dict   a new record with chemicals, regions, languages, year, quality, dedup_key filled
"""


def enrich(record: dict) -> dict:
    rec = dict(record)
    rec["quality"] = {"completeness": 0.0}
    return rec
