"""`vigie es ...`: install and check the Elasticsearch side of Vigie."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from vigie.app.cli import COMMANDS
from vigie.core.config import ConfigError, load_config


def _store_from(config_path: str):
    from vigie.store import open_store, store_backend

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if not store_backend(config.store).installable:
        raise click.ClickException(
            f"{config_path}: store.type is {config.store.type!r}; `vigie es` needs `store: {{type: elasticsearch}}`"
        )
    try:
        return open_store(config.store)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@contextmanager
def _opened(config_path: str) -> Iterator:
    """The configured store; its errors become one-line CLI errors, and it is always closed."""
    from vigie.store.elasticsearch import StoreError

    store = _store_from(config_path)
    try:
        yield store
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()


@COMMANDS.decorator("es")
@click.group("es")
def es() -> None:
    """Elasticsearch store: index templates, ILM policy, write alias.

    \b
    Examples:
      vigie es setup --config vigie.yml      # idempotent: run it on every deploy
      vigie es check --config vigie.yml
      vigie es template > index-template.json
    """


@es.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), required=True)
def setup(config_path: str) -> None:
    """Create or update the ILM policy, templates, write alias and indices (safe to re-run)."""
    with _opened(config_path) as store:
        for line in store.setup():
            click.echo(f"ok  {line}")


@es.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), required=True)
def check(config_path: str) -> None:
    """Connect, show the cluster version and whether `vigie es setup` has run."""
    with _opened(config_path) as store:
        info = store.check()
        version = info.get("version", {})
        click.echo(f"cluster {info.get('cluster_name')} version {version.get('number')} "
                   f"({version.get('distribution', 'elasticsearch')})")
        ready = bool(store.es.indices.exists_alias(name=store.names.posts).body)
        click.echo(f"write alias {store.names.posts}: {'present' if ready else 'missing (run vigie es setup)'}")
        if ready:
            click.echo(f"posts stored: {store.count_posts()}")


@es.command()
@click.option("--prefix", default="vigie", show_default=True)
@click.option("--retention-days", type=int, default=90, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of stdout.")
def template(prefix: str, retention_days: int, out: Path | None) -> None:
    """Print the ILM policy and index templates `setup` installs (what the Kibana dashboards rely on)."""
    from vigie.store.elasticsearch.schema import export_text

    text = export_text(prefix, retention_days)
    if out:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}")
    else:
        click.echo(text, nl=False)
