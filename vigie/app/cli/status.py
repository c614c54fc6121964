"""`vigie status` (what Vigie sees, per source) and `vigie metrics` (the same for Prometheus)."""

from __future__ import annotations

import json

import click

from vigie.app.cli import COMMANDS, load_config_checked, make_console

EXIT_BLIND = 5  # `vigie status`: at least one source is blind


def _now(value: str | None):
    from datetime import datetime, timezone

    from vigie.core.models import utc

    return utc(value) if value else datetime.now(timezone.utc)


@COMMANDS.decorator("status")
@click.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), required=True,
              help="Vigie configuration file (see vigie.example.yml).")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.option("--now", default=None, help="Judge as of this ISO time (replays, tests). Default: now.")
def status(config_path: str, as_json: bool, now: str | None) -> None:
    """Collection health: per source and query, last success, last error and its kind, quota, permanent
    gaps and open blind alerts. Reads the store only.

    \b
    Exit codes: 0 every source sees; 5 at least one source is blind; 1 invalid configuration.
    """
    from rich.markup import escape
    from rich.table import Table

    from vigie.pipeline.status import collection_status
    from vigie.store import open_store

    config = load_config_checked(config_path)
    store = open_store(config.store)
    try:
        data = collection_status(config, store, _now(now))
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        console = make_console()
        table = Table(title=f"Collection health at {data['now']}")
        for col in ("source", "query", "state", "last success", "last error", "quota", "posts 1h", "gaps"):
            table.add_column(col)
        for s in data["sources"]:
            err = s["last_error"]
            quota = s["quota"]
            table.add_row(escape(s["source"]), "", s["state"] + (f" ({', '.join(r['kind'] for r in s['reasons'])})" if s["reasons"] else ""),
                          s["last_success"] or "-", escape(f"[{err['kind']}] {err['message'][:60]}") if err else "-",
                          f"{quota['remaining']} until {quota.get('reset_at') or '?'}" if quota else "-",
                          str(s["posts_last_hour"]), str(len(s["gaps"])))
            for key, q in sorted(s["queries"].items()):
                qerr = q.get("last_error")
                table.add_row("", escape(key), "failing" if qerr and (q.get("last_success") or "") < qerr["at"] else "ok",
                              q.get("last_success") or "-", escape(f"[{qerr['kind']}] {qerr['message'][:60]}") if qerr else "-",
                              "", str(q.get("posts", 0)), "")
        console.print(table)
        for s in data["sources"]:
            for r in s["reasons"]:
                console.print(f"[red]{escape(s['source'])}[/red]: {escape(r['message'])}")
            for g in s["gaps"]:
                console.print(f"gap {escape(s['source'])}: {g['start']} → {g['end']} ({escape(g['reason'])})")
            if s["coverage_alert"]:
                console.print(f"open blind alert {s['coverage_alert']['id']} on {escape(s['source'])} since {s['coverage_alert']['opened_at']}")
    if data["blind"]:
        raise SystemExit(EXIT_BLIND)


@COMMANDS.decorator("metrics")
@click.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), required=True,
              help="Vigie configuration file (see vigie.example.yml).")
@click.option("--port", type=click.IntRange(1, 65535), default=9464, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--once", is_flag=True, help="Print the metrics page once and exit (no server).")
def metrics(config_path: str, port: int, host: str, once: bool) -> None:
    """Serve /metrics in the Prometheus format: posts per source, errors by kind, quota, blind sources,
    detection lag, outbox depth and age, deliveries by status. Each scrape reads the store."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from vigie.app.metrics import metrics_app, render
    from vigie.store import open_store

    config = load_config_checked(config_path)
    store = open_store(config.store)
    try:
        if once:
            click.echo(render(config, store).decode(), nl=False)
            return

        class Quiet(WSGIRequestHandler):
            def log_message(self, *args):  # noqa: ANN002 - one line per scrape is noise
                pass

        with make_server(host, port, metrics_app(config, store), handler_class=Quiet) as server:
            click.echo(f"serving http://{host}:{port}/metrics (Ctrl-C to stop)")
            try:
                server.serve_forever()
            except KeyboardInterrupt:
                pass
    finally:
        store.close()
