"""A small OData service on 127.0.0.1 serving InforMEA-like entity sets, in three forms:
v4 JSON (`value`, `@odata.nextLink`), v2 JSON (`d.results`, `d.__next`) and v2 Atom (`feed/entry`,
`link rel="next"`, m:properties). Pages are cut with $skiptoken; `$top` caps a page; `$filter=<field> gt
<datetime>` selects what changed (v4 literal, or datetime'...' in v2); `$select` keeps the named fields.

Entities follow the InforMEA OData model: Documents (titles/descriptions as [{language, value}], authors,
keywords, countries, files), Decisions (titles, longTitles, summaries, number, meetingTitle, treaty),
Meetings (title, start, end, city, country), Contacts (prefix, firstName, lastName, position, institution,
country, treaties: national focal points), CountryReports and NationalPlans (treaty, country, submission).
"""
from __future__ import annotations

import json
import re
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse
from xml.sax.saxutils import escape, quoteattr

LANGS = ("en", "fr", "es", "ru", "zh", "ar")
TITLES = {"en": "National implementation plan for persistent organic pollutants",
          "fr": "Plan national de mise en œuvre pour les polluants organiques persistants",
          "es": "Plan nacional de aplicación para los contaminantes orgánicos persistentes",
          "ru": "Национальный план выполнения по стойким органическим загрязнителям",
          "zh": "关于持久性有机污染物的国家实施计划",
          "ar": "خطة التنفيذ الوطنية بشأن الملوثات العضوية الثابتة"}
COUNTRIES = ("KE", "FR", "BR", "CN", "EG", "DE", "IN", "MX")


def _ml(text_by_lang: dict) -> list[dict]:
    return [{"language": k, "value": v} for k, v in text_by_lang.items()]


def _v2date(iso: str) -> str:
    dt = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return f"/Date({int(dt.timestamp() * 1000)})/"


def make_entities(kind: str, n: int) -> list[dict]:
    out = []
    for i in range(n):
        upd = f"2024-0{1 + i % 9}-{10 + i % 18:02d}T08:{i % 60:02d}:00Z"
        c = COUNTRIES[i % len(COUNTRIES)]
        gid = f"{kind[:3]}-{i:04d}-6b1f-4d6e-9c0a-{i:012d}"
        if kind == "documents":
            e = {"id": gid, "type": ["Report"], "titles": _ml({k: f"{TITLES[k]} #{i}" for k in LANGS[: 2 + i % 5]}),
                 "descriptions": _ml({"en": f"Inventory of PCB and DDT stocks in {c}, updated plan {i}."}),
                 "authors": [{"name": f"Ministry of Environment {c}"}], "keywords": [{"term": "PCB"}, {"term": "DDT"}],
                 "countries": [{"value": c}], "languages": ["en", "fr"], "publishDate": f"20{10 + i % 14}-05-01T00:00:00Z",
                 "treaty": "stockholm", "files": [{"url": f"https://chm.pops.int/docs/{gid}.pdf", "mimeType": "application/pdf",
                                                    "language": "en", "filename": f"{gid}.pdf"}],
                 "updated": upd}
        elif kind == "decisions":
            e = {"id": gid, "link": f"https://www.informea.org/decisions/{gid}", "type": "decision", "status": "active",
                 "number": f"SC-{1 + i % 11}/{i}", "treaty": "stockholm",
                 "titles": _ml({"en": f"Listing of chemicals in Annex A ({i})", "fr": f"Inscription de produits chimiques à l'Annexe A ({i})"}),
                 "longTitles": _ml({"en": f"Decision SC-{1 + i % 11}/{i}: listing of PFOS in Annex B"}),
                 "summaries": _ml({"en": "The Conference of the Parties decides to amend Annex B."}),
                 "meetingId": f"cop-{1 + i % 11}", "meetingTitle": f"COP {1 + i % 11}", "published": "2019-05-10T00:00:00Z",
                 "updated": upd}
        elif kind == "meetings":
            e = {"id": gid, "treaty": "stockholm", "url": f"https://www.informea.org/events/{gid}",
                 "title": _ml({"en": f"Conference of the Parties, meeting {i}", "es": f"Conferencia de las Partes, reunión {i}"}),
                 "description": _ml({"en": "Ordinary meeting of the Conference of the Parties."}),
                 "start": "2023-05-01T00:00:00Z", "end": "2023-05-12T00:00:00Z", "city": "Geneva", "country": "CH",
                 "type": "cop", "kind": "official", "updated": upd}
        elif kind == "contacts":
            e = {"id": gid, "country": c, "treaties": ["stockholm"], "prefix": "Dr.", "firstName": f"Amina{i}",
                 "lastName": "Odhiambo", "position": "Stockholm Convention official contact point",
                 "institution": f"Ministry of Environment of {c}", "department": "Chemicals division",
                 "type": "national_focal_point", "primary": True, "email": f"focal{i}@example.org", "updated": upd}
        elif kind == "national_reports":
            e = {"id": gid, "treaty": "stockholm", "country": c, "titles": _ml({"en": f"Article 15 national report of {c} ({i})"}),
                 "url": f"https://www.informea.org/reports/{gid}", "submission": "2022-08-31T00:00:00Z",
                 "files": [{"url": f"https://chm.pops.int/reports/{gid}.docx", "mimeType": "application/msword"}], "updated": upd}
        else:
            e = {"id": gid, "treaty": "stockholm", "country": c, "type": "nip",
                 "titles": _ml({k: TITLES[k] for k in ("en", "fr")}), "url": f"https://www.informea.org/plans/{gid}",
                 "submission": "2021-02-01T00:00:00Z", "updated": upd}
        out.append(e)
    return out


def _atom_value(name, v, ns="d"):
    if v is None:
        return f'<d:{name} m:null="true"/>'
    if isinstance(v, bool):
        return f'<d:{name} m:type="Edm.Boolean">{str(v).lower()}</d:{name}>'
    if isinstance(v, list):
        return f"<d:{name}>" + "".join(_atom_value("element", x) for x in v) + f"</d:{name}>"
    if isinstance(v, dict):
        return f"<d:{name}>" + "".join(_atom_value(k, x) for k, x in v.items()) + f"</d:{name}>"
    return f"<d:{name}>{escape(str(v))}</d:{name}>"


class ODataServer:
    def __init__(self, entities: list[dict], form: str = "v4", page_size: int = 7, set_name: str = "Documents"):
        self.entities, self.form, self.page_size, self.set_name = entities, form, page_size, set_name
        self.requests: list[dict] = []
        self.loop_next = False

    def delete(self, ident):
        self.entities = [e for e in self.entities if e["id"] != ident]

    def touch(self, ident, when="2030-01-01T00:00:00Z"):
        for e in self.entities:
            if e["id"] == ident:
                e["updated"] = when

    def page(self, q: dict) -> bytes:
        rows = list(self.entities)
        flt = q.get("$filter")
        if flt:
            m = re.fullmatch(r"(\w+) gt (?:datetime'([^']+)'|(\S+))", flt)
            since = (m.group(2) or m.group(3)).rstrip("Z")
            rows = [e for e in rows if e["updated"].rstrip("Z") > since]
        start = int(q.get("$skiptoken", "0"))
        size = min(self.page_size, int(q.get("$top", self.page_size)))
        chunk = rows[start: start + size]
        nxt = None
        if start + size < len(rows) or self.loop_next:
            keep = {k: v for k, v in q.items() if k not in ("$skiptoken", "$top")}
            keep["$skiptoken"] = str(0 if self.loop_next else start + size)
            nxt = f"{self.url}?{urlencode(keep)}"
        if q.get("$select"):
            names = set(q["$select"].split(",")) | {"id"}
            chunk = [{k: v for k, v in e.items() if k in names} for e in chunk]
        if self.form == "v4":
            doc = {"@odata.context": f"{self.url}/$metadata#{self.set_name}", "value": chunk}
            if nxt:
                doc["@odata.nextLink"] = nxt
            return json.dumps(doc).encode()
        if self.form == "v2":
            rows2 = [{"__metadata": {"uri": f"{self.url}('{e['id']}')", "type": f"InforMEA.{self.set_name[:-1]}"},
                      **{k: (_v2date(v) if k in ("updated", "published", "publishDate", "submission", "start", "end")
                             else ({"results": v} if isinstance(v, list) else v)) for k, v in e.items()}} for e in chunk]
            d = {"results": rows2}
            if nxt:
                d["__next"] = nxt
            return json.dumps({"d": d}).encode()
        entries = "".join(
            f'<entry><id>{escape(self.url)}(\'{e["id"]}\')</id><title type="text"/><updated>{e["updated"]}</updated>'
            f'<category term="InforMEA.{self.set_name[:-1]}" scheme="http://schemas.microsoft.com/ado/2007/08/dataservices/scheme"/>'
            f'<content type="application/xml"><m:properties>' + "".join(_atom_value(k, v) for k, v in e.items()) +
            "</m:properties></content></entry>" for e in chunk)
        link = f'<link rel="next" href={quoteattr(nxt)}/>' if nxt else ""
        return (f'<?xml version="1.0" encoding="utf-8"?><feed xml:base={quoteattr(self.url)} xmlns="http://www.w3.org/2005/Atom" '
                f'xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" '
                f'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"><id>{escape(self.url)}</id>'
                f'<title type="text">{self.set_name}</title><updated>2026-01-01T00:00:00Z</updated>{entries}{link}</feed>').encode()

    def __enter__(self):
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_GET(self):
                q = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
                outer.requests.append(q)
                body = outer.page(q)
                self.send_response(200)
                self.send_header("Content-Type", "application/atom+xml" if outer.form == "atom" else "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}/informea.svc/{self.set_name}"
        return self

    def __exit__(self, *exc):
        self.srv.shutdown()
        self.srv.server_close()
