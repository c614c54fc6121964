"""`vigie serve`: where people act on alerts without a shell.

One ASGI app (Starlette on uvicorn), beside Airflow or cron:
- `POST /slack/actions`: Slack interactivity (buttons, overflow menus). The request signature is checked
  (v0 HMAC-SHA256 of "v0:<timestamp>:<body>" with the signing secret, at most 5 minutes old, slack_sdk's
  SignatureVerifier) before anything is read from the payload.
- Slack Socket Mode (slack_bolt) when `serve.slack_app_token_env` is set: Slack pushes the same payloads
  over a websocket the process opens, so no public URL is needed.
- `POST /pagerduty/webhook`: PagerDuty webhooks v3 (X-PagerDuty-Signature "v1=<hex HMAC-SHA256 of the
  body>"); incident.acknowledged / incident.resolved act on the alert whose dedup key is the incident key.
- `GET /a/<token>` shows a confirmation page for a signed one-click link (vigie/core/action_links.py);
  `POST /a/<token>` does the action. Link scanners only GET, so they never act.
- `GET /healthz`.

Every route authenticates, then hands an `ActionRequest` to the one pipeline step (vigie/pipeline/actions.py),
which records it, updates Slack in place, threads a note and syncs PagerDuty through the outbox.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import logging
import os
import re
import threading
import time
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import parse_qs

from alerts.notify.i18n import LANGUAGES, Translate, translator
from vigie.core import messages, secrets
from vigie.core.messages import N_
from vigie.core.action_links import BadLink, link_secret, verify
from vigie.core.actions import ActionRefused, ActionRequest, Allowed, describe
from vigie.core.config import VigieConfig
from vigie.core.models import Alert
from vigie.pipeline.actions import ActionBusy, ActionResult, perform
from vigie.store import open_store

log = logging.getLogger("vigie.app.serve")

REPLAY_WINDOW_S = 300  # Slack's recommendation: refuse requests older than 5 minutes
PD_EVENTS = {"incident.acknowledged": "acknowledge", "incident.resolved": "resolve"}
MEMBERS_TTL_S = 300  # user group / channel membership is read again after 5 minutes


def slack_signature_ok(secret: str, body: bytes, timestamp: str | None, signature: str | None) -> bool:
    """Slack's v0 request signature (slack_sdk's verifier: HMAC-SHA256 of "v0:<ts>:<body>", constant-time
    comparison), refusing a timestamp more than 5 minutes away (a replayed request)."""
    from slack_sdk.signature import SignatureVerifier

    if not timestamp or not signature or not timestamp.isdigit():
        return False
    return SignatureVerifier(secret).is_valid(body, timestamp, signature)


def pagerduty_signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """PagerDuty webhooks v3: X-PagerDuty-Signature holds one or more "v1=<hex>" (several while a secret
    is being rotated); any match is enough."""
    if not header:
        return False
    expected = "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, s.strip()) for s in header.split(","))


class ActionService:
    """The part of `vigie serve` that is not HTTP: authorise, translate, perform."""

    def __init__(self, config: VigieConfig, notifiers: list[Any], *, slack_client: Any = None,
                 clock: Callable[[], datetime] | None = None):
        self.config = config
        self.notifiers = notifiers
        allowed = config.serve.allowed
        self.allowed = Allowed(allowed.slack_users, allowed.slack_groups, allowed.slack_channels, allowed.pagerduty_services)
        self.slack_client = slack_client
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self._members: dict[str, tuple[float, set[str]]] = {}
        self._lock = threading.Lock()

    # -- the one way in ------------------------------------------------------------------------
    def act(self, req: ActionRequest, origin_channels: tuple[str, ...] = ()) -> ActionResult:
        store = open_store(self.config.store)
        try:
            return perform(store, self.config, self.notifiers, req, origin_channels=origin_channels)
        finally:
            store.close()

    def alert(self, alert_id: str) -> Alert | None:
        store = open_store(self.config.store)
        try:
            return store.get_alert(alert_id)
        finally:
            store.close()

    # -- Slack ---------------------------------------------------------------------------------
    def member_of(self, user: str) -> set[str]:
        """The allowed user groups and channels `user` belongs to (Slack Web API, cached)."""
        out: set[str] = set()
        if self.slack_client is None:
            return out
        for group in self.allowed.slack_groups + self.allowed.slack_channels:
            if user in self._group_members(group):
                out.add(group)
        return out

    def _group_members(self, group: str) -> set[str]:
        with self._lock:
            cached = self._members.get(group)
            if cached and time.monotonic() - cached[0] < MEMBERS_TTL_S:
                return cached[1]
        try:
            if group.startswith("S"):
                members = set(self.slack_client.usergroups_users_list(usergroup=group).get("users") or [])
            else:
                members = set(self.slack_client.conversations_members(channel=group, limit=1000).get("members") or [])
        except Exception as exc:  # a Slack outage refuses the action (clear message) rather than allowing it
            log.warning("could not read the members of %s: %s", group, type(exc).__name__)
            return set()
        with self._lock:
            self._members[group] = (time.monotonic(), members)
        return members

    def slack_request(self, payload: dict[str, Any]) -> ActionRequest | None:
        """The action a Slack block_actions payload asks for (None: not one of Vigie's buttons)."""
        if payload.get("type") != "block_actions" or not payload.get("actions"):
            return None
        act = payload["actions"][0]
        action_id = str(act.get("action_id") or "")
        if not action_id.startswith("vigie:"):
            return None  # link buttons ("Open kibana") also send block_actions: nothing to do
        user = str((payload.get("user") or {}).get("id") or "")
        at = self.clock()
        name = action_id.split(":")[1]
        if name == "sentiment_wrong":
            alert_id, _, rest = str((act.get("selected_option") or {}).get("value") or "").partition("|")
            index, _, label = rest.partition("|")
            alert = self.alert(alert_id)
            if alert is None or not index.isdigit() or int(index) >= len(alert.evidence):
                raise ActionRefused(N_("this post is no longer part of the alert's evidence"))
            post_id = alert.evidence[int(index)].id
            return ActionRequest(name, alert_id, user, "slack", at, post_id=post_id, label=label)
        return ActionRequest(name, str(act.get("value") or ""), user, "slack", at)

    def slack_language(self, payload: dict[str, Any]) -> str:
        """The `options.language` of the Slack channel the click came from: the `slack_bot` channel whose
        `channel` is the payload's channel (id or #name); else the one language all Slack channels share;
        else English."""
        where = payload.get("channel") or {}
        ids = {str(where.get("id") or ""), "#" + str(where.get("name") or "")} - {"", "#"}
        slack = [ch for ch in self.config.channels if ch.type == "slack_bot"]
        languages = {str(ch.options.get("language") or "en") for ch in slack}
        here = [ch for ch in slack if ch.channel in ids]
        if here:
            languages = {str(here[0].options.get("language") or "en")}
        lang = languages.pop() if len(languages) == 1 else "en"
        return lang if lang in LANGUAGES else "en"

    def handle_slack(self, payload: dict[str, Any]) -> str | None:
        """Do what a Slack payload asks; returns the message to show the clicking user only (refusals,
        errors), in the channel's language, or None when the message update in place says it all."""
        _ = translator(self.slack_language(payload))
        try:
            req = self.slack_request(payload)
            if req is None:
                return None
            refusal = self.allowed.refusal_message("slack", req.actor, member_of=self.member_of(req.actor))
            if refusal:
                return _("Refused: {reason}.", reason=messages.text(refusal, _))
            result = self.act(req)
        except ActionRefused as exc:
            return _("Refused: {reason}.", reason=messages.text(exc.message, _))
        except KeyError:
            return _("This alert is not in Vigie's store (was the store reset?).")
        except ActionBusy as exc:
            return _("Not done: {reason}.", reason=messages.text(exc.message, _))
        if not result.changed:
            return _("Already done: {note}.", note=describe(result.outcome.record, _))
        return None

    def slack_failure(self, payload: dict[str, Any]) -> str:
        """What the clicking user reads when the action failed unexpectedly (after Slack got its 200)."""
        _ = translator(self.slack_language(payload))
        return _("Not done: Vigie could not record this action (see the `vigie serve` log); try again.")

    def reply_ephemeral(self, payload: dict[str, Any], text: str) -> None:
        """Show `text` to the clicking user only, through the payload's response_url."""
        url = payload.get("response_url")
        if not url:
            return
        import requests

        try:
            requests.post(url, json={"response_type": "ephemeral", "replace_original": False, "text": text}, timeout=10)
        except requests.RequestException as exc:
            log.warning("could not answer on Slack's response_url: %s", type(exc).__name__)

    # -- PagerDuty -----------------------------------------------------------------------------
    def handle_pagerduty(self, body: dict[str, Any]) -> str:
        event = body.get("event") or {}
        action = PD_EVENTS.get(str(event.get("event_type")))
        if action is None:
            return f"ignored {event.get('event_type')!r}"
        data = event.get("data") or {}
        key = str(data.get("incident_key") or "")
        if not key.startswith("vigie:"):
            return "ignored: not a Vigie incident"
        service = (data.get("service") or {}).get("id")
        agent = event.get("agent") or {}
        actor = str(agent.get("summary") or agent.get("id") or "PagerDuty")
        refusal = self.allowed.refusal("pagerduty", actor, service=service)
        if refusal:
            return f"refused: {refusal}"
        pd_channels = tuple(n.channel for n in self.notifiers if getattr(n, "pager", False))
        req = ActionRequest(action, Alert.make_id(key), actor, "pagerduty", self.clock())
        try:
            result = self.act(req, origin_channels=pd_channels)
        except KeyError:
            return "ignored: no such alert"
        return "done" if result.changed else "already done"


# -- HTML of the one-click pages (every value escaped) ------------------------------------------

PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Vigie · {title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#222}}
button{{font-size:1.1rem;padding:.6rem 1.4rem;border:0;border-radius:6px;background:#1d6fdb;color:#fff}}
.error{{color:#a00}}</style></head><body><h1>{title}</h1>{body}</body></html>"""

ACTION_LABEL = {"acknowledge": "Acknowledge", "resolve": "Resolve", "false_alarm": "Mark as false alarm",
                "real_crisis": "Mark as real crisis", "mute_2h": "Mute the topic for 2 hours",
                "mute_24h": "Mute the topic for 24 hours"}  # msgids: translated by the page's language


def page_translator(language: str) -> Translate:
    """The pages speak the language of the channel that sent the link (its `options.language`, carried
    in the signed link); English when it is unknown."""
    return translator(language if language in LANGUAGES else "en")


def page(title: str, body: str, status: int = 200, lang: str = "en") -> Any:
    from starlette.responses import HTMLResponse

    return HTMLResponse(PAGE.format(title=html.escape(title), body=body, lang=html.escape(lang)), status_code=status,
                        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
                                 "X-Frame-Options": "DENY"})


def build_app(config: VigieConfig, service: ActionService) -> Any:
    from starlette.applications import Starlette
    from starlette.background import BackgroundTask
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse, Response
    from starlette.routing import Route

    serve = config.serve
    slack_secret = os.environ.get(serve.slack_signing_secret_env)
    pd_secret = os.environ.get(serve.pagerduty_webhook_secret_env)
    secrets.register(slack_secret, pd_secret)

    def links_secret() -> str:
        return link_secret(serve.link_secret_env)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True, "slack": bool(slack_secret), "pagerduty": bool(pd_secret)})

    async def slack_actions(request: Request) -> Response:
        body = await request.body()
        if not slack_secret:
            return PlainTextResponse(f"Slack interactivity is off: {serve.slack_signing_secret_env} is not set", 503)
        if not slack_signature_ok(slack_secret, body, request.headers.get("x-slack-request-timestamp"),
                                  request.headers.get("x-slack-signature")):
            log.warning("Slack request refused: bad signature or older than %ss", REPLAY_WINDOW_S)
            return PlainTextResponse("invalid signature", 401)
        try:
            payload = json.loads(parse_qs(body.decode())["payload"][0])
        except (KeyError, ValueError, UnicodeDecodeError):
            return PlainTextResponse("expected a form field `payload` holding JSON", 400)

        def run() -> None:
            try:
                message = service.handle_slack(payload)
            except Exception as exc:  # after the 200: tell the person rather than fail silently
                log.error("Slack action failed: %s", type(exc).__name__)
                message = service.slack_failure(payload)
            if message:
                service.reply_ephemeral(payload, message)

        # Slack wants an answer within 3 s: acknowledge now, act right after (chat.update shows the result).
        return Response(status_code=200, background=BackgroundTask(run))

    async def pagerduty(request: Request) -> Response:
        body = await request.body()
        if not pd_secret:
            return PlainTextResponse(f"PagerDuty webhooks are off: {serve.pagerduty_webhook_secret_env} is not set", 503)
        if not pagerduty_signature_ok(pd_secret, body, request.headers.get("x-pagerduty-signature")):
            log.warning("PagerDuty webhook refused: bad signature")
            return PlainTextResponse("invalid signature", 401)
        try:
            data = json.loads(body)
        except ValueError:
            return PlainTextResponse("expected JSON", 400)
        from starlette.concurrency import run_in_threadpool

        try:
            outcome = await run_in_threadpool(service.handle_pagerduty, data)
        except ActionBusy as exc:  # PagerDuty retries a webhook answered with a 5xx
            return JSONResponse({"result": f"busy: {exc}"}, status_code=503)
        return JSONResponse({"result": outcome})

    async def link(request: Request) -> Response:
        token = request.path_params["token"]
        try:
            claims = verify(links_secret(), token, service.clock())
        except BadLink as exc:
            _ = page_translator(exc.language)
            return page(_("Link not valid"), f'<p class="error">{html.escape(messages.text(exc.message, _))}</p>', 400,
                        lang=exc.language)
        from starlette.concurrency import run_in_threadpool

        lang = claims.language if claims.language in LANGUAGES else "en"
        _ = page_translator(lang)
        unknown = _("This alert is not in Vigie's store.")
        alert = await run_in_threadpool(service.alert, claims.alert_id)
        if alert is None:
            return page(_("Unknown alert"), f'<p class="error">{html.escape(unknown)}</p>', 404, lang)
        what = _(ACTION_LABEL[claims.action])
        e = html.escape
        summary = "<p>" + _("<b>{level}</b> on topic <b>{topic}</b>, risk {risk}/100, state {state} (alert <code>{id}</code>).",
                            level=e(_(alert.level.value.upper())), topic=e(alert.topic_id), risk=f"{alert.risk:.0f}",
                            state=e(_(alert.state.value)), id=e(alert.id)) + "</p>"
        if request.method == "GET":
            form = ('<form method="post"><p>' + _("{what} as <b>{who}</b>?", what=e(what), who=e(claims.recipient))
                    + f'</p><button type="submit" id="confirm">{e(what)}</button></form>')
            return page(_("Confirm: {what}", what=what), summary + form, lang=lang)
        req = ActionRequest(claims.action, claims.alert_id, claims.recipient, "link", service.clock())
        try:
            result = await run_in_threadpool(service.act, req)
        except (ActionRefused, ActionBusy) as exc:
            return page(_("Not done"), f'<p class="error">{e(messages.text(exc.message, _))}</p>', 409, lang)
        except KeyError:
            return page(_("Unknown alert"), f'<p class="error">{e(unknown)}</p>', 404, lang)
        note = describe(result.outcome.record, _)
        if not result.changed:
            return page(_("Already done"), summary + f"<p>{e(note)}</p>", lang=lang)
        return page(_("Done"), summary + f'<p id="done">{e(note)}</p>', lang=lang)

    return Starlette(routes=[
        Route("/healthz", healthz),
        Route("/slack/actions", slack_actions, methods=["POST"]),
        Route("/pagerduty/webhook", pagerduty, methods=["POST"]),
        Route("/a/{token}", link, methods=["GET", "POST"]),
    ])


def slack_web_client(config: VigieConfig) -> Any:
    """A Web API client with the first `slack_bot` channel's token (membership checks, Socket Mode)."""
    from slack_sdk import WebClient

    from vigie.core.config import channel_secret_env

    for ch in config.channels:
        if ch.type == "slack_bot":
            token = os.environ.get(channel_secret_env(ch) or "")
            if token:
                kwargs: dict[str, Any] = {"token": token}
                if ch.url:
                    kwargs["base_url"] = ch.url.rstrip("/") + "/"
                return WebClient(**kwargs)
    return None


def socket_mode(config: VigieConfig, service: ActionService, client: Any) -> Any:
    """A connected slack_bolt Socket Mode handler answering Vigie's buttons (None when not configured)."""
    name = config.serve.slack_app_token_env
    app_token = os.environ.get(name) if name else None
    if not app_token:
        return None
    if client is None:
        raise ValueError("Socket Mode needs a `slack_bot` channel (its bot token) in `channels`")
    secrets.register(app_token)
    from slack_bolt import App
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    app = App(client=client, token_verification_enabled=False, logger=logging.getLogger("vigie.app.serve.bolt"))

    @app.action(re.compile(r"^vigie:"))
    def on_action(ack: Any, body: dict[str, Any]) -> None:
        ack()  # within 3 s, as over HTTP; the action itself follows
        message = service.handle_slack(body)
        if message:
            service.reply_ephemeral(body, message)

    handler = SocketModeHandler(app, app_token, logger=logging.getLogger("vigie.app.serve.socket"))
    handler.connect()
    return handler
