"""`vigie kibana ...`: ship the dashboards."""

from __future__ import annotations

import os
from pathlib import Path

import click

from vigie.app.cli import COMMANDS


def _env(name: str | None) -> str | None:
    return os.environ.get(name) or None if name else None


@COMMANDS.decorator("kibana")
@click.group("kibana")
def kibana() -> None:
    """Kibana dashboards: import them, export them for another prefix, build deep links.

    \b
    Examples:
      export KIBANA_API_KEY=...        # or KIBANA_USERNAME / KIBANA_PASSWORD
      vigie kibana import --url https://kibana.example:5601 --space brand-team
      vigie kibana link --url https://kibana.example:5601 --topic acme --start 2026-03-02T08:00Z --end 2026-03-02T12:00Z
    """


@kibana.command("import")
@click.option("--url", required=True, help="Kibana base URL, e.g. http://localhost:5601")
@click.option("--space", default=None, help="Kibana space id [default: the default space].")
@click.option("--file", "file_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="NDJSON to import [default: Vigie's dashboards, built for --prefix].")
@click.option("--prefix", default="vigie", show_default=True, help="Index prefix of the store (store.prefix).")
@click.option("--api-key-env", default="KIBANA_API_KEY", show_default=True,
              help="Environment variable holding an API key (takes precedence over basic auth).")
@click.option("--username-env", default="KIBANA_USERNAME", show_default=True)
@click.option("--password-env", default="KIBANA_PASSWORD", show_default=True)
@click.option("--ca-certs", type=click.Path(exists=True, dir_okay=False), default=None, help="CA bundle for https.")
def import_(url: str, space: str | None, file_path: Path | None, prefix: str, api_key_env: str,
            username_env: str, password_env: str, ca_certs: str | None) -> None:
    """Import the saved objects (data views, visualisations, dashboards) with overwrite=true."""
    from vigie.app.kibana_client import KibanaError, import_saved_objects
    from vigie.app.kibana_objects import ndjson

    text = file_path.read_text(encoding="utf-8") if file_path else ndjson(prefix)
    user, password = _env(username_env), _env(password_env)
    try:
        report = import_saved_objects(url, text, space=space, api_key=_env(api_key_env),
                                      basic_auth=(user, password) if user and password else None,
                                      ca_certs=ca_certs)
    except KibanaError as exc:
        raise click.ClickException(str(exc)) from None
    for line in report.created:
        click.echo(f"created  {line}")
    for line in report.updated:
        click.echo(f"updated  {line}")
    for line in report.errors:
        click.echo(f"error    {line}", err=True)
    click.echo(f"{len(report.created)} created, {len(report.updated)} updated, {len(report.errors)} error(s)")
    if report.errors:
        raise SystemExit(1)


@kibana.command("export")
@click.option("--prefix", default="vigie", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
def export(prefix: str, out: Path | None) -> None:
    """Write the saved objects NDJSON (the committed file is dashboards/vigie.ndjson)."""
    from vigie.app.kibana_objects import ndjson

    text = ndjson(prefix)
    if out:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}")
    else:
        click.echo(text, nl=False)


@kibana.command("link")
@click.option("--url", required=True, help="Kibana base URL.")
@click.option("--topic", required=True)
@click.option("--start", required=True, help="ISO-8601 UTC")
@click.option("--end", required=True, help="ISO-8601 UTC")
@click.option("--space", default=None)
def link(url: str, topic: str, start: str, end: str, space: str | None) -> None:
    """Print the crisis-room URL for a topic and time window."""
    from vigie.core.links import crisis_room_url
    from vigie.core.models import utc

    try:
        click.echo(crisis_room_url(url, topic, utc(start), utc(end), space))
    except ValueError as exc:
        raise click.ClickException(f"bad time: {exc}") from None
