"""Hostile XML: external entities and entity bombs are refused before any parsing happens."""
import time

import pytest

from harvester.xmlsafe import MalformedXML, UnsafeXML, parse_bytes

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<r>&xxe;</r>"""

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd">
<r>x</r>"""


def test_xxe_is_refused():
    with pytest.raises(UnsafeXML, match="entities"):
        parse_bytes(XXE, "xxe.xml")


def test_billion_laughs_is_refused_quickly():
    t0 = time.monotonic()
    with pytest.raises(UnsafeXML):
        parse_bytes(BOMB, "bomb.xml")
    assert time.monotonic() - t0 < 1.0


def test_external_dtd_is_refused():
    with pytest.raises(UnsafeXML, match="external DTD"):
        parse_bytes(EXTERNAL_DTD, "dtd.xml")


def test_undeclared_entity_is_a_clear_error_with_line():
    with pytest.raises(MalformedXML, match=r"bogus.xml: line 2"):
        parse_bytes(b"<r>\n&bogus;</r>", "bogus.xml")


def test_invalid_utf8_is_reported_not_crashing():
    with pytest.raises(MalformedXML, match="bad.xml"):
        parse_bytes(b'<?xml version="1.0" encoding="UTF-8"?><r>\xff\xfe</r>', "bad.xml")


def test_declared_latin1_is_read():
    root = parse_bytes('<?xml version="1.0" encoding="ISO-8859-1"?><r>Malé</r>'.encode("latin-1")).getroot()
    assert root.text == "Malé"


# A document's encoding hides nothing: the check reads it as the parser will.
ENTITY_DOC = ('<?xml version="1.0" encoding="{enc}"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
              "<r>&xxe;</r>")
SYSTEM_DOC = '<?xml version="1.0" encoding="{enc}"?>\n<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd">\n<r>x</r>'


@pytest.mark.parametrize("enc, codec, bom", [
    ("UTF-16", "utf-16-le", b"\xff\xfe"), ("UTF-16", "utf-16-be", b"\xfe\xff"),   # with a byte order mark
    ("UTF-16LE", "utf-16-le", b""), ("UTF-16BE", "utf-16-be", b""),               # without one
    ("UTF-32", "utf-32-le", b"\xff\xfe\x00\x00"), ("UTF-32", "utf-32-be", b"\x00\x00\xfe\xff"),
])
def test_entities_declared_in_utf16_and_utf32_are_refused(enc, codec, bom):
    with pytest.raises(UnsafeXML, match="wide.xml: declares XML entities"):
        parse_bytes(bom + ENTITY_DOC.format(enc=enc).encode(codec), "wide.xml")
    with pytest.raises(UnsafeXML, match="external DTD"):
        parse_bytes(bom + SYSTEM_DOC.format(enc=enc).encode(codec), "wide.xml")


def test_entities_spelled_in_utf7_are_refused():
    """In UTF-7 '<' may be written '+ADw-': no '<!ENTITY' in the bytes, yet the parser reads one."""
    doc = (b'<?xml version="1.0" encoding="UTF-7"?>+ADw-!DOCTYPE r +AFs-+ADw-!ENTITY a +ACI-boom+ACI-+AD4-+AF0-+AD4-'
           b"<r>&a;</r>")
    assert b"<!ENTITY" not in doc
    with pytest.raises(UnsafeXML, match="utf7.xml: declares XML entities"):
        parse_bytes(doc, "utf7.xml")


def test_the_check_alone_refuses_utf16_entities():
    """RDF/XML goes to rdflib's own parser after check_prolog alone (harvester/crosswalks/dcat.py)."""
    from harvester.xmlsafe import check_prolog
    with pytest.raises(UnsafeXML):
        check_prolog(b"\xff\xfe" + ENTITY_DOC.format(enc="UTF-16").encode("utf-16-le"), "rdf.xml")


def test_a_utf16_document_without_entities_is_read():
    doc = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r><r>Malé 多氯联苯</r>'
    assert parse_bytes(b"\xff\xfe" + doc.encode("utf-16-le")).getroot().text == "Malé 多氯联苯"
    assert parse_bytes(doc.encode("utf-16-be")).getroot().text == "Malé 多氯联苯"
