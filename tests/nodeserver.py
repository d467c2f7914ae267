"""A real node on 127.0.0.1: the ASGI app of a config, served by uvicorn in a thread on a free port."""
from __future__ import annotations

import socket
import threading
import time

import uvicorn

from harvester import config
from harvester.node.app import create_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_records(cfg_path, records: list[dict], delete: list[tuple[str, str]] = ()) -> None:
    """Store native records (and deletions) as a harvest does, and bring the node's index up to date."""
    import json

    from harvester.index import catch_up, open_backend
    from harvester.store import Item, Store
    cfg = config.load(cfg_path)
    with Store(cfg.store_path) as store:
        if records:
            store.apply_batch([Item(r["origin"]["source"], r["origin"]["identifier"], r, raw=json.dumps(r),
                                    format="pops") for r in records])
        if delete:
            store.apply_batch([Item(source, identifier) for source, identifier in delete])
        with open_backend(cfg, store) as index:
            catch_up(index, store)


class NodeServer:
    def __init__(self, config_path, port: int = 0):
        self.cfg = config.load(config_path)
        port = port or free_port()
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.app = create_app(self.cfg)
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"node did not start on {self.url}")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)
