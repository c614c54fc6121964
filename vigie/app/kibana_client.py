"""Import saved objects into Kibana through its saved objects import API (`overwrite=true`).

`POST {kibana}/[s/{space}/]api/saved_objects/_import?overwrite=true`, multipart/form-data with one `file`
part holding the NDJSON, header `kbn-xsrf` (Kibana refuses API writes without it). Kibana answers 200 with
`success`, `successCount`, `successResults` (each with `overwrite: true` when it replaced an object) and
`errors` (per object: conflict, missing_references, unsupported_type, unknown); request-level problems
come back as `{"statusCode", "error", "message"}` with a 4xx/5xx status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests


class KibanaError(RuntimeError):
    """Kibana could not be reached or refused the request; the message never contains credentials."""


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)  # "type/id title"
    updated: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def import_url(base: str, space: str | None = None) -> str:
    base = base.rstrip("/")
    if space and space != "default":
        base = f"{base}/s/{quote(space, safe='')}"
    return f"{base}/api/saved_objects/_import?overwrite=true"


def _describe(item: dict[str, Any]) -> str:
    title = item.get("title") or (item.get("meta") or {}).get("title") or ""
    return f"{item.get('type')}/{item.get('id')}" + (f" {title!r}" if title else "")


def import_saved_objects(
    base: str,
    ndjson: str,
    *,
    space: str | None = None,
    api_key: str | None = None,
    basic_auth: tuple[str, str] | None = None,
    ca_certs: str | None = None,
    timeout: float = 60.0,
    filename: str = "vigie.ndjson",
) -> ImportReport:
    headers = {"kbn-xsrf": "vigie"}
    if api_key:
        headers["Authorization"] = f"ApiKey {api_key}"
    url = import_url(base, space)
    try:
        resp = requests.post(
            url,
            headers=headers,
            auth=basic_auth if not api_key else None,
            files={"file": (filename, ndjson.encode("utf-8"), "application/ndjson")},
            timeout=timeout,
            verify=ca_certs if ca_certs else True,
        )
    except requests.exceptions.SSLError:
        raise KibanaError(f"TLS failed talking to Kibana at {base}: pass --ca-certs with the cluster CA") from None
    except requests.exceptions.RequestException as exc:
        raise KibanaError(f"Kibana at {base} is unreachable ({type(exc).__name__}). Check --url.") from None
    try:
        body = resp.json()
    except ValueError:
        body = None
    if resp.status_code in (401, 403):
        raise KibanaError(
            f"Kibana refused the credentials ({resp.status_code}): check KIBANA_API_KEY or "
            "KIBANA_USERNAME/KIBANA_PASSWORD and the role's saved-objects privileges"
            + (f" ({body.get('message')})" if isinstance(body, dict) and body.get("message") else "")
        )
    if not isinstance(body, dict):
        raise KibanaError(f"{url} did not answer like Kibana (HTTP {resp.status_code}, not JSON). Check --url.")
    if resp.status_code >= 400:
        raise KibanaError(f"Kibana refused the import ({resp.status_code} {body.get('error', '')}): "
                          f"{body.get('message', body)}")
    report = ImportReport()
    for item in body.get("successResults") or []:
        (report.updated if item.get("overwrite") else report.created).append(_describe(item))
    for item in body.get("errors") or []:
        err = item.get("error") or {}
        detail = err.get("type", "unknown")
        if err.get("references"):
            missing = ", ".join(f"{r.get('type')}/{r.get('id')}" for r in err["references"])
            detail += f" (missing: {missing})"
        if err.get("message"):
            detail += f": {err['message']}"
        report.errors.append(f"{_describe(item)}: {detail}")
    if not body.get("success", False) and not report.errors:
        report.errors.append(f"Kibana reported failure without details: {body}")
    return report
