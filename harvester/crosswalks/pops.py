"""The native `pops` format: the record itself in XML, lossless between nodes."""
from __future__ import annotations

from .. import popsxml
from ..raw import RawRecord
from . import Crosswalk, register
from .xmlsplit import expect_root, split_xml

TAGS = {popsxml.ROOT}


def extract(raw: RawRecord) -> dict:
    return popsxml.from_element(expect_root(raw, TAGS, "pops"))


def split(data: bytes, where: str):
    return split_xml(data, where, TAGS, lambda el: el.findtext(f"{{{popsxml.NS}}}id") or "", "pops")


register(Crosswalk("pops", extract, split, "native POPs record XML (urn:pops-chm:record:1), lossless", native=True))
