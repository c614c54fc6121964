"""The Kibana dashboards as a maintenance output (`vigie.pipeline.maintenance.kibana_import_if_configured`)."""

from __future__ import annotations

from collections.abc import Mapping

from vigie.app.kibana_client import KibanaError, import_saved_objects
from vigie.app.kibana_objects import ndjson
from vigie.core.config import VigieConfig
from vigie.pipeline.maintenance import OUTPUTS

KIBANA_API_KEY_ENV = "KIBANA_API_KEY"
KIBANA_USERNAME_ENV = "KIBANA_USERNAME"
KIBANA_PASSWORD_ENV = "KIBANA_PASSWORD"


def import_dashboards(config: VigieConfig, environ: Mapping[str, str]) -> list[str]:
    """Import the saved objects into `report.kibana_url`, with the credentials found in `environ`."""
    user, password = environ.get(KIBANA_USERNAME_ENV), environ.get(KIBANA_PASSWORD_ENV)
    try:
        report = import_saved_objects(
            config.report.kibana_url,
            ndjson(config.store.prefix),
            api_key=environ.get(KIBANA_API_KEY_ENV) or None,
            basic_auth=(user, password) if user and password else None,
        )
    except KibanaError as exc:
        raise RuntimeError(f"kibana import failed: {exc}") from None
    if report.errors:
        raise RuntimeError("kibana import: " + "; ".join(report.errors))
    return [f"kibana: {len(report.created)} created, {len(report.updated)} updated"]


OUTPUTS.register("kibana_dashboards", import_dashboards)
