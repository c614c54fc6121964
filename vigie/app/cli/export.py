"""`vigie export`: the posts of a topic and window to CSV or JSONL."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path

import click

from vigie.app.cli import COMMANDS, RELATIVE, parse_when
from vigie.core.config import ConfigError, load_config


@COMMANDS.decorator("export")
@click.command("export")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), required=True,
              help="Vigie configuration (topics, store).")
@click.option("--topic", required=True, help="Topic id (as in the configuration).")
@click.option("--since", default=None, help="Start: ISO-8601 time or a duration back from --until (24h, 7d). "
              "Default: the first post.")
@click.option("--until", default=None, help="End (exclusive): ISO-8601 time or a duration back from now. "
              "Default: after the last post.")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True)
@click.option("--columns", default=None,
              help="Comma-separated columns, or `all` [default: id,source,created_at,author_handle,author_followers,"
                   "text,lang,sentiment,relation,ref_id,likes,reposts,hashtags,domains,url].")
@click.option("--pseudonymise", "--pseudonymize", "pseudonymise", is_flag=True,
              help="Replace authors (id, handle, name), mentions and @handles in the text by keyed pseudonyms; "
                   "empty the url column. Key: the secret in --key-env if set (stable across exports), else a "
                   "random salt for this export only.")
@click.option("--key-env", default="VIGIE_EXPORT_KEY", show_default=True,
              help="Environment variable holding the pseudonymisation key.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write [default: standard output].")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on standard error [default: when standard error is a terminal].")
@click.option("--page-size", default=1000, show_default=True, type=click.IntRange(min=1),
              help="Posts read from the store per request (memory use is one page).")
def export(config_path: str, topic: str, since: str | None, until: str | None, fmt: str, columns: str | None,
           pseudonymise: bool, key_env: str, out_path: Path | None, progress: bool | None, page_size: int) -> None:
    """Export a topic's posts in a time window, oldest first, streaming from the store.

    \b
    Examples:
      vigie export --config samples/demo/vigie.yml --topic brivolle --format csv --out out/brivolle.csv
      vigie export --config vigie.yml --topic acme --since 7d --format jsonl --columns id,created_at,text,sentiment
      VIGIE_EXPORT_KEY=... vigie export --config vigie.yml --topic acme --pseudonymise --out acme.csv
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from vigie.app.export import Pseudonymiser, parse_columns, rows, write
    from vigie.store import open_store

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    known = [t.id for t in config.topics]
    if topic not in known:
        raise click.BadParameter(f"unknown topic {topic!r}; the configuration has {', '.join(known)}",
                                 param_hint="--topic")
    try:
        chosen = parse_columns(columns)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--columns") from None
    now = datetime.now(timezone.utc)
    end = parse_when(until, relative_to=now, option="--until")
    start = parse_when(since, relative_to=end or now, option="--since")
    if end is None and since is not None and RELATIVE.match(since):
        end = now
    pseudo = Pseudonymiser.from_env(key_env) if pseudonymise else None
    console = Console(file=sys.stderr, highlight=False)
    show = console.is_terminal if progress is None else progress
    store = open_store(config.store)
    out_ctx = out_path.open("w", encoding="utf-8", newline="") if out_path else nullcontext(sys.stdout)
    try:
        # The topic's total is one cheap count; with a window it is an upper bound, so the bar shows the
        # count read and no percentage then.
        total = store.count_posts(topic) if start is None and end is None else None
        bar = Progress(SpinnerColumn(), TextColumn("exporting {task.fields[topic]}"), BarColumn(),
                       MofNCompleteColumn(), TimeElapsedColumn(), console=console, disable=not show, transient=False)
        with bar, out_ctx as out:
            task = bar.add_task("export", total=total, topic=topic)
            result = write(rows(store.iter_posts(topic, start, end, page_size=page_size), chosen, pseudo),
                           chosen, fmt, out, on_row=lambda: bar.advance(task))
    except BrokenPipeError:
        # The reader stopped (`| head`): not an error. Point stdout at /dev/null so the interpreter's final
        # flush does not complain about the closed pipe.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    except OSError as exc:
        raise click.ClickException(f"cannot write the export: {exc}") from None
    finally:
        store.close()
    mode = ""
    if pseudo is not None:
        mode = (f"; authors pseudonymised with the key in {key_env}" if pseudo.keyed
                else f"; authors pseudonymised with a random salt for this export only ({key_env} not set)")
    click.echo(f"{result.rows} post(s) of {topic} exported as {fmt}{' to ' + str(out_path) if out_path else ''}{mode}",
               err=True)
