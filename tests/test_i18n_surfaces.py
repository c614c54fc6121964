"""French on the surfaces that used to be English only: the risk drivers' explanations (kept language-neutral by
detection, translated by each channel), the console channel, PagerDuty's summary and `vigie serve`'s one-click
pages. English stays as it was (the other tests pin it); here each surface is shown in French."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
import requests

from alerts.detect import Detector
from alerts.notify import build_notifiers, content
from alerts.notify.channels.console import ConsoleNotifier
from alerts.notify.channels.pagerduty import PagerDutyNotifier
from alerts.notify.i18n import translator
from alerts.notify.receiver import LocalReceiver
from detect_fixtures import T0, background, burst
from serve_fixtures import ServeRig
from test_detect import TOPIC_CFG
from vigie.core.action_links import sign
from vigie.core.config import ChannelConfig, DetectionConfig
from vigie.core.models import Alert, AlertState, Level
from vigie.sim.sample_alerts import make_alert
from vigie.store.sqlite import SqliteStore

FR = translator("fr")
NOON = T0 + timedelta(days=3, hours=13)
# English words of the explanations that must not survive in French (the numbers and data do).
ENGLISH = re.compile(r"\b(over baseline|vs|usual|posts|followers|damped|fading|over the last|distinct authors|"
                     r"negative (volume|share)|sources at once)\b")


@pytest.fixture(scope="module")
def drivers(tmp_path_factory):
    """The drivers of a real assessment (SQLite store, the Detector) during a burst on three sources, with a
    slow trickle on a fourth before it: volume, share, sustained, spread and authors drivers with their
    "over the last" and damped clauses."""
    store = SqliteStore(tmp_path_factory.mktemp("i18n") / "t.db")
    store.upsert_posts(background(T0, 3 * 24 + 20, seed=21, sources=("x", "reddit", "mastodon", "feeds")))
    store.upsert_posts(burst(NOON, [2, 4, 8, 12, 20, 30, 30, 20], first_id=100_000, sources=("x", "reddit", "mastodon")))
    store.upsert_posts(burst(NOON - timedelta(hours=2), [1] * 24, first_id=200_000, sources=("feeds",)))
    found = {}
    for minutes in (30, 40, 120, 150):
        for d in Detector(DetectionConfig()).assess(TOPIC_CFG, store, NOON + timedelta(minutes=minutes)).drivers:
            found.setdefault(d.name, d)
    store.close()
    assert {"negative_volume", "negative_share", "sustained", "spread"} <= set(found), sorted(found)
    return list(found.values())


def alert_with(drivers, level=Level.CRISIS) -> Alert:
    alert = make_alert(level=level, risk=82)
    alert.drivers = sorted(drivers, key=lambda d: -d.points)
    return alert


def test_driver_explanations_are_written_in_the_channels_language(drivers, tmp_path):
    for d in drivers:
        assert content.explanation(d) == content.clean(d.explanation, 300)  # English: the stored text
        assert content.explanation(d, translator("en")) == content.clean(d.explanation, 300)
        french = content.explanation(d, FR)
        assert french != content.explanation(d) and " : +" in french, french
        assert not ENGLISH.search(french), french
    by_name = {d.name: content.explanation(d, FR) for d in drivers}
    assert by_name["negative_volume"].startswith("volume négatif ×") and "au-dessus de la normale" in by_name["negative_volume"]
    assert "sources à la fois" in by_name["spread"]
    assert any("sur les dernières" in t for t in by_name.values())
    # Stored and read back (JSON in SQLite), the message still translates.
    store = SqliteStore(tmp_path / "a.db")
    store.save_alert(alert_with(drivers))
    again = store.get_alert(make_alert().id)
    store.close()
    assert [content.explanation(d, FR) for d in again.drivers] == [content.explanation(d, FR) for d in alert_with(drivers).drivers]


def test_a_driver_without_a_message_keeps_its_english_text():
    d = make_alert().drivers[0]  # an alert stored before messages, or a plugin driver
    assert d.message is None and content.explanation(d, FR) == d.explanation


def test_french_slack_email_and_teams_explain_drivers_in_french(drivers):
    from alerts.notify import email_message, slack_blocks, teams_card

    alert = alert_with(drivers)
    top = content.explanation(content.top_drivers(alert)[0], FR)
    assert top in str(slack_blocks.message(alert, "open", _=FR)).replace("&gt;", ">").replace("&lt;", "<")
    plain = email_message.build_message(alert, "open", "v@acme.example", ["d@acme.example"], _=FR)
    assert top in plain.get_body(("plain",)).get_content()
    assert top in json.dumps(teams_card.card(alert, "open", _=FR), ensure_ascii=False)


def test_french_console(drivers):
    out = io.StringIO()
    [console] = build_notifiers([ChannelConfig(type="console", min_level="watch", options={"language": "fr"})], console=out)
    alert = alert_with(drivers)
    alert.acknowledged_by = "dircom"
    assert console.send(alert, "open").status == "sent"
    text = out.getvalue()
    assert "CRISE · acme — ouverte" in text and "risque 82/100" in text
    assert "prise en compte par dircom" in text and "pourquoi :" in text and "publications :" in text
    assert "volume négatif: volume négatif ×" in text  # the driver's name, then its explanation, in French
    assert "abonnés" in text and "interactions" in text
    assert not re.search(r"\b(why|evidence|followers|acknowledged by|over baseline)\b", text), text
    alert.state = AlertState.RESOLVED
    console.send(alert, "resolve")
    assert "✔ RÉSOLUE · acme" in out.getvalue() and "pic 82/100 (crise), risque actuel 82" in out.getvalue()
    digest = io.StringIO()
    ConsoleNotifier(digest, language="fr").send_digest([(alert_with(drivers), "open"), (make_alert(topic="globex"), "open")])
    assert "2 sujets en alerte en même temps (le plus grave : CRISE)" in digest.getvalue()


def test_french_pagerduty_summary_keeps_the_payload_structure(drivers):
    with LocalReceiver() as server:
        for language in ("en", "fr"):
            PagerDutyNotifier("rk-i18n", base_url=server.url, language=language).send(alert_with(drivers), "open")
        english, french = (r.json for r in server.to("/v2/enqueue"))
    assert french["payload"]["summary"].startswith("[Vigie] CRISE · acme — ouverte: risque 82/100, état ouverte ; "
                                                   "facteur principal : ")
    assert english["payload"]["summary"].startswith("[Vigie] CRISIS · acme — opened: risk 82/100, state open; top driver ")

    def shape(value):
        if isinstance(value, dict):
            return {k: shape(v) for k, v in value.items()}
        if isinstance(value, list):
            return [shape(v) for v in value]
        return type(value).__name__

    assert shape(french) == shape(english)  # same keys, same types: only Vigie's words change
    for key in ("source", "severity", "component", "group", "class", "timestamp"):
        assert french["payload"][key] == english["payload"][key]
    assert french["payload"]["custom_details"]["drivers"][0].startswith("volume négatif +")
    assert french["links"][0]["text"] == "Ouvrir kibana"


@pytest.fixture
def receiver():
    with LocalReceiver() as r:
        yield r


def test_vigie_serve_pages_speak_the_language_of_the_channel_that_sent_the_link(tmp_path, receiver, monkeypatch):
    monkeypatch.setenv("TEAMS_WEBHOOK_URL", receiver.url + "/teams/workflows/x?sig=abc123")
    rig = ServeRig(tmp_path, receiver, monkeypatch,
                   channels="  - type: teams\n    min_level: watch\n    options: {retry_attempts: 1, timeout_s: 2, "
                            "language: fr, action_links_url: 'https://vigie.example'}\n").start()
    try:
        [teams] = [n for n in rig.service.notifiers if n.channel == "teams"]
        assert teams.send(rig.alert(), "open").status == "sent"
        card = json.dumps(receiver.to("/teams")[0].json, ensure_ascii=False)
        tokens = dict(re.findall(r'"title": "([^"]+)", "url": "https://vigie\.example/a/([^"]+)"', card))
        url = f"{rig.url}/a/{tokens['Fausse alerte']}"
        page = requests.get(url, timeout=5)
        assert page.status_code == 200 and '<html lang="fr">' in page.text
        assert "Confirmer : Marquer comme fausse alerte" in page.text
        assert "<b>ALERTE</b> sur le sujet <b>acme</b>, risque 62/100, état : ouverte" in page.text
        assert "en tant que <b>teams recipients</b> ?" in page.text
        done = requests.post(url, timeout=10)
        assert done.status_code == 200 and "<title>Vigie · C’est fait</title>" in done.text
        assert requests.post(url, timeout=10).text.count("Déjà fait") == 2  # title and heading
        # An expired French link says so in French; an English link's page stays English.
        expired = sign("link-secret-for-tests-0123456789", make_alert().id, "acknowledge", "x",
                       datetime.now(timezone.utc) - timedelta(seconds=1), "fr")
        r = requests.get(f"{rig.url}/a/{expired}", timeout=5)
        assert r.status_code == 400 and "Lien non valide" in r.text and "ce lien a expiré le" in r.text
        english = sign("link-secret-for-tests-0123456789", make_alert().id, "resolve", "x",
                       datetime.now(timezone.utc) + timedelta(hours=1))
        r = requests.get(f"{rig.url}/a/{english}", timeout=5)
        assert '<html lang="en">' in r.text and "Confirm: Resolve" in r.text
    finally:
        rig.stop()


# -- French numbers ---------------------------------------------------------------------------------

DECIMAL_POINT = re.compile(r"\d\.\d")


def test_numbers_are_written_the_french_way_in_french_and_unchanged_in_english(drivers):
    from alerts.notify import slack_blocks
    from alerts.notify.i18n import local_number

    assert [local_number(v, "fr") for v in ("10.8", "12,500", "12500", "42%", "+35%", "1.2k", "82")] == \
        ["10,8", "12\u202f500", "12\u202f500", "42\u00a0%", "+35\u00a0%", "1,2k", "82"]
    # Not numbers, or identifiers: left alone.
    for value in ("2026-03-10T14:05:00Z", "c0c8f77b7ea3", "123456789012", "≤1", "user1", "v1.2.3"):
        assert local_number(value, "fr") == value
    assert local_number("10.8", "en") == "10.8"
    english = [content.explanation(d) for d in drivers]
    french = [content.explanation(d, FR) for d in drivers]
    assert any(DECIMAL_POINT.search(t) for t in english)  # the English texts carry decimals...
    assert not any(DECIMAL_POINT.search(t) for t in french), french  # ... written with a comma in French
    assert any(re.search(r"×\d+,\d", t) for t in french)
    alert = alert_with(drivers)
    fr_msg = json.dumps(slack_blocks.message(alert, "open", _=FR), ensure_ascii=False)
    en_msg = json.dumps(slack_blocks.message(alert, "open"), ensure_ascii=False)
    assert "120\u202f000 abonnés" in fr_msg and "4\u202f000 interactions" in fr_msg
    assert "120,000 followers" in en_msg and "4,000 interactions" in en_msg
    assert content.title(alert, "resolve", FR) == "RÉSOLUE · acme — pic CRISE 82/100"


# -- vigie serve: what the clicking Slack user reads --------------------------------------------------

def test_vigie_serve_slack_replies_in_the_channels_language(tmp_path, receiver, monkeypatch):
    from serve_fixtures import block_actions
    from test_serve import post_slack, wait_requests
    from vigie.core.actions import records

    alert_id = make_alert().id
    rig = ServeRig(tmp_path, receiver, monkeypatch, extra="  allowed: {slack_users: [U0BOB]}\n", language="fr").start()
    respond = receiver.url + "/respond"
    try:
        post_slack(rig, block_actions(alert_id, "acknowledge", user="U0MALLORY", response_url=respond))
        [refused] = wait_requests(receiver, "/respond")
        assert refused.json["text"] == ("Refusé : <@U0MALLORY> n’est pas autorisé·e à agir sur les alertes Vigie "
                                        "(autorisé·es : serve.allowed.slack_users, serve.allowed.slack_groups, "
                                        "serve.allowed.slack_channels).")
        post_slack(rig, block_actions(alert_id, "acknowledge", user="U0BOB"))
        rig.wait_for(lambda a: records(a))
        post_slack(rig, block_actions(alert_id, "acknowledge", user="U0BOB", response_url=respond))
        again = wait_requests(receiver, "/respond", n=2)[1].json["text"]
        assert again.startswith("Déjà fait : Prise en compte par U0BOB via slack le "), again
        post_slack(rig, block_actions(alert_id, "sentiment_wrong:9", user="U0BOB", selected=f"{alert_id}|9|positive",
                                      response_url=respond))
        gone = wait_requests(receiver, "/respond", n=3)[2].json["text"]
        assert gone == "Refusé : cette publication ne fait plus partie des preuves de l’alerte."
    finally:
        rig.stop()


def test_the_reply_language_is_the_clicked_channels(tmp_path, receiver, monkeypatch):
    from serve_fixtures import block_actions

    rig = ServeRig(tmp_path, receiver, monkeypatch, language="fr",
                   channels="  - type: slack_bot\n    channel: C0ENGLISH\n    token_env: SLACK_BOT_TOKEN\n"
                            "    options: {language: en, name: slack_global}\n")
    payload = block_actions(make_alert().id, "resolve")
    assert rig.service.slack_language(payload) == "fr"  # C0VIGIE, the French channel
    payload["channel"] = {"id": "C0ENGLISH", "name": "global"}
    assert rig.service.slack_language(payload) == "en"
    payload["channel"] = {"id": "C0ELSEWHERE", "name": "other"}
    assert rig.service.slack_language(payload) == "en"  # two languages, neither channel: English
    assert rig.service.slack_failure(block_actions(make_alert().id, "resolve")).startswith("Non effectué : Vigie n’a pas")


def test_refusals_keep_their_english_text_for_the_cli():
    from vigie.core.actions import ActionRefused, ActionRequest, Allowed, apply

    refused = Allowed(slack_users=["U1"]).refusal("slack", "U2")
    assert refused == ("<@U2> is not allowed to act on Vigie alerts (allowed: serve.allowed.slack_users, "
                       "serve.allowed.slack_groups, serve.allowed.slack_channels)")
    with pytest.raises(ActionRefused) as exc:
        apply(make_alert(), ActionRequest("sentiment_wrong", make_alert().id, "alice", "slack", T0, post_id="x:1",
                                          label="positive"))
    assert str(exc.value) == f"post 'x:1' is not evidence of alert {make_alert().id}"
    from vigie.core.messages import text
    assert text(exc.value.message, FR) == f"la publication 'x:1' n’est pas une preuve de l’alerte {make_alert().id}"
