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
