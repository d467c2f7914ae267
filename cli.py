"""pops-chm: the node's command line. Click commands only: parse, call the package, print.

Exit status: 0 success; 1 something failed (a record, a source, a search backend); 2 bad usage or a bad
config file; 3 a harvest of the same source is already running.
"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from harvester import config as config_mod

EXIT_FAILED, EXIT_CONFIG, EXIT_BUSY = 1, 2, 3


def _echo_json(obj) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False))


class Ctx:
    def __init__(self, config_path: str | None):
        self.config_path = config_mod.find_config(config_path)
        self._cfg = None

    @property
    def cfg(self):
        if self._cfg is None:
            try:
                self._cfg = config_mod.load(self.config_path)
            except config_mod.ConfigError as exc:
                for p in exc.problems:
                    click.echo(p, err=True)
                sys.exit(EXIT_CONFIG)
            for w in self._cfg.warnings:     # a source that will fail: said, but the node runs
                click.echo(f"warning: {w}", err=True)
        return self._cfg

    def store(self):
        from harvester.store import Store
        return Store(self.cfg.store_path)


pass_ctx = click.make_pass_decorator(Ctx)


def _config_given_late(ctx, _param, value):
    if value is not None:
        ctx.find_object(Ctx).config_path = config_mod.find_config(value)


class _TakesConfig:
    """Every command also takes --config after its name (`pops-chm status --config X`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.params.append(click.Option(["--config", "late_config"], metavar="PATH", expose_value=False,
                                        callback=_config_given_late, help="The node's config file (as before the command)."))


class _Command(_TakesConfig, click.Command):
    pass


class _Group(_TakesConfig, click.Group):
    command_class = _Command
    group_class = type          # subgroups are _Group too


class _Main(click.Group):
    command_class = _Command
    group_class = _Group


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", metavar="PATH", envvar=config_mod.ENV_CONFIG,
              help=f"The node's config file (default ./{config_mod.DEFAULT_CONFIG}, or ${config_mod.ENV_CONFIG}).")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="pops-chm")
@click.pass_context
def main(ctx, config_path, verbose):
    """POPs clearing-house node: harvest, map, store, index and serve POPs metadata.

    Exit status: 0 success, 1 something failed, 2 bad usage or config, 3 a run of the same source is busy.
    """
    logging.basicConfig(level=[logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)],
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    ctx.obj = Ctx(config_path)


# ---------------------------------------------------------------- config

@main.group("config")
def config_group():
    """Inspect the node's config."""


@config_group.command("check")
@pass_ctx
def config_check(c: Ctx):
    """Validate the config; print every problem as FILE:LINE: MESSAGE, all in one pass (exit 2 if any)."""
    cfg, problems = config_mod.check(c.config_path)
    for p in problems:
        click.echo(p, err=True)
    if problems:
        click.echo(f"{len(problems)} problem{'s' * (len(problems) != 1)} in {c.config_path}", err=True)
        sys.exit(EXIT_CONFIG)
    click.echo(f"{cfg.path}: ok (node {cfg.node['id']}, {len(cfg.sources)} sources, {len(cfg.peers)} peers, "
               f"index {cfg.index['backend']}, store {cfg.store_path})")


# ---------------------------------------------------------------- map

@main.command("map")
@click.option("--format", "fmt", required=True, metavar="FORMAT", help="Crosswalk to map with (`pops-chm formats` lists them).")
@click.option("--source", "source_id", default="cli", show_default=True, help="Source id the records are attributed to.")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@pass_ctx
def map_cmd(c: Ctx, fmt, source_id, files):
    """Map FILES (as a source sends them: an OAI-PMH response, a bare record, a DCAT catalogue, an ISO
    document) to POPs records, printed as JSON Lines. Errors go to stderr naming file and record; exit 1 if
    any record failed."""
    from harvester import crosswalks
    from harvester.mapping import MapContext, MappingError, map_record
    try:
        cw = crosswalks.get(fmt)
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="--format")
    node = "local"
    if Path(c.config_path).exists():
        try:
            node = config_mod.load(c.config_path).node["id"]
        except config_mod.ConfigError:
            click.echo(f"{c.config_path}: not a valid config (see `pops-chm config check`); mapping as node 'local'", err=True)
    ctx = MapContext(node=node, source=source_id)
    failed = False
    for f in files:
        try:
            raws = list(cw.split(Path(f).read_bytes(), f))
        except ValueError as exc:
            click.echo(f"{f}: {exc}", err=True)
            failed = True
            continue
        if not raws:
            click.echo(f"{f}: holds no {fmt} record", err=True)
            continue
        for raw in raws:
            if raw.deleted:
                click.echo(f"{f}: {raw.identifier}: deleted at the source (no record)", err=True)
                continue
            try:
                rec = map_record(cw, raw, ctx)
            except MappingError as exc:
                click.echo(f"{raw.location or f}: record {raw.identifier}: {exc}", err=True)
                failed = True
                continue
            click.echo(json.dumps(rec, ensure_ascii=False))
    sys.exit(EXIT_FAILED if failed else 0)


@main.command("formats")
def formats_cmd():
    """List the metadata formats (crosswalks) this node maps."""
    from harvester import crosswalks
    for name in crosswalks.names():
        click.echo(f"{name:10} {crosswalks.get(name).description}")


# ---------------------------------------------------------------- vocab

@main.group("vocab")
def vocab_group():
    """The POPs vocabularies: chemicals, document types, countries, regions, languages."""


_VOCABULARIES = {"types": "document_types", "chemicals": "chemicals", "countries": "countries",
                 "regions": "regions", "languages": "languages"}


@vocab_group.command("list")
@click.argument("vocabulary", type=click.Choice(list(_VOCABULARIES)))
@click.option("--lang", default="en", show_default=True, help="The language of the labels (ar, zh, en, fr, ru, es).")
@click.option("--json", "as_json", is_flag=True, help='Print [{"id", "label"}, ...].')
def vocab_list(vocabulary, lang, as_json):
    """Print a vocabulary's ids and labels: the values a source's `defaults`, search filters and records use."""
    from harvester import vocab
    kind = _VOCABULARIES[vocabulary]
    rows = [{"id": i, "label": vocab.label(kind, i, lang)} for i in getattr(vocab, kind)()]
    if as_json:
        _echo_json(rows)
        return
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        click.echo(f"{r['id']:{width}}  {r['label'] or ''}")


@vocab_group.command("lookup")
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def vocab_lookup(text, as_json):
    """Print the chemicals, countries and languages recognised in TEXT (any of the six UN languages)."""
    from harvester import enrich, vocab
    found = enrich.lookup(text)
    if as_json:
        _echo_json(found)
        return
    for cid in found["chemicals"]:
        ch = vocab.chemicals()[cid]
        click.echo(f"chemical  {cid:18} {vocab.label('chemicals', cid, 'en')} (Annex {', '.join(ch.get('annexes', []))}; "
                   f"CAS {', '.join(ch.get('cas', [])) or '-'})")
    for cc in found["countries"]:
        click.echo(f"country   {cc:18} {vocab.label('countries', cc, 'en')} ({', '.join(vocab.region_of(cc)) or '-'})")
    for lang in found["languages"]:
        click.echo(f"language  {lang:18} {vocab.label('languages', lang, 'en')}")
    if not any(found.values()):
        click.echo("nothing recognised", err=True)


# ---------------------------------------------------------------- harvest

@main.command("harvest")
@click.argument("sources", nargs=-1)
@click.option("--full", is_flag=True, help="Harvest everything again, not only what changed since the last run.")
@click.option("--force", is_flag=True, help="Apply deletions even past the mass-deletion limit.")
@click.option("--replay", "replay", metavar="SOURCE:IDENTIFIER", help="Retry one failed record.")
@click.option("--json", "as_json", is_flag=True, help="Print the run reports as JSON.")
@pass_ctx
def harvest_cmd(c: Ctx, sources, full, force, replay, as_json):
    """Harvest every enabled source, or the SOURCES named: fetch -> map -> store (-> index), incremental
    by default. Exit 1 if any source or record failed, 3 if one was already being harvested."""
    from harvester.harvesting import harvest_and_index
    cfg = c.cfg
    for s in sources:
        try:
            cfg.source(s)
        except KeyError as exc:
            raise click.BadParameter(exc.args[0], param_hint="SOURCES")
    with c.store() as store:
        if replay:
            from harvester.replay import replay_record
            sid, sep, ident = replay.partition(":")
            if not sep or not ident:
                raise click.BadParameter("give SOURCE:IDENTIFIER", param_hint="--replay")
            ok, message = replay_record(cfg, store, sid, ident)
            click.echo(message, err=not ok)
            sys.exit(0 if ok else EXIT_FAILED)

        live = sys.stderr.isatty() and not as_json

        def progress(r):
            if live:  # one line per source, rewritten in place
                click.echo(f"\r  {r.source}: seen {r.seen}, stored {r.stored}, unchanged {r.unchanged}, "
                           f"failed {r.failed}", err=True, nl=False)
        reports, index_error = harvest_and_index(cfg, store, sources or None, full=full, force=force, progress=progress)
        if live:
            click.echo("", err=True)
    if as_json:
        _echo_json([r.as_dict() for r in reports])
    else:
        for r in reports:
            click.echo(f"{r.source}: {r.status} — {r.summary()} in {r.seconds:.1f}s ({r.rate:.0f} records/s)")
            for p in r.problems:
                click.echo(f"  warning: {p}")
            if r.error:
                click.echo(f"  error: {r.error}")
    if index_error:
        click.echo(f"warning: the index is behind the store: {index_error}; nothing is lost: the next harvest "
                   "or `pops-chm reindex` catches up", err=True)
    if any(r.status == "busy" for r in reports):
        sys.exit(EXIT_BUSY)
    if any(r.records_failed for r in reports) and not as_json:
        click.echo("some records failed: `pops-chm errors` lists them", err=True)
    sys.exit(0 if all(r.ok and not r.records_failed for r in reports) else EXIT_FAILED)


# ---------------------------------------------------------------- status and errors

@main.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def status_cmd(c: Ctx, as_json):
    """Each source's record and tombstone counts, last run and last error."""
    from harvester.status import node_status
    with c.store() as store:
        st = node_status(c.cfg, store)
    if as_json:
        _echo_json(st)
        return
    click.echo(f"node {st['node']}: {st['records']} records, {st['deleted']} deleted ({st['store']})")
    ix = st["index"]
    if "error" in ix:
        click.echo(f"index ({ix['backend']}): unavailable: {ix['error']}")
    else:
        lag = f"{ix['behind']} changes behind the store" if ix["behind"] else "up to date"
        click.echo(f"index ({ix['backend']}): {ix['documents']} documents, {lag}")
    for s in st["sources"]:
        last = s["last_run"]
        when = f"{last['status']} at {last['ended'] or last['started']}" if last else "never harvested"
        click.echo(f"  {s['id']:20} {s['records']:7} records {s['deleted']:5} deleted {s['failed_records']:5} failed   last run: {when}")
        if not s["configured"]:
            click.echo(f"  {'':20} not in the config: no longer harvested; its records stay in the store")
        if last and last.get("error"):
            click.echo(f"  {'':20} last error: {last['error']}")


@main.command("errors")
@click.argument("source", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--limit", default=5, show_default=True, help="Records listed per cause.")
@pass_ctx
def errors_cmd(c: Ctx, source, as_json, limit):
    """Records that failed to map, grouped by cause, with where in the payload they failed."""
    from harvester.diagnostics import group_failures
    with c.store() as store:
        known = {s["id"] for s in c.cfg.sources} | set(store.sources())
        if source and source not in known:
            raise click.BadParameter(f"no source {source!r} in the config or the store (sources: "
                                     f"{', '.join(sorted(known)) or 'none'})", param_hint="SOURCE")
        groups = group_failures(store.failures(source))
    if as_json:
        _echo_json(groups)
        return
    if not groups:
        click.echo("no failed records")
        return
    for g in groups:
        click.echo(f"{g['count']:6} × {g['source']}: {g['cause']}")
        for r in g["records"][:limit]:
            click.echo(f"         {r['identifier']}  ({r['location']})")
        if g["count"] > limit:
            click.echo(f"         ... and {g['count'] - limit} more")
    click.echo("retry one with: pops-chm harvest --replay SOURCE:IDENTIFIER")


# ---------------------------------------------------------------- assistance

@main.command("match")
@click.argument("record_id")
@click.option("--local", is_flag=True, help="Only this node's records (by default the federated peers too).")
@click.option("--on", "on", metavar="YYYY-MM-DD", help="Judge deadlines as of this day (default today, UTC).")
@click.option("--lang", default="en", show_default=True, help="The language of the titles shown (ar, zh, en, fr, ru, es).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the shape of /api/assistance/{id}/matches).")
@pass_ctx
def match_cmd(c: Ctx, record_id, local, on, lang, as_json):
    """Rank the assistance sources that fit an assistance request (or, for a source, the open requests it
    could answer), across this node and its peers; each match says why it fits."""
    from datetime import date
    from harvester.assistance import NotAssistance, RecordNotFound, find_matches
    try:
        today = date.fromisoformat(on) if on else None
    except ValueError:
        raise click.BadParameter(f"{on!r} is not a date (YYYY-MM-DD)", param_hint="--on")
    try:
        out = find_matches(c.cfg, record_id, federated=not local, today=today)
    except RecordNotFound:
        click.echo(f"no record {record_id!r} on this node or its peers", err=True)
        sys.exit(EXIT_FAILED)
    except NotAssistance as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_FAILED)
    if as_json:
        _echo_json(out)
        return
    click.echo(f"{len(out['matches'])} matches for {_title_in(out['title'], lang, out['record'])} "
               f"({out['record']}, {out['type']})")
    for m in out["matches"]:
        click.echo(f"{m['score']:5.1f}  {_title_in(m['title'], lang, m['id'])}  [{m['node']}]  "
                   f"{m.get('deadline') or ''} {m.get('status') or ''}".rstrip())
        for reason in m["reasons"]:
            click.echo(f"         - {reason}")
    for n in out.get("nodes", []):
        if n["status"] != "answered":
            click.echo(f"node {n['id']}: {n['status']}", err=True)


# ---------------------------------------------------------------- indicators

@main.command("report")
@click.option("--from", "since", metavar="DATE", help="Start of the period (YYYY-MM-DD, UTC).")
@click.option("--until", metavar="DATE", help="End of the period (YYYY-MM-DD, inclusive).")
@click.option("--format", "fmt", type=click.Choice(["md", "json", "csv"]), default="md", show_default=True)
@click.option("--lang", default="en", show_default=True, help="Language of the labels.")
@pass_ctx
def report_cmd(c: Ctx, since, until, fmt, lang):
    """The clearing-house indicators: records by type, chemical, country, region, language and node and their
    growth; providers active and failing; harvest success; completeness; searches per month and the share with
    no hits; information gaps; assistance sources and requests, and the share of requests with an open match."""
    from harvester.report import check_period_end, indicators, render
    for value, hint in ((since, "--from"), (until, "--until")):
        try:
            check_period_end(value, hint)
        except ValueError as exc:
            raise click.UsageError(str(exc))
    with c.store() as store:
        try:
            ind = indicators(store, since, until)
        except ValueError as exc:
            raise click.BadParameter(str(exc))
    click.echo(render({"node": c.cfg.node["id"], **ind}, fmt, lang=lang), nl=False)


# ---------------------------------------------------------------- exchange without a connection

@main.command("export")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["bundle", "oai-static"]), default="bundle", show_default=True,
              help="bundle: a checksummed ZIP for `pops-chm import`; oai-static: an OAI-PMH static repository.")
@click.option("--since", metavar="DATE", help="Bundle: only what this node changed at or after DATE "
                                              "(YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ, UTC), deletions included.")
@click.option("--source", "sources", multiple=True, metavar="S", help="Only the records of source S (repeatable).")
@click.option("--base-url", metavar="URL", help="oai-static: the baseURL its gateway serves it at (the gateway's "
                                                "URL followed by the file's URL without http://); default this node's /oai.")
@pass_ctx
def export_cmd(c: Ctx, file, fmt, since, sources, base_url):
    """Write this node's records to FILE, to carry to another node without a live connection (e-mail, a USB
    stick): a bundle (records, deletions and a checksummed manifest signed with this node's key, made on the
    first export) or an OAI static repository."""
    from harvester import exchange
    try:
        since = exchange.parse_since(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since")
    if fmt == "oai-static" and since:
        raise click.BadParameter("a static repository is the whole repository (harvesters take a record missing "
                                 "from it as deleted); --since is for bundles", param_hint="--since")
    if fmt == "bundle" and base_url:
        raise click.BadParameter("--base-url is for --format oai-static", param_hint="--base-url")
    with c.store() as store:
        known = set(store.sources()) | {s["id"] for s in c.cfg.sources}
        unknown = [s for s in sources if s not in known]
        if unknown:
            raise click.BadParameter(f"unknown source {', '.join(map(repr, unknown))} (known: {', '.join(sorted(known))})",
                                     param_hint="--source")
        try:
            if fmt == "bundle":
                report = exchange.export_bundle(c.cfg, store, file, since=since, sources=sources)
            else:
                report = exchange.export_static(c.cfg, store, file, sources=sources, base_url=base_url)
        except OSError as exc:
            click.echo(f"{file}: cannot write: {exc.strerror or exc}", err=True)
            sys.exit(EXIT_FAILED)
        except exchange.NodeKeyError as exc:
            click.echo(f"{file}: not written: {exc}", err=True)
            sys.exit(EXIT_FAILED)
    click.echo(report.summary())


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--sha256", "expect_sha256", metavar="HEX",
              help="Refuse the file unless its SHA-256 is HEX (as `pops-chm export` printed it, sent by another channel).")
@click.option("--trust-unsigned", is_flag=True,
              help="For this import only, also take a bundle that is not signed, or signed with a key not listed "
                   "under trusted_nodes in the config.")
@pass_ctx
def import_cmd(c: Ctx, file, expect_sha256, trust_unsigned):
    """Import a bundle made by `pops-chm export`: verify all of it first (signature by a trusted node, format
    and version, checksums, counts, every record against the record schema), then store it (importing twice
    changes nothing), apply its deletions and bring the index up to date. A damaged, edited or unsigned
    bundle is refused whole (exit 1); records the origin rules refuse are named (exit 1, the others stored)."""
    from harvester import exchange
    cfg = c.cfg
    try:
        trust = exchange.Trust.for_config(cfg, unsigned=trust_unsigned)
        bundle = exchange.verify_bundle(file, exchange.Limits.for_config(cfg), expect_sha256=expect_sha256,
                                        trust=trust)
    except (exchange.BundleError, exchange.NodeKeyError) as exc:
        click.echo(f"{file}: refused: {exc}; nothing was imported", err=True)
        sys.exit(EXIT_FAILED)
    with c.store() as store:
        try:
            report = exchange.load_bundle(cfg, store, bundle)
        except exchange.ImportBusy as exc:
            click.echo(f"{file}: {exc}", err=True)
            sys.exit(EXIT_BUSY)
        except exchange.BundleError as exc:
            click.echo(f"{file}: refused: {exc}", err=True)
            sys.exit(EXIT_FAILED)
    click.echo(report.summary())
    for line in report.refusal_lines():
        click.echo(line, err=True)
    if report.index_error:
        click.echo(f"warning: the index is behind the store: {report.index_error}; nothing is lost: "
                   "`pops-chm reindex --catch-up` catches up", err=True)
    if report.refused:
        sys.exit(EXIT_FAILED)


@main.group("keys")
def keys_group():
    """This node's signing key: bundles it exports are signed with it."""


@keys_group.command("show")
@pass_ctx
def keys_show(c: Ctx):
    """Print this node's public key (making the key pair if there is none yet) and the trusted_nodes entry
    other nodes put in their config to import this node's bundles."""
    from harvester import exchange
    cfg = c.cfg
    made = not exchange.key_file(cfg).exists()
    try:
        public = exchange.public_key_text(exchange.node_key(cfg, create=True))
    except exchange.NodeKeyError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_FAILED)
    if made:
        click.echo(f"made this node's private key: {exchange.key_file(cfg)} (keep it; it never leaves the node)", err=True)
    click.echo(f"node {cfg.node['id']} public key: {public}")
    click.echo("for the node_config.yaml of the nodes that import this node's bundles:")
    click.echo(f'trusted_nodes:\n  - {{id: {cfg.node["id"]}, public_key: "{public}"}}')


# ---------------------------------------------------------------- serve and schedule

def _default_port(cfg) -> int:
    from urllib.parse import urlsplit
    url = cfg.node.get("url")
    return (urlsplit(url).port or 8080) if url else 8080


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, help="Port (default: the one in node.url, else 8080).")
@click.option("--no-schedule", is_flag=True, help="Serve only; do not run the scheduled harvests.")
@pass_ctx
def serve_cmd(c: Ctx, host, port, no_schedule):
    """Run the node: the search API (OpenAPI at /docs), the OAI-PMH provider at /oai, the web pages, /status
    and /metrics, and (unless --no-schedule) the scheduled harvests."""
    import uvicorn
    from harvester.node.app import create_app
    cfg = c.cfg
    app = create_app(cfg)
    scheduler = None
    if not no_schedule:
        from harvester.schedule import Scheduler
        scheduler = app.state.scheduler = Scheduler(cfg).start()
    port = port or _default_port(cfg)
    click.echo(f"node {cfg.node['id']} on http://{host}:{port}/ (API docs at /docs, OAI-PMH at /oai)", err=True)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        if scheduler:
            scheduler.shutdown()


@main.command("schedule")
@pass_ctx
def schedule_cmd(c: Ctx):
    """Run the scheduled harvests without the server, until interrupted."""
    import time
    from harvester.schedule import Scheduler
    sched = Scheduler(c.cfg).start()
    for sid, when in sched.next_runs().items():
        click.echo(f"{sid}: next run {when}")
    if not sched.next_runs():
        click.echo("no source has a schedule", err=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sched.shutdown()


# ---------------------------------------------------------------- search and index


def _terminal_snippet(html_snippet: str) -> str:
    """A highlight snippet (escaped HTML with <mark>) as terminal text: matches in bold, or [in brackets]."""
    import html
    import re
    bold = sys.stdout.isatty()
    marked = re.sub(r"<mark>(.*?)</mark>", lambda m: click.style(m.group(1), bold=True) if bold else f"[{m.group(1)}]",
                    html_snippet)
    return html.unescape(marked)


def _title_in(title: dict, lang: str | None, fallback: str) -> str:
    """A record's title in a language, else in English, else in any language it has."""
    return title.get(lang or "en") or title.get("en") or next(iter(title.values()), fallback)


def _print_results(res, lang):
    from harvester import vocab
    click.echo(f"{res.total} records" + (f" (query names: {', '.join(res.query_chemicals)})" if res.query_chemicals else ""))
    for n, hit in enumerate(res.hits, 1):
        title = _title_in(hit.title, lang, hit.id)
        meta = ", ".join(x for x in (hit.type and vocab.label("document_types", hit.type, lang or "en"),
                                     str(hit.year or ""), ", ".join(hit.countries), hit.origin_node and f"node {hit.origin_node}") if x)
        click.echo(f"{n:3}. {title}\n     {meta}\n     id {hit.id}")
        why = []
        if hit.why.get("chemicals"):
            why.append("chemical " + ", ".join(hit.why["chemicals"]))
        for field, snippets in hit.why.get("highlights", {}).items():
            why.append(f"{field}: " + _terminal_snippet(" … ".join(snippets))[:160])
        if why:
            click.echo("     matched: " + "; ".join(why))
    for field, counts in res.facets.items():
        click.echo(f"{field}: " + ", ".join(f"{k} ({v})" for k, v in list(counts.items())[:10]))
    if res.next_cursor:
        click.echo(f"more: --cursor {res.next_cursor}")


def _print_federated(out: dict, lang, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False))
        return
    for n in out["nodes"]:
        detail = f"{n.get('total', 0)} hits" if n["status"] == "answered" else (n.get("error") or "")
        click.echo(f"  {n['id']:16} {n['status']:10} {detail}  {n.get('ms', 0):.0f} ms")
    if out.get("partial"):
        click.echo("partial results: not every node answered", err=True)
    click.echo(f"{out['total']} records" + (f" ({out['total_reason']})" if out.get("total_reason") else ""))
    for i, hit in enumerate(out["results"], 1):
        title = _title_in(hit["title"], lang, hit["id"])
        click.echo(f"{i:3}. {title}\n     id {hit['id']}  [{', '.join(hit.get('nodes', []))}]")


@main.command("search")
@click.argument("query", required=False, default="")
@click.option("--filter", "-f", "filters", multiple=True, metavar="FIELD:VALUE",
              help="Keep records whose FIELD holds VALUE (repeatable; OR within a field, AND across fields). Fields: "
                   "type, chemicals, countries, regions, languages, year, source (this node's source id), origin_node, "
                   "origin_source, assistance_kind, assistance_status.")
@click.option("--facets", is_flag=True, help="Count the results by each facet field.")
@click.option("--lang", metavar="L", help="The language of the query and of the titles shown (ar, zh, en, fr, ru, es).")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest", "title", "recent"]), default="relevance", show_default=True)
@click.option("--limit", default=10, show_default=True, help="Results per page (at most 100).")
@click.option("--offset", default=0, help="Skip this many results.")
@click.option("--cursor", help="Continue after a previous page (its next_cursor): deep paging.")
@click.option("--federated", is_flag=True, help="Search this node and its peers in parallel, each within its timeout.")
@click.option("--budget", type=float, help="With --federated: the whole search's time limit, in seconds.")
@click.option("--json", "as_json", is_flag=True, help='Print {"total", "results", "facets", "next_cursor", "query_chemicals"}.')
@pass_ctx
def search_cmd(c: Ctx, query, filters, facets, lang, sort, limit, offset, cursor, federated, budget, as_json):
    """Search this node's index. QUERY is taken as words, never as query syntax; a chemical named in any
    of the six UN languages, by abbreviation or CAS number, also finds records about it in other languages."""
    from harvester import index
    try:
        q = index.Query(text=query, filters=index.parse_filters(filters), facets=facets, sort=sort, limit=limit,
                        offset=offset, cursor=cursor, lang=lang).checked()
    except ValueError as exc:
        raise click.BadParameter(str(exc))
    if federated:
        from harvester.node.app import NodeState
        from harvester.node.federation import federated_search
        try:
            out = federated_search(NodeState(c.cfg), q, budget=budget)
        except ValueError as exc:
            raise click.BadParameter(str(exc))
        _print_federated(out, lang, as_json)
        sys.exit(0 if any(n["status"] == "answered" for n in out["nodes"]) else EXIT_FAILED)
    with c.store() as store:
        try:
            with index.open_backend(c.cfg, store) as backend:
                res = backend.search(q)
        except ValueError as exc:
            raise click.BadParameter(str(exc))
        except Exception as exc:
            click.echo(f"search failed: {exc}", err=True)
            sys.exit(EXIT_FAILED)
        if not q.offset and not q.cursor:
            from harvester.searchlog import log_search
            log_search(store, q, res.total, "local", "cli")
    if res.lag_warning():
        click.echo(f"warning: {res.lag_warning()}", err=True)
    if as_json:
        click.echo(json.dumps(res.as_json(), ensure_ascii=False))
    else:
        _print_results(res, lang)


@main.command("reindex")
@click.option("--catch-up", is_flag=True, help="Only index what changed in the store since the index last caught up.")
@pass_ctx
def reindex_cmd(c: Ctx, catch_up):
    """Rebuild the search index from the store (no harvest). Search keeps answering from the old index until
    the new one is complete."""
    from harvester import index
    live = sys.stderr.isatty()

    def progress(applied, seq):
        if live:
            click.echo(f"\r  {applied} changes indexed (store sequence {seq})", err=True, nl=False)
    with c.store() as store:
        try:
            with index.open_backend(c.cfg, store) as backend:
                n = (index.catch_up(backend, store, progress=progress) if catch_up
                     else index.rebuild(backend, store, progress=progress))
                st = index.index_status(backend, store)
        except Exception as exc:
            click.echo(f"reindex failed: {exc}; the store is untouched", err=True)
            sys.exit(EXIT_FAILED)
    if live:
        click.echo("", err=True)
    click.echo(f"{n} changes indexed; the index holds {st['documents']} documents ({st['backend']}), "
               f"{st['behind']} changes behind the store")


@main.group("solr")
@click.option("--home", default=".solr", show_default=True, type=click.Path(file_okay=False),
              help="The local Solr's home folder (its cores, logs and state).")
@click.pass_context
def solr_group(ctx, home):
    """A real local Solr 9, run from Maven Central artifacts (needs Java 17 and Maven)."""
    ctx.meta["solr_home"] = Path(home)


@solr_group.command("start")
@click.option("--port", default=8983, show_default=True,
              help="Port on 127.0.0.1 (0: any free port). With --cloud: node i (from 0) on PORT+i, ZooKeeper on PORT+1000.")
@click.option("--cloud", default=0, metavar="N", help="Start N SolrCloud nodes with an embedded ZooKeeper instead.")
@click.option("--heap", default="512m", show_default=True)
@click.pass_context
def solr_start(ctx, port, cloud, heap):
    """Fetch the Solr jars once (cached), start Solr on 127.0.0.1 and wait until it answers."""
    from harvester.index import solr_runtime as rt
    home = ctx.meta["solr_home"]
    try:
        h = rt.status(home)
        if h:
            click.echo(f"Solr already running for {home}: {' '.join(h.urls)}")
        else:
            h = rt.start(home, port=port, cloud=cloud, heap=heap)
            click.echo(f"Solr running (pid {h.pid}): {' '.join(h.urls)}")
    except rt.SolrRuntimeError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_FAILED)
    if h.zk_host:
        click.echo(f"ZooKeeper: {h.zk_host}")
    click.echo(f"after `pops-chm solr init`, put this line in node_config.yaml:\n{rt.index_config(h)}")


@solr_group.command("init")
@click.option("--name", default="pops", show_default=True, help="Core (standalone) or collection (cloud) name.")
@click.option("--shards", default=2, show_default=True, help="Cloud: shards of the collection.")
@click.option("--replicas", default=None, type=int, help="Cloud: replicas per shard (default: 2 when 2 nodes or more).")
@click.pass_context
def solr_init(ctx, name, shards, replicas):
    """Create the core (standalone) or upload the configset and create the collection (cloud) from solr_config/."""
    from harvester.index import solr_runtime as rt
    h = rt.status(ctx.meta["solr_home"])
    if h is None:
        click.echo(f"no Solr running for {ctx.meta['solr_home']}: run `pops-chm solr start` first", err=True)
        sys.exit(EXIT_FAILED)
    try:
        url = rt.init(h, name=name, shards=shards, replicas=replicas)
    except rt.SolrRuntimeError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_FAILED)
    click.echo(f"index ready: {url}\nput this line in node_config.yaml, then run `pops-chm reindex`:\n"
               f"{rt.index_config(h, name)}")


@solr_group.command("stop")
@click.pass_context
def solr_stop(ctx):
    """Stop the local Solr."""
    from harvester.index import solr_runtime as rt
    click.echo("stopped" if rt.stop(ctx.meta["solr_home"]) else "no Solr was running")


@solr_group.command("status")
@click.pass_context
def solr_status(ctx):
    """Say whether the local Solr runs, and where."""
    from harvester.index import solr_runtime as rt
    h = rt.status(ctx.meta["solr_home"])
    if h is None:
        click.echo("not running")
        sys.exit(EXIT_FAILED)
    click.echo(f"running (pid {h.pid}): {' '.join(h.urls)}" + (f"; ZooKeeper {h.zk_host}" if h.zk_host else ""))


if __name__ == "__main__":
    main()
