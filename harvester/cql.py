"""CQL, the Contextual Query Language of SRU (version 1.2 as the LOC and OASIS specifications define it):
a parser to a small syntax tree, and its translation into the search index's boolean query
(:mod:`harvester.index`: Words, Equals, Range, And, Or, Not) and sort.

    from harvester import cql
    from harvester.index import Query
    parsed = cql.parse('dc.title any "PCB dioxin" and pops.country = Kenya sortBy dc.date/sort.descending')
    search = cql.translate(parsed)
    # Search(text='', where=And(Or(Words('PCB', 'title'), Words('dioxin', 'title')),
    #                           Equals('countries', ('KE',))), sort='newest')
    index.search(Query(search.text, where=search.where, sort=search.sort or "relevance"))

Anything wrong raises :class:`CQLError` carrying the SRU diagnostic number (``info:srw/diagnostic/1/<code>``),
a message naming the place (``character 12``) or the word, and the diagnostic's details.

Syntax (CQL 1.2)
----------------
``index relation term`` search clauses; a bare term (``PCB``, ``"polychlorinated biphenyls"``) is
``cql.serverChoice = term``. Terms are words (no white space nor ``( ) = < > " /``) or double-quoted strings
in which ``\\"`` and ``\\\\`` stand for ``"`` and ``\\``; ``\\*``, ``\\?`` and ``\\^`` for those characters
literally. Boolean operators ``and``, ``or``, ``not`` (and-not) and ``prox`` bind left to right with equal
precedence; parentheses group. Relations are ``=  ==  <>  <  >  <=  >=`` or named (``any all adj exact
within``), optionally with modifiers (``=/ignoreCase``). ``sortBy index[/sort.descending] ...`` ends a query.
Words are case-insensitive: boolean operators, relations, modifiers, index names. Prefix assignments
(``>dc="info:srw/cql-context-set/1/dc-v1.1"``) may rename a known context set; any other set is refused.

What is refused, and with which diagnostic: syntax (10), a query over MAX_QUERY_CHARS characters (12),
unbalanced or too deeply nested parentheses (13), an unterminated quote (14), an unknown context set (15),
index (16), relation (19) or relation modifier (20), a term over MAX_TERM_CHARS characters (23), a needless
escape (26), an empty term (27), masking ``*`` ``?`` (28) and anchoring ``^`` (31) characters, a term that
is no year or date where one is needed (36), a boolean operator other than and/or/not (37), too many
boolean operators or conditions (38), ``prox`` (39: proximity is not supported), boolean modifiers (46),
more than one sort key (84), an index that cannot be sorted on (88), a direction it cannot be sorted in (90),
case-sensitive sorting (91), missing-value actions (92).

Indexes and what they search (:data:`INDEXES`)
----------------------------------------------
``cql.serverChoice``, ``cql.anywhere``: every text field, where a chemical named in any of the six
languages also finds the records about it; ``dc.title``, ``dc.description``, ``dc.subject`` (keywords),
``dc.creator`` and ``dc.publisher`` (both search the names and other text of a record: creators,
publisher, the assistance provider and texts); ``cql.allRecords``: every record. Text relations: ``=`` and
``adj`` (the words as a phrase), ``all``, ``any``, ``<>`` (not the phrase). Equality indexes (relations
``= == exact adj``, ``any`` and ``all`` over the words of the term, ``<>``): ``dc.type``/``pops.type``
(document type id or its name in a UN language), ``dc.language`` (code or name), ``pops.chemical`` (id,
name, synonym or CAS number in any of the six languages; a term naming several, ``PCDD/PCDF``, stands for
each), ``pops.country`` (ISO code or name),
``pops.region``, ``pops.source`` (the source of this node a record came in by, as the OAI-PMH sets
``source:<id>``), ``pops.originSource`` (the source's id at the origin node), ``pops.node`` (the origin
node), ``pops.assistance`` (an assistance kind or status), ``dc.identifier``/``rec.identifier`` (the record id). Ordered indexes (also ``< > <= >=`` and
``within "LOW HIGH"``): ``pops.year``; the dates ``dc.date`` (date of issue), ``rec.lastModificationDate``
(datestamp) and ``pops.harvested`` (when this node stored it), a date standing for its whole period
(``dc.date = 2019`` is any day of 2019). An index without its context set (``title``) is looked up in dc,
then pops, cql and rec.

Sort keys (``sortBy``): ``dc.title`` (ascending), ``dc.date`` and ``pops.year`` (ascending: oldest first,
the default, or ``/sort.descending``: newest first), ``pops.harvested/sort.descending`` (most recently
stored first).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from . import enrich, vocab
from .index import And, Equals, Not, Or, Range, Words, check_where, date_period, fold, plan_query

MAX_QUERY_CHARS = 4000
MAX_TERM_CHARS = 1000
MAX_BOOLEANS = 63
MAX_DEPTH = 12
DIAGNOSTIC_URI = "info:srw/diagnostic/1/"

CONTEXT_SETS = {
    "cql": "info:srw/cql-context-set/1/cql-v1.2",
    "dc": "info:srw/cql-context-set/1/dc-v1.1",
    "rec": "info:srw/cql-context-set/2/rec-1.1",
    "pops": "urn:pops-chm:cql-context-set:1",
}
_SET_OF_URI = {**{uri: name for name, uri in CONTEXT_SETS.items()},
               "info:srw/cql-context-set/1/cql-v1.1": "cql", "info:srw/cql-context-set/1/dc-v1.0": "dc",
               "info:srw/cql-context-set/2/rec-1.0": "rec"}
_UNQUALIFIED_ORDER = ("dc", "pops", "cql", "rec")

BOOLEANS = ("and", "or", "not", "prox")
_SYMBOLS = ("==", "<>", "<=", ">=", "=", "<", ">")
_NOT_IN_WORDS = set('()=<>"/')


class CQLError(ValueError):
    """A query that cannot be run: ``code`` is the SRU diagnostic number, ``details`` its details field."""

    def __init__(self, code: int, message: str, details: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    @property
    def uri(self) -> str:
        return f"{DIAGNOSTIC_URI}{self.code}"


# ----------------------------------------------------------------------------------------------- syntax tree


@dataclass(frozen=True)
class Modifier:
    name: str                  # lower case, as written: "ignorecase", "sort.descending", "cql.locale"
    comparison: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class Clause:
    """``index relation term``: index as (context set, name), both lower case; relation lower case."""

    index: tuple[str, str]
    relation: str
    term: str
    modifiers: tuple[Modifier, ...] = ()
    pos: int = 0               # 1-based character of the clause in the query


@dataclass(frozen=True)
class Boolean:
    op: str                    # and, or, not, prox
    left: Any
    right: Any
    modifiers: tuple[Modifier, ...] = ()
    pos: int = 0


@dataclass(frozen=True)
class SortKey:
    index: tuple[str, str]
    modifiers: tuple[Modifier, ...] = ()
    pos: int = 0


@dataclass(frozen=True)
class Parsed:
    root: Any                  # a Clause or a Boolean
    sort_keys: tuple[SortKey, ...] = ()


# ----------------------------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class _Token:
    kind: str                  # ( ) / rel word string end
    text: str                  # strings: between the quotes, escapes kept
    pos: int                   # 1-based

    def shown(self) -> str:
        return "the end of the query" if self.kind == "end" else f"{_short(self.text)!r} at character {self.pos}"


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _tokens(text: str) -> list[_Token]:
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()/":
            out.append(_Token(c, c, i + 1))
            i += 1
        elif c in "=<>":
            sym = next(s for s in _SYMBOLS if text.startswith(s, i))
            out.append(_Token("rel", sym, i + 1))
            i += len(sym)
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                raise CQLError(14, f"the quoted term at character {i + 1} has no closing quote", str(i + 1))
            out.append(_Token("string", text[i + 1:j], i + 1))
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in _NOT_IN_WORDS:
                j += 2 if text[j] == "\\" and j + 1 < n else 1
            out.append(_Token("word", text[i:j], i + 1))
            i = j
    out.append(_Token("end", "", n + 1))
    return out


def term_text(raw: str, pos: int = 0) -> str:
    """A term as written (escapes kept) -> its text: escapes resolved; CQLError for a masking (28) or
    anchoring (31) character, which this server does not support, and for a needless escape (26)."""
    out, i = [], 0
    where = f" (term at character {pos})" if pos else ""
    while i < len(raw):
        c = raw[i]
        if c == "\\":
            if i + 1 == len(raw):
                raise CQLError(26, f"a term ends with a lone backslash{where}", "\\")
            nxt = raw[i + 1]
            if nxt not in '"\\*?^':
                raise CQLError(26, f"'\\{nxt}' escapes a character that needs no escape{where}", nxt)
            out.append(nxt)
            i += 2
            continue
        if c in "*?":
            raise CQLError(28, f"masking character {c!r} is not supported: write \\{c} for the character "
                               f"itself{where}", c)
        if c == "^":
            raise CQLError(31, f"anchoring character '^' is not supported: write \\^ for the character "
                               f"itself{where}", c)
        out.append(c)
        i += 1
    return "".join(out)


# ----------------------------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.i = 0
        self.depth = 0
        self.booleans = 0

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def is_word(self, *words: str) -> bool:
        tok = self.peek()
        return tok.kind == "word" and tok.text.lower() in words

    def expect_term(self, after: str) -> _Token:
        tok = self.peek()
        if tok.kind not in ("word", "string"):
            if tok.kind == ")":
                raise CQLError(13, f"unexpected ')' at character {tok.pos}: a search term is missing {after}",
                               str(tok.pos))
            raise CQLError(10, f"a search term is missing {after}: found {tok.shown()}")
        return self.take()

    def query(self) -> Parsed:
        scope = self.prefixes({})
        root = self.scoped(scope)
        keys: list[SortKey] = []
        if self.is_word("sortby"):
            sortby = self.take()
            while self.peek().kind in ("word", "string"):
                tok = self.take()
                keys.append(SortKey(resolve_index(tok.text, scope), self.modifiers(), tok.pos))
            if not keys:
                raise CQLError(10, f"sortBy at character {sortby.pos} names no index to sort by")
        tok = self.peek()
        if tok.kind == ")":
            raise CQLError(13, f"unexpected ')' at character {tok.pos}: no '(' to close", str(tok.pos))
        if tok.kind != "end":
            raise CQLError(10, f"unexpected {tok.shown()}: expected a boolean operator (and, or, not) or sortBy")
        return Parsed(root, tuple(keys))

    def prefixes(self, scope: dict) -> dict:
        """Prefix assignments at the start of a query or of a parenthesised one."""
        while self.peek().kind == "rel" and self.peek().text == ">":
            start = self.take()
            first = self.expect_term(f"after '>' at character {start.pos}")
            if self.peek().kind == "rel" and self.peek().text == "=":
                self.take()
                prefix, uri = first.text.lower(), self.expect_term("after '=' in a prefix assignment").text
            else:
                prefix, uri = "", first.text
            known = _SET_OF_URI.get(uri)
            if known is None:
                raise CQLError(15, f"unsupported context set {_short(uri)!r} (known: "
                                   f"{', '.join(CONTEXT_SETS.values())})", uri)
            scope = {**scope, prefix: known}
        return scope

    def scoped(self, scope: dict):
        left = self.clause(scope)
        while self.peek().kind == "word" and self.peek().text.lower() in BOOLEANS:
            tok = self.take()
            self.booleans += 1
            if self.booleans > MAX_BOOLEANS:
                raise CQLError(38, f"more than {MAX_BOOLEANS} boolean operators in the query", str(MAX_BOOLEANS))
            mods = self.modifiers()
            right = self.clause(scope)
            left = Boolean(tok.text.lower(), left, right, mods, tok.pos)
        return left

    def clause(self, scope: dict):
        tok = self.peek()
        if tok.kind == "(":
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise CQLError(13, f"parentheses nested more than {MAX_DEPTH} deep at character {tok.pos}",
                               str(tok.pos))
            inner = self.scoped(self.prefixes(scope))
            close = self.peek()
            if close.kind != ")":
                if close.kind == "end":
                    raise CQLError(13, f"the '(' at character {tok.pos} is never closed", str(tok.pos))
                raise CQLError(10, f"unexpected {close.shown()}: expected a boolean operator or ')'")
            self.take()
            self.depth -= 1
            return inner
        prev = self.tokens[self.i - 1] if self.i else None
        first = self.expect_term(f"after {prev.text!r} at character {prev.pos}" if prev else
                                 "at the start of the query")
        nxt = self.peek()
        if nxt.kind == "rel" or (nxt.kind == "word" and nxt.text.lower() not in (*BOOLEANS, "sortby")):
            relation = self.take()
            mods = self.modifiers()
            term = self.expect_term(f"after the relation {_short(relation.text)!r} at character {relation.pos}")
            return Clause(resolve_index(first.text, scope), relation.text.lower(), _term(term), mods, first.pos)
        return Clause(("cql", "serverchoice"), "=", _term(first), (), first.pos)

    def modifiers(self) -> tuple[Modifier, ...]:
        mods = []
        while self.peek().kind == "/":
            slash = self.take()
            name = self.expect_term(f"after '/' at character {slash.pos} (a modifier name)")
            if self.peek().kind == "rel":
                cmp = self.take().text
                value = self.expect_term(f"after {cmp!r} in the modifier {name.text!r}")
                mods.append(Modifier(name.text.lower(), cmp, value.text))
            else:
                mods.append(Modifier(name.text.lower()))
        return tuple(mods)


def _term(tok: _Token) -> str:
    if len(tok.text) > MAX_TERM_CHARS:
        raise CQLError(23, f"the term at character {tok.pos} is longer than {MAX_TERM_CHARS} characters",
                       str(MAX_TERM_CHARS))
    return term_text(tok.text, tok.pos)


def resolve_index(name: str, scope: dict | None = None) -> tuple[str, str]:
    """An index name -> (context set, index), both lower case; a prefix assigned in the query (``scope``:
    prefix -> context set) is followed; a name without a context set is looked up in dc, pops, cql, rec."""
    scope = scope or {}
    prefix, dot, rest = name.lower().rpartition(".")
    if not dot:
        default = scope.get("")
        if default:
            return default, rest
        for cset in _UNQUALIFIED_ORDER:
            if (cset, rest) in INDEXES:
                return cset, rest
        return "", rest
    return scope.get(prefix, prefix), rest


def parse(text: str) -> Parsed:
    """The syntax tree of a CQL query; CQLError (with its diagnostic) when it is not one."""
    if not isinstance(text, str) or not text.strip():
        raise CQLError(10, "the query is empty")
    if len(text) > MAX_QUERY_CHARS:
        raise CQLError(12, f"the query is longer than {MAX_QUERY_CHARS} characters", str(MAX_QUERY_CHARS))
    return _Parser(text).query()


# ----------------------------------------------------------------------------------------------- indexes


@dataclass(frozen=True)
class IndexDef:
    kind: str                  # all, text, equals, year, date, assistance
    target: str = ""           # text: a Words scope; equals: an Equals field; date: a Range field
    title: str = ""
    sort: tuple[str | None, str | None] = (None, None)    # the index sort (ascending, descending), if any


INDEXES: dict[tuple[str, str], IndexDef] = {
    ("cql", "serverchoice"): IndexDef("text", "any", "Any text (a chemical also in any of six languages)"),
    ("cql", "anywhere"): IndexDef("text", "any", "Any text (a chemical also in any of six languages)"),
    ("cql", "allrecords"): IndexDef("all", title="Every record"),
    ("dc", "title"): IndexDef("text", "title", "Title", sort=("title", None)),
    ("dc", "description"): IndexDef("text", "description", "Description, abstract"),
    ("dc", "subject"): IndexDef("text", "keywords", "Subject, keywords"),
    ("dc", "creator"): IndexDef("text", "other", "Creators, publisher and other names"),
    ("dc", "publisher"): IndexDef("text", "other", "Creators, publisher and other names"),
    ("dc", "type"): IndexDef("equals", "type", "Document type (id or name)"),
    ("dc", "language"): IndexDef("equals", "languages", "Language (ISO 639-1 code or name)"),
    ("dc", "date"): IndexDef("date", "issued", "Date of issue", sort=("oldest", "newest")),
    ("dc", "identifier"): IndexDef("equals", "id", "Record id"),
    ("rec", "identifier"): IndexDef("equals", "id", "Record id"),
    ("rec", "lastmodificationdate"): IndexDef("date", "datestamp", "Last modified at its source (datestamp)"),
    ("pops", "type"): IndexDef("equals", "type", "Document type (id or name)"),
    ("pops", "chemical"): IndexDef("equals", "chemicals", "Chemical (id, name, synonym or CAS number)"),
    ("pops", "country"): IndexDef("equals", "countries", "Country (ISO 3166-1 code or name)"),
    ("pops", "region"): IndexDef("equals", "regions", "UN regional group (id or name)"),
    ("pops", "year"): IndexDef("year", "year", "Year", sort=("oldest", "newest")),
    ("pops", "source"): IndexDef("equals", "source", "Source id on this node (as in its OAI-PMH sets source:<id>)"),
    ("pops", "originsource"): IndexDef("equals", "origin_source", "Source id at the origin node"),
    ("pops", "node"): IndexDef("equals", "origin_node", "Origin node id"),
    ("pops", "assistance"): IndexDef("assistance", title="Assistance kind or status"),
    ("pops", "harvested"): IndexDef("date", "harvested", "When this node stored the record",
                                    sort=(None, "recent")),
}
"""(context set, index name in lower case) -> what it searches."""

INDEX_NAMES = {("cql", "serverchoice"): "serverChoice", ("cql", "allrecords"): "allRecords",
               ("rec", "lastmodificationdate"): "lastModificationDate", ("pops", "originsource"): "originSource"}
"""Index names as the specifications spell them, where not all lower case."""

_TEXT_MATCH = {"=": "phrase", "adj": "phrase", "all": "all", "any": "any"}
_EQUALITY = ("=", "==", "exact", "adj")
_ORDER = {"<": (None, False), "<=": (None, True), ">": (False, None), ">=": (True, None)}
_ACCEPTED_MODIFIERS = ("ignorecase", "ignoreaccents", "word", "unmasked", "relevant")


def index_name(index: tuple[str, str]) -> str:
    return f"{index[0]}.{INDEX_NAMES.get(index, index[1])}" if index[0] else index[1]


# ----------------------------------------------------------------------------------------------- translation


@dataclass(frozen=True)
class Search:
    """What a CQL query asks the index: ``text`` (a query's text: ranked and highlighted), ``where`` (the rest,
    a checked boolean query, or None), ``sort`` (a sort of harvester.index.SORTS, or None: the default)."""

    text: str
    where: Any
    sort: str | None


def translate(parsed: Parsed) -> Search:
    """A parsed query as the index's Query parts (see Search); CQLError for what the index cannot answer."""
    where = _node(parsed.root)
    try:
        where = check_where(where)
    except ValueError as err:          # the index's limits on the size and depth of a query
        raise CQLError(38, f"the query is too complex: {err}", str(MAX_BOOLEANS)) from None
    text, where = _lift_text(where)
    return Search(text, where, sort_of(parsed.sort_keys))


def _lift_text(where) -> tuple[str, Any]:
    """Words in every text field that must all occur, at the top of the query, become the query's text:
    the same records, ranked by relevance and highlighted."""
    def liftable(node) -> bool:
        return isinstance(node, Words) and node.scope == "any" and node.match == "all"
    if liftable(where):
        return where.text, None
    if isinstance(where, And):
        for i, item in enumerate(where.items):
            if liftable(item):
                rest = where.items[:i] + where.items[i + 1:]
                return item.text, (rest[0] if len(rest) == 1 else And(*rest))
    return "", where


def _node(node):
    if isinstance(node, Clause):
        return _clause(node)
    if node.modifiers:
        raise CQLError(46, f"boolean modifier /{node.modifiers[0].name} (on {node.op!r} at character "
                           f"{node.pos}) is not supported", node.modifiers[0].name)
    if node.op == "prox":
        raise CQLError(39, f"proximity (prox at character {node.pos}) is not supported; for words next to each "
                           f"other use the adj relation", "prox")
    if node.op not in ("and", "or", "not"):
        raise CQLError(37, f"unsupported boolean operator {node.op!r}", node.op)
    left, right = _node(node.left), _node(node.right)
    if node.op == "or":
        return Or(*_flat(Or, left), *_flat(Or, right))
    if node.op == "not":
        right = Not(right)
    return And(*_flat(And, left), *_flat(And, right))


def _flat(kind, node) -> tuple:
    return node.items if type(node) is kind else (node,)


def _clause(c: Clause):
    idx = INDEXES.get(c.index)
    if idx is None:
        name = index_name(c.index)
        if c.index[0] and c.index[0] not in CONTEXT_SETS:
            raise CQLError(15, f"unsupported context set {c.index[0]!r} in the index {name!r} at character "
                               f"{c.pos} (known: {', '.join(CONTEXT_SETS)})", c.index[0])
        raise CQLError(16, f"unsupported index {name!r} at character {c.pos}", name)
    relation = c.relation[4:] if c.relation.startswith("cql.") else c.relation
    _check_modifiers(c)
    where = f"{index_name(c.index)} {relation}"
    if idx.kind == "all":
        if relation != "=":
            raise CQLError(19, f"unsupported relation {relation!r} for cql.allRecords (use =)", relation)
        return And()
    if not c.term.strip():
        raise CQLError(27, f"empty term in '{where}' at character {c.pos}")
    if idx.kind == "text":
        match = _TEXT_MATCH.get(relation)
        if relation == "<>":
            return Not(Words(c.term, idx.target, "phrase"))
        if match is None:
            raise CQLError(19, f"unsupported relation {relation!r} for {index_name(c.index)} (use =, adj, all, any "
                               f"or <>) at character {c.pos}", relation)
        if match == "phrase" and len(c.term.split()) == 1:
            match = "all"        # one word (or one hyphenated chunk): the same, and liftable into the text
        return Words(c.term, idx.target, match)
    if idx.kind in ("equals", "assistance"):
        return _equality(c, idx, relation)
    return _ordered(c, idx, relation)


def _check_modifiers(c: Clause) -> None:
    for m in c.modifiers:
        name = m.name[4:] if m.name.startswith("cql.") else m.name
        if name not in _ACCEPTED_MODIFIERS or m.comparison is not None:
            raise CQLError(20, f"unsupported relation modifier /{m.name} on {index_name(c.index)} at character "
                               f"{c.pos} (supported: {', '.join(_ACCEPTED_MODIFIERS)}; case and accents are "
                               f"always ignored)", m.name)


def _equality(c: Clause, idx: IndexDef, relation: str):
    if relation in _EQUALITY:
        node = _equals(idx, c.term)
    elif relation in ("any", "all"):
        parts = [_equals(idx, w) for w in c.term.split()]
        node = Or(*parts) if relation == "any" else And(*parts)
    elif relation == "<>":
        node = Not(_equals(idx, c.term))
    else:
        raise CQLError(19, f"unsupported relation {relation!r} for {index_name(c.index)} (use =, ==, any, all "
                           f"or <>) at character {c.pos}", relation)
    return node


def _equals(idx: IndexDef, term: str):
    term = term.strip()
    if idx.kind == "assistance":
        return Or(Equals("assistance_kind", (term,)), Equals("assistance_status", (term,)))
    return Equals(idx.target, tuple(_values(idx.target, term)))


def _values(field: str, term: str) -> list[str]:
    """The index values a term stands for: a vocabulary id for a code or a name in any language; otherwise
    the term itself (which then matches only where it is a value)."""
    found: list[str] = []
    if field == "chemicals":       # the term must be nothing but chemicals' names (or ids, CAS numbers)
        plan = plan_query(term)
        found = [term.lower()] if term.lower() in vocab.chemicals() else \
            list(plan.chemicals) if plan.chemicals and not plan.residual else []
    elif field == "countries":
        found = [c for c in [enrich.normalise_country(term)] if c]
    elif field == "regions":
        found = [r for r in [enrich.normalise_region(term)] if r]
    elif field == "languages":
        found = [code for code in [enrich.normalise_language(term)] if code]
    elif field == "type":
        found = [term] if term in vocab.document_types() else _type_ids(term)
    return found or [term]


def _type_ids(term: str) -> list[str]:
    want = fold(term).replace("_", " ").strip()
    return [tid for tid, entry in vocab.document_types().items()
            if want == tid.replace("_", " ") or any(fold(label) == want
                                                    for label in (entry.get("labels") or {}).values())]


def _ordered(c: Clause, idx: IndexDef, relation: str):
    name = index_name(c.index)
    term = c.term.strip()
    if relation == "within":
        bounds = term.split()
        if len(bounds) != 2:
            raise CQLError(36, f"'{name} within' takes two values, low and high ({term!r} at character "
                               f"{c.pos})", term)
        return _range(idx, name, bounds[0], bounds[1], True, True, c.pos)
    if relation in ("=", "==", "exact"):
        return _range(idx, name, term, term, True, True, c.pos)
    if relation == "<>":
        return Not(_range(idx, name, term, term, True, True, c.pos))
    if relation in _ORDER:
        low_inc, high_inc = _ORDER[relation]
        if low_inc is None:
            return _range(idx, name, None, term, True, high_inc, c.pos)
        return _range(idx, name, term, None, low_inc, True, c.pos)
    raise CQLError(19, f"unsupported relation {relation!r} for {name} (use = < > <= >= <> or within) at "
                       f"character {c.pos}", relation)


def _range(idx: IndexDef, name: str, low, high, low_inc: bool, high_inc: bool, pos: int):
    for value in (low, high):
        if value is None:
            continue
        if idx.kind == "year":
            if not re.fullmatch(r"-?[0-9]{1,9}", value):
                raise CQLError(36, f"{value!r} is not a year ({name} at character {pos})", value)
        else:
            try:
                date_period(value)
            except ValueError as err:
                raise CQLError(36, f"{err} ({name} at character {pos})", value) from None
    if idx.kind == "year":
        low = int(low) if low is not None else None
        high = int(high) if high is not None else None
    return Range(idx.target, low, high, low_inc, high_inc)


# ----------------------------------------------------------------------------------------------- sorting


def sort_for(index: tuple[str, str], descending: bool) -> str:
    """The index sort (harvester.index.SORTS) for sorting by an index; CQLError when it cannot be: an
    unknown index (16), one that cannot be sorted on (88), or not in that direction (90)."""
    idx = INDEXES.get(index)
    name = index_name(index)
    if idx is None:
        raise CQLError(16, f"unsupported index {name!r} to sort by", name)
    if idx.sort == (None, None):
        sortable = ", ".join(index_name(k) for k, v in INDEXES.items() if v.sort != (None, None))
        raise CQLError(88, f"cannot sort by {name} (sortable: {sortable})", name)
    chosen = idx.sort[1 if descending else 0]
    if chosen is None:
        direction = "descending" if descending else "ascending"
        raise CQLError(90, f"{name} cannot be sorted {direction}", direction)
    return chosen


def sort_of(keys: tuple[SortKey, ...]) -> str | None:
    """The index sort for a query's sortBy keys (None without any)."""
    if not keys:
        return None
    if len(keys) > 1:
        raise CQLError(84, "sorting by more than one key is not supported", "1")
    key = keys[0]
    descending = False
    for m in key.modifiers:
        name = m.name[5:] if m.name.startswith("sort.") else m.name
        if name in ("ascending", "descending") and m.comparison is None:
            descending = name == "descending"
        elif name == "ignorecase" and m.comparison is None:
            continue
        elif name == "respectcase":
            raise CQLError(91, "case-sensitive sorting is not supported", m.name)
        elif name in ("missinglow", "missinghigh", "missingfail", "missingomit", "missingvalue"):
            raise CQLError(92, f"sort modifier /{m.name} is not supported (records without a value sort last)",
                           m.name)
        else:
            raise CQLError(20, f"unsupported sort modifier /{m.name} at character {key.pos}", m.name)
    return sort_for(key.index, descending)
