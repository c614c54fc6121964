"""`vigie serve`: the long-running process where Slack, PagerDuty and signed links act on alerts."""

from __future__ import annotations

import click

from vigie.app.cli import COMMANDS
from vigie.core.config import ConfigError, load_config


@COMMANDS.decorator("serve")
@click.command("serve")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default="vigie.yml", show_default=True,
              envvar="VIGIE_CONFIG", help="Configuration (env VIGIE_CONFIG).")
@click.option("--host", default=None, help="Listen address (default: serve.host).")
@click.option("--port", default=None, type=int, help="Listen port (default: serve.port).")
def serve(config_path: str, host: str | None, port: int | None) -> None:
    """Receive Slack buttons (HTTP or Socket Mode), PagerDuty webhooks v3 and signed one-click links, and
    act on alerts: acknowledge, resolve, false alarm, real crisis, mute, sentiment wrong.

    \b
    Environment: SLACK_SIGNING_SECRET, SLACK_APP_TOKEN (Socket Mode, with serve.slack_app_token_env),
    PAGERDUTY_WEBHOOK_SECRET, VIGIE_LINK_SECRET (serve.link_secret_env) and the channels' own secrets.
    Example:
      vigie serve --config vigie.yml --port 8090
    """
    import uvicorn

    from alerts.notify import notifiers_for
    from vigie.core.secrets import install_log_filter, register_config
    from vigie.app.serve import ActionService, build_app, slack_web_client, socket_mode

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    install_log_filter()
    register_config(config)
    client = slack_web_client(config)
    service = ActionService(config, notifiers_for(config), slack_client=client)
    try:
        handler = socket_mode(config, service, client)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if handler is not None:
        click.echo("Slack Socket Mode connected")
    try:
        uvicorn.run(build_app(config, service), host=host or config.serve.host, port=port if port is not None else config.serve.port,
                    log_level="info")
    finally:
        if handler is not None:
            handler.close()
