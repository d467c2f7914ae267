"""The native `pops` XML format: record <-> XML, and its XML Schema, all derived from the JSON Schema.

Rules, applied to every property in schema order:
  text map (langText)        -> one element per language: <title xml:lang="fr">...</title>
  text-list map (langTextList) -> one element per text:   <keywords xml:lang="en">...</keywords>
  list                       -> the element repeated, once per item
  object                     -> an element holding its properties as children
  scalar                     -> an element holding the value as text
So the XML carries exactly the record, and XML -> record gives back what record -> XML was given.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from lxml import etree

from .record import canonical, schema

NS = "urn:pops-chm:record:1"
XML_NS = "http://www.w3.org/XML/1998/namespace"
LANG_ATTR = f"{{{XML_NS}}}lang"
ROOT = f"{{{NS}}}record"
SCHEMA_LOCATION = "pops.xsd"


@dataclass(frozen=True)
class Field:
    name: str
    kind: str                  # lang | langlist | object | scalar
    repeated: bool = False
    scalar: str = "string"     # string | integer | number
    children: tuple = ()       # Fields of an object
    required: bool = False
    facets: tuple = ()         # (pattern, minLength, enum) for the XSD


def _resolve(node: dict) -> tuple[str | None, dict]:
    name = None
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema()["$defs"][name]
    return name, node


def _field(name: str, node: dict, required: bool) -> Field:
    defname, node = _resolve(node)
    if defname == "langText":
        return Field(name, "lang", required=required)
    if defname == "langTextList":
        return Field(name, "langlist", required=required)
    if node.get("type") == "array":
        item = _field(name, node["items"], False)
        return Field(name, item.kind, True, item.scalar, item.children, required, item.facets)
    if node.get("type") == "object":
        return Field(name, "object", children=_fields(node), required=required)
    scalar = node.get("type", "string")
    facets = (node.get("pattern"), node.get("minLength"), tuple(node.get("enum", ())))
    return Field(name, "scalar", scalar=scalar, required=required, facets=facets)


def _fields(node: dict) -> tuple:
    req = set(node.get("required", ()))
    return tuple(_field(k, v, k in req) for k, v in node["properties"].items())


@lru_cache(maxsize=1)
def record_fields() -> tuple:
    return _fields(schema())


# ---------------------------------------------------------------- record -> XML

def to_element(record: dict) -> etree._Element:
    root = etree.Element(ROOT, nsmap={"pops": NS})
    _write(root, record_fields(), canonical(record))
    return root


def to_xml(record: dict) -> bytes:
    return etree.tostring(to_element(record), encoding="UTF-8", xml_declaration=True, pretty_print=True)


def _write(parent, fields, data: dict):
    for f in fields:
        if f.name not in data:
            continue
        value = data[f.name]
        tag = f"{{{NS}}}{f.name}"
        if f.kind == "lang":
            for lang, text in value.items():
                etree.SubElement(parent, tag, {LANG_ATTR: lang}).text = text
        elif f.kind == "langlist":
            for lang, texts in value.items():
                for text in texts:
                    etree.SubElement(parent, tag, {LANG_ATTR: lang}).text = text
        else:
            for item in (value if f.repeated else [value]):
                el = etree.SubElement(parent, tag)
                if f.kind == "object":
                    _write(el, f.children, item)
                else:
                    el.text = repr(item) if f.scalar == "number" else str(item)


# ---------------------------------------------------------------- XML -> record

class PopsXMLError(ValueError):
    pass


def from_element(root: etree._Element) -> dict:
    if root.tag != ROOT:
        raise PopsXMLError(f"expected <pops:record> in namespace {NS}, found <{etree.QName(root).localname}>")
    return _read(root, record_fields())


def from_xml(data: bytes) -> dict:
    from .xmlsafe import parse_bytes
    return from_element(parse_bytes(data).getroot())


def _read(parent, fields) -> dict:
    by_name = {f.name: f for f in fields}
    out: dict = {}
    for el in parent:
        if not isinstance(el.tag, str):
            continue  # comments, processing instructions
        q = etree.QName(el)
        f = by_name.get(q.localname)
        if q.namespace != NS or f is None:
            raise PopsXMLError(f"line {el.sourceline}: unexpected element <{q.localname}>")
        if f.kind in ("lang", "langlist"):
            lang = el.get(LANG_ATTR) or "und"
            text = el.text or ""
            if f.kind == "lang":
                out.setdefault(f.name, {})[lang] = text
            else:
                out.setdefault(f.name, {}).setdefault(lang, []).append(text)
            continue
        value = _read(el, f.children) if f.kind == "object" else _scalar(f, el)
        if f.repeated:
            out.setdefault(f.name, []).append(value)
        else:
            out[f.name] = value
    return out


def _scalar(f: Field, el):
    text = (el.text or "").strip()
    try:
        if f.scalar == "integer":
            return int(text)
        if f.scalar == "number":
            return float(text)
    except ValueError:
        raise PopsXMLError(f"line {el.sourceline}: <{f.name}> must be a {f.scalar}, got {text!r}") from None
    return el.text or ""


# ---------------------------------------------------------------- the XML Schema

XS = "http://www.w3.org/2001/XMLSchema"


def xsd() -> bytes:
    """The XML Schema of the pops format, generated from the JSON Schema (schemas/pops.xsd is this output)."""
    E = lambda tag, parent=None, **attrs: (etree.SubElement(parent, f"{{{XS}}}{tag}", attrs)
                                           if parent is not None else etree.Element(f"{{{XS}}}{tag}", attrs, nsmap={"xs": XS, "pops": NS}))
    root = E("schema", targetNamespace=NS, elementFormDefault="qualified")
    root.insert(0, etree.Comment(" Generated from pops_record.schema.json by harvester.popsxml.xsd(); do not edit by hand. "))
    E("import", root, namespace=XML_NS, schemaLocation="xml.xsd")
    E("element", root, name="record", type="pops:record")
    lang = E("complexType", root, name="langString")
    ext = E("extension", E("simpleContent", lang), base="xs:string")
    E("attribute", ext, ref="xml:lang", use="required")
    _complex(E, E("complexType", root, name="record"), record_fields())
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True)


def _complex(E, ctype, fields):
    seq = E("sequence", ctype)
    for f in fields:
        many = f.repeated or f.kind in ("lang", "langlist")
        attrs = {"name": f.name, "minOccurs": "1" if f.required else "0"}
        if many:
            attrs["maxOccurs"] = "unbounded"
        if f.kind in ("lang", "langlist"):
            E("element", seq, type="pops:langString", **attrs)
        elif f.kind == "object":
            _complex(E, E("complexType", E("element", seq, **attrs)), f.children)
        elif f.scalar in ("integer", "number"):
            E("element", seq, type="xs:integer" if f.scalar == "integer" else "xs:double", **attrs)
        else:
            el = E("element", seq, **attrs)
            restriction = E("restriction", E("simpleType", el), base="xs:string")
            pattern, min_length, enum = f.facets
            for v in enum:
                E("enumeration", restriction, value=str(v))
            if pattern:
                E("pattern", restriction, value=pattern.lstrip("^").rstrip("$"))
            if min_length:
                E("minLength", restriction, value=str(min_length))
