"""A real HTTP server on 127.0.0.1 serving files from a folder, with ETag and Last-Modified, answering
conditional requests with 304, and counting the requests (for XML and RDF source tests)."""
from __future__ import annotations

import hashlib
import threading
from collections import Counter
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class FileServer:
    def __init__(self, root: Path, content_types: dict | None = None):
        self.root = Path(root)
        self.hits: Counter = Counter()
        self.not_modified = 0
        self.content_types = content_types or {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                name = self.path.lstrip("/").split("?")[0]
                outer.hits[name] += 1
                path = outer.root / name
                if name in ("", "index.html"):
                    links = "".join(f'<a href="{p.name}">{p.name}</a>' for p in sorted(outer.root.iterdir()) if p.is_file())
                    return self._send(200, f"<html><body>{links}</body></html>".encode(), "text/html", None)
                if not path.is_file():
                    return self._send(404, b"not found", "text/plain", None)
                body = path.read_bytes()
                etag = '"' + hashlib.sha1(body).hexdigest() + '"'
                if self.headers.get("If-None-Match") == etag:
                    outer.not_modified += 1
                    return self._send(304, b"", None, etag)
                ctype = outer.content_types.get(path.suffix, "application/xml")
                self._send(200, body, ctype, etag)

            def _send(self, status, body, ctype, etag):
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                if etag:
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", formatdate(usegmt=True))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
