"""PagerDuty channel (`type: pagerduty`): Events API v2 (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/).

One Vigie alert = one PagerDuty incident, keyed by `dedup_key = alert.dedup_key` (stable for the whole
episode). open/escalate/update → `trigger` (PagerDuty folds repeated triggers with the same key into the
open incident instead of paging again), acknowledge → `acknowledge`, resolve → `resolve`. That makes
every call idempotent, so `deliver` may safely repeat one interrupted by a crash.
"""

from __future__ import annotations

from typing import Any

from alerts.notify import content
from alerts.notify.base import Notifier, RetryPolicy, SendError, attempt
from alerts.notify.build import CommonOptions
from alerts.notify.http import post_json
from alerts.notify.i18n import translator
from alerts.notify.rules import Rules
from vigie.core.config import CHANNELS, ChannelConfig
from vigie.core.models import Alert, Delivery, Level, iso

DEFAULT_BASE_URL = "https://events.pagerduty.com"
SEVERITY = {Level.WATCH: "info", Level.WARNING: "warning", Level.CRISIS: "critical"}
ACTION = {"open": "trigger", "escalate": "trigger", "update": "trigger", "acknowledge": "acknowledge", "resolve": "resolve"}
SUMMARY_MAX = 1024  # PagerDuty truncates payload.summary at 1024 characters


class PagerDutyOptions(CommonOptions):
    source: str = "vigie"


@CHANNELS.decorator("pagerduty")
class PagerDutyConfig(ChannelConfig):
    """Reads `routing_key_env` (the variable holding the routing key) and `url` (the API base URL:
    https://events.eu.pagerduty.com for EU accounts)."""

    secret_key = "routing_key_env"
    secret_default = "PAGERDUTY_ROUTING_KEY"
    options_model = PagerDutyOptions

    def notifier(self, setup: Any) -> "PagerDutyNotifier":
        key = setup.secret("PagerDuty Events API v2 routing key")
        return PagerDutyNotifier(key, base_url=self.url, retry=setup.retry, timeout=setup.options.timeout_s,
                                 source=setup.options.source, language=setup.options.language, **setup.common())


class PagerDutyNotifier(Notifier):
    idempotent = True  # dedup_key: a repeated event never opens a second incident
    pager = True  # an acknowledged alert is not re-paged on updates (alerts.notify.rules)

    def __init__(self, routing_key: str, *, min_level: Level = Level.CRISIS, channel: str = "pagerduty",
                 base_url: str | None = None, retry: RetryPolicy | None = None, timeout: float = 10, source: str = "vigie",
                 rules: Rules | None = None, kinds: Any = None, language: str = "en"):
        super().__init__(channel=channel, min_level=min_level, rules=rules, kinds=kinds)
        self._ = translator(language)
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.source = source
        self.url = (base_url or DEFAULT_BASE_URL).rstrip("/") + "/v2/enqueue"
        self._routing_key = routing_key

    def event(self, alert: Alert, event: str) -> dict[str, Any]:
        action = ACTION.get(event, "trigger")
        body: dict[str, Any] = {"routing_key": self._routing_key, "event_action": action, "dedup_key": alert.dedup_key}
        if action != "trigger":
            return body  # acknowledge/resolve only need the key
        drivers = content.top_drivers(alert)
        _ = self._
        top = _("; top driver {name}", name=content.driver_name(drivers[0].name, _)) if drivers else ""
        body["payload"] = {
            # The summary is what the phone call / SMS reads out: no post text in it, only Vigie's words
            # (in the channel's language; the keys and machine values below stay as PagerDuty documents them).
            "summary": content.clean(f"[Vigie] {content.title(alert, event, _)}: {content.summary_line(alert, _)}"
                                     + top, SUMMARY_MAX),
            "source": self.source,
            "severity": SEVERITY.get(alert.level, "warning"),
            "timestamp": iso(alert.updated_at),
            "component": alert.topic_id,
            "group": "social-listening",
            "class": "bad-buzz",
            "custom_details": {
                "alert_id": alert.id,
                "level": alert.level.value,
                "risk": round(alert.risk, 1),
                "peak_risk": round(alert.peak_risk, 1),
                "state": alert.state.value,
                "drivers": [f"{content.driver_name(d.name, _)} +{d.points:.0f}: {content.explanation(d, _)}" for d in drivers],
                "evidence": [
                    {"author": p.author, "followers": p.followers, "text": p.excerpt, "url": p.url}
                    for p in content.evidence(alert, 3, excerpt_chars=280)
                ],
            },
        }
        story = content.story_lines(alert, _, excerpt_chars=280)
        if story:
            # What the incident is about (first report, amplifiers, copy clusters, what is rising), one line per
            # fact as PagerDuty shows custom details: plain JSON strings, never in the summary that is read out.
            body["payload"]["custom_details"]["story"] = [
                f"{line.label}: {line.text}" + (f" — “{line.quote}”" if line.quote else "") + (f" {line.url}" if line.url else "")
                for line in story]
        body["client"] = "Vigie"
        links = content.links(alert)
        if links:
            body["links"] = [{"href": url, "text": _("Open {name}", name=name)} for name, url in links.items()]
            body["client_url"] = next(iter(links.values()))
        return body

    def send(self, alert: Alert, event: str) -> Delivery:
        body = self.event(alert, event)
        return attempt(self.channel, event, alert, lambda: self._post(body), self.retry, [self._routing_key])

    def _post(self, body: dict[str, Any]) -> str:
        resp = post_json(self.url, body, timeout=self.timeout, what="PagerDuty Events API")
        try:
            data = resp.json()
        except ValueError:
            raise SendError(f"PagerDuty Events API: malformed answer (HTTP {resp.status})", retryable=True) from None
        if not isinstance(data, dict) or data.get("status") != "success":
            raise SendError(f"PagerDuty Events API: unexpected answer {str(data)[:200]}", retryable=False)
        return str(data.get("dedup_key") or body["dedup_key"])
