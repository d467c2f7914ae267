"""/status as a small HTML page: each source's name, counts, last and next run, last error; the store's path
too when the status given holds it (the admin's view, see harvester.status.public_status)."""
from __future__ import annotations

from html import escape


def render_status(st: dict) -> str:
    ix = st["index"]
    index_line = (escape(ix['error']) if "error" in ix else
                  f"{ix['documents']} documents, {ix['behind']} changes behind the store")
    rows = []
    for s in st["sources"]:
        last = s.get("last_run") or {}
        rows.append("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in (
            s["id"], s.get("name") or s["id"], s["records"], s["deleted"], s["failed_records"],
            f"{last.get('status', 'never')} {last.get('ended') or last.get('started') or ''}",
            s.get("next_run") or "-", s.get("last_error") or "")) + "</tr>")
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Status of node {escape(st['node'])}</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{{font:14px system-ui,sans-serif;margin:1.5em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}</style>
</head><body><h1>Node {escape(st['node'])}</h1>
{f"<p>Store: {escape(st['store'])}</p>" if st.get('store') else ""}
<p>{st['records']} records, {st['deleted']} deleted. Index ({escape(ix['backend'])}): {index_line}. Scheduler: {escape(st['scheduler'])}.</p>
<table><tr><th>source</th><th>name</th><th>records</th><th>deleted</th><th>failed</th><th>last run</th><th>next run</th><th>last error</th></tr>
{''.join(rows)}</table><p><a href="/api/status">JSON</a></p></body></html>"""
