"""The CQL parser and its translation into the index's boolean query (harvester/cql.py): syntax, indexes,
relations, vocabularies, sorting, every diagnostic it gives, and that nothing a user writes becomes anything
but words and values (the backends' side of that is tests/test_search_boolean.py)."""
from __future__ import annotations

import random

import pytest

from harvester.cql import Boolean, Clause, CQLError, Modifier, Parsed, Search, SortKey, parse, translate
from harvester.index import And, Equals, Not, Or, Range, Words


def search(text: str) -> Search:
    return translate(parse(text))


def where(text: str):
    s = search(text)
    assert s.text == "", "expected the whole query in where"
    return s.where


# ----------------------------------------------------------------------------------------------- syntax


def test_a_bare_term_is_server_choice():
    assert search("and") == Search("and", None, None)        # a word like any other when it is alone
    assert parse("PCB") == Parsed(Clause(("cql", "serverchoice"), "=", "PCB", (), 1))
    assert parse('"polychlorinated biphenyls"').root.term == "polychlorinated biphenyls"


def test_search_clause_with_relation_and_modifiers():
    p = parse("dc.title any/ignoreCase/cql.ignoreAccents PCB")
    assert p.root == Clause(("dc", "title"), "any", "PCB", (Modifier("ignorecase"), Modifier("cql.ignoreaccents")), 1)
    p = parse("dc.title=PCB")                       # no spaces needed around a symbol
    assert p.root == Clause(("dc", "title"), "=", "PCB", (), 1)
    assert parse("pops.year>=2019").root.relation == ">="
    assert parse("dc.title <> x").root.relation == "<>"


def test_quoted_terms_and_escapes():
    assert parse(r'"a \"quoted\" back\\slash"').root.term == 'a "quoted" back\\slash'
    assert parse(r'"literal \* \? \^"').root.term == "literal * ? ^"
    assert parse(r'dc.title = "(x) and <y> = z/w"').root.term == "(x) and <y> = z/w"
    assert parse('dc.title = ""').root.term == ""
    assert parse("dc.title = and").root.term == "and"          # a boolean word can be a term


def test_booleans_are_left_associative_and_case_insensitive():
    a, b, c = (Clause(("cql", "serverchoice"), "=", t, (), p) for t, p in (("a", 1), ("b", 6), ("c", 12)))
    assert parse("a OR b And c").root == Boolean("and", Boolean("or", a, b, (), 3), c, (), 8)
    p = parse("a or (b and c)")
    assert p.root.op == "or" and p.root.right.op == "and"
    assert parse("DC.TITLE ANY x").root == Clause(("dc", "title"), "any", "x", (), 1)


def test_sort_by():
    p = parse("PCB sortBy dc.date/sort.descending dc.title")
    assert p.sort_keys == (SortKey(("dc", "date"), (Modifier("sort.descending"),), 12), SortKey(("dc", "title"), (), 36))
    assert parse("x SORTBY dc.title").sort_keys[0].index == ("dc", "title")


def test_prefix_assignments():
    assert parse('>d="info:srw/cql-context-set/1/dc-v1.1" d.title = x').root.index == ("dc", "title")
    assert parse('>"info:srw/cql-context-set/1/dc-v1.1" title = x').root.index == ("dc", "title")
    p = parse('(>d="urn:pops-chm:cql-context-set:1" d.country = KE) and title = x')
    assert p.root.left.index == ("pops", "country") and p.root.right.index == ("dc", "title")


def test_unqualified_index_names_are_found_in_the_known_sets():
    assert where("title = PCB") == Words("PCB", "title", "all")
    assert where("chemical = PCB") == Equals("chemicals", ("pcb",))
    assert search("anywhere = PCB").text == "PCB"


# ----------------------------------------------------------------------------------------------- translation


def test_text_indexes_and_relations():
    assert search("PCB") == Search("PCB", None, None)                    # the query's text: ranked, highlighted
    assert search('cql.anywhere all "PCB Kenya"') == Search("PCB Kenya", None, None)
    assert where('"open burning"') == Words("open burning", "any", "phrase")
    assert where('dc.title adj "open burning"') == Words("open burning", "title", "phrase")
    assert where('dc.description any "pcb dioxin"') == Or(Words("pcb", "description"), Words("dioxin", "description"))
    assert where("dc.subject = transformers") == Words("transformers", "keywords", "all")
    assert where("dc.creator = Ministry") == Words("Ministry", "other", "all")
    assert where("dc.publisher = Ministry") == Words("Ministry", "other", "all")
    assert where('dc.title <> "open burning"') == Not(Words("open burning", "title", "phrase"))
    assert search("cql.allRecords = 1") == Search("", None, None)


def test_a_word_of_the_whole_text_at_the_top_becomes_the_query_text():
    s = search("PCB and pops.country = KE")
    assert s == Search("PCB", Equals("countries", ("KE",)), None)
    s = search("pops.country = KE and PCB and dioxin")
    assert s == Search("PCB", And(Equals("countries", ("KE",)), Words("dioxin")), None)
    assert search("PCB or dioxin").text == ""                              # not when it is optional
    assert search("pops.country = KE not PCB").text == ""                  # nor negated


def test_booleans_translate_and_flatten():
    assert search("a and b and c and d") == Search("a", And(Words("b"), Words("c"), Words("d")), None)
    def t(w):
        return Words(w, "title", "all")
    assert where("title=a and title=b and title=c") == And(t("a"), t("b"), t("c"))
    assert where("a or b or c") == Or(Words("a"), Words("b"), Words("c"))
    assert where("(a or b) not c") == And(Or(Words("a"), Words("b")), Not(Words("c")))
    assert where("cql.allRecords = 1 not dc.type = legislation") == Not(Equals("type", ("legislation",)))
    chain = " and ".join(f"w{i}" for i in range(40))          # 40 clauses: flat, within the index's limits
    assert len(where(f"pops.year = 2019 or ({chain})").items[1].items) == 40


def test_vocabularies_name_values_in_any_language():
    assert where("pops.country = Kenya") == Equals("countries", ("KE",))
    assert where("pops.country = ke") == Equals("countries", ("KE",))
    assert where("pops.country = KEN") == Equals("countries", ("KE",))
    assert where('pops.country any "KE TZ"') == Or(Equals("countries", ("KE",)), Equals("countries", ("TZ",)))
    assert where('pops.country all "KE TZ"') == And(Equals("countries", ("KE",)), Equals("countries", ("TZ",)))
    for name in ("pcb", "PCB", "多氯联苯", "ПХБ", "polychlorobiphényles", "1336-36-3", '"bifenilos policlorados"'):
        assert where(f"pops.chemical = {name}") == Equals("chemicals", ("pcb",)), name
    assert where('dc.type = "National report"') == Equals("type", ("national_report",))
    assert where('dc.type = "informe nacional"') == Equals("type", ("national_report",))
    assert where("pops.type = legislation") == Equals("type", ("legislation",))
    assert where("dc.language = French") == Equals("languages", ("fr",))
    assert where("dc.language = fra") == Equals("languages", ("fr",))
    assert where("pops.region = GRULAC") == Equals("regions", ("grulac",))
    assert where('pops.region = "African States"') == Equals("regions", ("africa",))
    assert where("pops.assistance = financial") == Or(Equals("assistance_kind", ("financial",)),
                                                      Equals("assistance_status", ("financial",)))
    assert where("dc.identifier = ke:moe:1") == Equals("id", ("ke:moe:1",))
    assert where("pops.node = ke") == Equals("origin_node", ("ke",))
    assert where("pops.source = ke-moe") == Equals("source", ("ke-moe",))
    # not in a vocabulary: the value as written, which then matches only where it is one
    assert where("pops.country = Atlantis") == Equals("countries", ("Atlantis",))
    assert where("pops.chemical = unobtainium") == Equals("chemicals", ("unobtainium",))


def test_years_and_dates():
    assert where("pops.year = 2019") == Range("year", 2019, 2019)
    assert where("pops.year < 2019") == Range("year", None, 2018)
    assert where("pops.year > 2019") == Range("year", 2020, None)
    assert where('pops.year within "2010 2019"') == Range("year", 2010, 2019)
    assert where("pops.year <> 2019") == Not(Range("year", 2019, 2019))
    assert where("dc.date = 2019") == Range("issued", "2019-01-01T00:00:00Z", "2019-12-31T23:59:59Z")
    assert where("dc.date > 2019-05") == Range("issued", "2019-05-31T23:59:59Z", None, low_inclusive=False)
    assert where("dc.date <= 2019-05-17") == Range("issued", None, "2019-05-17T23:59:59Z")
    assert where('dc.date within "2019 2020-06"') == Range("issued", "2019-01-01T00:00:00Z", "2020-06-30T23:59:59Z")
    assert where("rec.lastModificationDate >= 2024-01-01T10:00:00Z") == Range("datestamp", "2024-01-01T10:00:00Z", None)
    assert where("pops.harvested > 2024") == Range("harvested", "2024-12-31T23:59:59Z", None, low_inclusive=False)
    assert where('pops.year within "2020 2010"') == Or()                   # an empty range: nothing


def test_sorts():
    assert search("PCB sortBy dc.title").sort == "title"
    assert search("PCB sortBy dc.date").sort == "oldest"
    assert search("PCB sortBy dc.date/sort.descending").sort == "newest"
    assert search("PCB sortBy pops.year/sort.ascending").sort == "oldest"
    assert search("PCB sortBy pops.harvested/sort.descending").sort == "recent"
    assert search("PCB sortBy title/sort.ignoreCase").sort == "title"
    assert search("PCB").sort is None


# ----------------------------------------------------------------------------------------------- diagnostics


DIAGNOSTICS = [
    ("", 10, "empty"),
    ("   ", 10, "empty"),
    ("and and", 10, "a search term is missing after 'and' at character 5"),
    ("PCB and", 10, "a search term is missing after 'and' at character 5"),
    ("PCB Kenya", 10, "after the relation 'Kenya' at character 5"),
    ("= PCB", 10, "at the start of the query"),
    ("dc.title =", 10, "after the relation '=' at character 10"),
    ("a b c d", 10, "unexpected 'd' at character 7"),
    ("x sortBy", 10, "sortBy at character 3 names no index"),
    ("(a and b", 13, "'(' at character 1 is never closed"),
    ("a and b)", 13, "unexpected ')' at character 8"),
    ("()", 13, "unexpected ')' at character 2"),
    ("(" * 13 + "a" + ")" * 13, 13, "nested more than 12"),
    ('"unterminated', 14, "quoted term at character 1 has no closing quote"),
    ('dc.title = "a \\"', 14, "character 12"),
    (">x=\"http://example.org/set\" x.title = a", 15, "unsupported context set 'http://example.org/set'"),
    ("foo.title = a", 15, "unsupported context set 'foo'"),
    ("dc.rights = a", 16, "unsupported index 'dc.rights' at character 1"),
    ("pops.secret = a", 16, "unsupported index 'pops.secret'"),
    ("dc.title == a", 19, "unsupported relation '==' for dc.title"),
    ("dc.title < a", 19, "unsupported relation '<'"),
    ("dc.title encloses a", 19, "unsupported relation 'encloses'"),
    ("pops.country > KE", 19, "unsupported relation '>' for pops.country"),
    ("pops.year any 2019", 19, "unsupported relation 'any' for pops.year"),
    ("cql.allRecords any 1", 19, "cql.allRecords"),
    ("dc.title =/respectCase a", 20, "unsupported relation modifier /respectcase"),
    ("dc.title =/locale=fr a", 20, "/locale"),
    ("dc.title = " + "x" * 1001, 23, "longer than 1000"),
    (r'dc.title = "a\b"', 26, "'\\b' escapes a character that needs no escape"),
    ("dc.title = a\\", 26, "lone backslash"),
    ('dc.title = ""', 27, "empty term in 'dc.title =' at character 1"),
    ('pops.country = "  "', 27, "empty term"),
    ("dc.title = PCB*", 28, "masking character '*'"),
    ('"{!lucene}*:*"', 28, "masking character"),
    ("dc.title = PC?", 28, "masking character '?'"),
    ("dc.title = ^PCB", 31, "anchoring character"),
    ("pops.year = twenty", 36, "'twenty' is not a year"),
    ("dc.date = 2019-13", 36, "invalid date '2019-13'"),
    ("dc.date = yesterday", 36, "invalid date 'yesterday'"),
    ("dc.date within 2019", 36, "takes two values"),
    (" and ".join(["a"] * 65), 38, "more than 63 boolean operators"),
    ("a prox b", 39, "proximity"),
    ("a prox/unit=word b", 46, "boolean modifier /unit=word".split("=")[0]),
    ("a and/rel.combine=sum b", 46, "boolean modifier /rel.combine"),
    ("x sortBy dc.title dc.date", 84, "more than one key"),
    ("x sortBy dc.subject", 88, "cannot sort by dc.subject"),
    ("x sortBy dc.nothing", 16, "unsupported index 'dc.nothing' to sort by"),
    ("x sortBy dc.title/sort.descending", 90, "cannot be sorted descending"),
    ("x sortBy pops.harvested", 90, "cannot be sorted ascending"),
    ("x sortBy dc.title/sort.respectCase", 91, "case-sensitive"),
    ("x sortBy dc.date/sort.missingHigh", 92, "missinghigh"),
    ("x sortBy dc.date/sort.locale=fr", 20, "unsupported sort modifier"),
    ("x" * 4001, 12, "longer than 4000 characters"),
]


@pytest.mark.parametrize("text,code,message", DIAGNOSTICS, ids=[d[0][:40] or "empty" for d in DIAGNOSTICS])
def test_diagnostics(text, code, message):
    with pytest.raises(CQLError) as info:
        search(text)
    assert info.value.code == code, info.value.message
    assert message in info.value.message
    assert info.value.uri == f"info:srw/diagnostic/1/{code}"


def test_a_query_too_big_for_the_index_is_a_diagnostic_not_a_crash():
    many = " or ".join(f"pops.country = C{i}" for i in range(60))
    assert len(where(many).items) == 60
    too_deep = "x0"
    for i in range(1, 12):              # 11 parentheses deep: within the parser's limits ...
        too_deep = f"x{i} not ({too_deep})"
    with pytest.raises(CQLError) as info:              # ... but deeper than the index takes
        search(too_deep)
    assert info.value.code == 38 and "nested more than" in info.value.message


# ----------------------------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize("text,expected", [
    (r'"{!lucene}\*:\*"', Search("{!lucene}*:*", None, None)),
    ('dc.title = "title:PCB OR id:x"', Search("", Words("title:PCB OR id:x", "title", "phrase"), None)),
    ('pops.country = "{!terms f=id}x"', Search("", Equals("countries", ("{!terms f=id}x",)), None)),
    ('dc.identifier = "x\\" OR id:\\*"', Search("", Equals("id", ('x" OR id:*',)), None)),
    ('pops.type = "national_report) OR (type:x"', Search("", Equals("type", ("national_report) OR (type:x",)), None)),
    ("dc.title = 'x'--", Search("", Words("'x'--", "title", "all"), None)),
    ('dc.title = "NEAR(a b)"', Search("", Words("NEAR(a b)", "title", "phrase"), None)),
    ('"x\'); DROP TABLE records; --"', Search("", Words("x'); DROP TABLE records; --", "any", "phrase"), None)),
])
def test_hostile_terms_stay_words_and_values(text, expected):
    assert search(text) == expected


def test_random_input_never_fails_but_with_a_diagnostic():
    rng = random.Random(20240611)
    alphabet = ['a', 'PCB', ' ', ' ', '(', ')', '"', '\\', '/', '=', '<', '>', '==', 'and', 'or', 'not', 'prox',
                'sortBy', 'dc.title', 'pops.year', 'pops.country', '2019', '*', '?', '^', '>dc=', 'any', 'within',
                '{!lucene}', ':', '\x00', '中', 'é', '\ud800']
    outcomes = {"ok": 0, "diagnostic": 0}
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 14)))
        try:
            s = search(text)
        except CQLError as err:
            assert 1 <= err.code <= 96 and err.message
            outcomes["diagnostic"] += 1
        else:
            assert isinstance(s.text, str)
            outcomes["ok"] += 1
    assert outcomes["ok"] > 100 and outcomes["diagnostic"] > 100
