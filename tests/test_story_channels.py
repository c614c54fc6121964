"""An alert's story on every surface: console, Slack (Block Kit, escaped), Teams, e-mail, the webhook payload
(through a real HTTP receiver on 127.0.0.1), `vigie alerts show` (text and --json, real SQLite), in English and
French. The story's texts come from posts: hostile text must stay inert data everywhere."""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone

from click.testing import CliRunner

from alerts.notify import content, email_message, slack_blocks, teams_card
from alerts.notify.channels.console import ConsoleNotifier
from alerts.notify.channels.pagerduty import PagerDutyNotifier
from alerts.notify.channels.webhook import WebhookNotifier
from alerts.notify.i18n import translator
from alerts.notify.receiver import LocalReceiver
from notify_fixtures import fast_retry
from vigie.app.cli.alerts import alerts
from vigie.core.models import Level, Story, StoryCluster, StoryPost, StoryTrend
from vigie.sim.sample_alerts import HOSTILE, make_alert
from vigie.store.sqlite import SqliteStore

T = datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc)


def story_alert():
    alert = make_alert(level=Level.CRISIS, risk=86)
    alert.story = Story(
        start=T, end=T, posts=120, negative=90, reposts=40,
        first_post=StoryPost(id="x:1", source="x", author="victime_01", followers=86, text="mon couvercle a explosé",
                             created_at=datetime(2026, 3, 10, 10, 0, tzinfo=timezone.utc)),
        first_by="terms", first_key=["couvercle", "explose"],
        amplifiers=[StoryPost(id="x:2", source="x", author="<!channel>", followers=250_000, text=HOSTILE,
                              url="https://x.example/status/2", engagement=14_634, reposts=40, reach=290_000)],
        clusters=[StoryCluster(id="x:3", size=43, authors=38, young_or_small=0.9, text="Signez, partagez <!here>",
                               first_seen=datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc))],
        rising=[StoryTrend("hashtags", "boycottacme", 25, 0, 4.2), StoryTrend("terms", "couvercle", 40, 2, 3.9)],
        sources={"x": 80, "bluesky": 25, "reddit": 15},
        press=[StoryPost(id="feeds:9", source="feeds", author="Le Quotidien", text="Enquête après des brûlures")])
    return alert


def test_slack_tells_the_story_escaped():
    msg = slack_blocks.message(story_alert(), "escalate")
    section = next(b for b in msg["blocks"] if b["type"] == "section" and b["text"]["text"].startswith("*Story*"))
    text = section["text"]["text"]
    assert section["text"]["verbatim"] is True
    assert "First report* @victime_01 (x, 86 followers) at 2026-03-10 10:00 UTC" in text
    assert "*Amplifier* @&lt;!channel&gt; (x) · 250,000 followers · 14,634 interactions · 40 reposts seen" in text
    assert "43 posts by 38 accounts (90 % young or under 50 followers), first seen 2026-03-10 12:00 UTC" in text
    assert "#boycottacme (25 vs 0 usual), couvercle (40 vs 2 usual)" in text
    assert "x 80, bluesky 25, reddit 15" in text and "Le Quotidien" in text
    assert "<!channel>" not in json.dumps(msg) and "<!here>" not in json.dumps(msg)  # no mention from post data
    assert "<https://x.example/status/2|Open post>" in text
    assert not any("*Story*" in str(b) for b in slack_blocks.message(story_alert(), "resolve")["blocks"])


def test_teams_email_and_console_tell_the_story_in_french():
    fr = translator("fr")
    alert = story_alert()
    card = json.dumps(teams_card.card(alert, "escalate", _=fr), ensure_ascii=False)
    assert "Histoire" in card and "Premier signalement: @victime_01 (x, 86 abonnés)" in card
    assert '"type": "TextRun", "text": "Amplificateur: @<!channel>' in card  # TextRun: literal, never Markdown
    msg = email_message.build_message(alert, "escalate", "v@acme.example", ["d@acme.example"], _=fr)
    plain = msg.get_body(("plain",)).get_content()
    assert "Histoire :" in plain and "43 publications par 38 comptes (90 % récents ou à moins de 50 abonnés)" in plain
    html = msg.get_body(("html",)).get_content()
    assert "<h3>Histoire</h3>" in html and "&lt;!channel&gt;" in html and "<script>" not in html
    out = io.StringIO()
    ConsoleNotifier(out, language="fr").send(alert, "escalate")
    printed = out.getvalue()
    assert "histoire :" in printed and "En hausse: #boycottacme (25 contre 0 d'habitude)" in printed
    assert "Presse: Le Quotidien le" in printed


def test_story_counts_are_written_in_the_channels_language():
    alert = story_alert()
    alert.story.sources = {"x": 12_500, "reddit": 15}
    lines = {line.label: line.text for line in content.story_lines(alert, translator("fr"))}
    assert lines["Sources"] == "x 12\u202f500, reddit 15"  # French groups thousands with a narrow no-break space
    assert "250\u202f000 abonnés" in lines["Amplificateur"]
    english = {line.label: line.text for line in content.story_lines(alert)}
    assert english["Sources"] == "x 12,500, reddit 15"


def test_webhook_payload_carries_the_story_schema_2():
    alert = story_alert()
    with LocalReceiver() as server:
        retry, _sleeps = fast_retry()
        d = WebhookNotifier(server.url + "/hook", "s3cret-for-test", retry=retry).send(alert, "escalate")
        assert d.status == "sent"
        body = server.to("/hook")[0].json
    assert body["schema"] == "vigie.alert/2"
    story = body["alert"]["story"]
    assert story["amplifiers"][0]["followers"] == 250_000 and story["amplifiers"][0]["reposts"] == 40
    assert story["clusters"][0]["size"] == 43 and story["clusters"][0]["authors"] == 38
    assert story["rising"][0] == {"kind": "hashtags", "key": "boycottacme", "window": 25, "baseline": 0, "z": 4.2}
    assert story["first_post"]["created_at"] == "2026-03-10T10:00:00Z"
    assert Story.from_dict(story) == alert.story


def test_pagerduty_incident_details_carry_the_story_but_the_spoken_summary_does_not():
    alert = story_alert()
    with LocalReceiver() as server:
        retry, _sleeps = fast_retry()
        pd = PagerDutyNotifier("R0UTINGKEY0000000000000000000000", base_url=server.url, retry=retry, language="fr")
        assert pd.send(alert, "escalate").status == "sent"
        assert pd.send(make_alert(), "escalate").status == "sent"  # an alert without a story
        with_story, without = (r.json["payload"] for r in server.to("/v2/enqueue"))
    story = with_story["custom_details"]["story"]
    assert story[0].startswith("Premier signalement: @victime_01 (x, 86 abonnés)")
    assert story[0].endswith("— “mon couvercle a explosé”")
    assert any(line.startswith("Amplificateur: @<!channel>") and line.endswith("https://x.example/status/2")
               for line in story)  # JSON string, not markup: PagerDuty shows it as text
    assert any(line.startswith("Copies: 43 publications par 38 comptes") for line in story)
    assert "couvercle" not in with_story["summary"] and "channel" not in with_story["summary"]
    assert "story" not in without["custom_details"]


def test_story_lines_are_empty_without_a_story():
    assert content.story_lines(make_alert()) == []


def test_alerts_show_prints_the_story_and_json(tmp_path):
    db = tmp_path / "v.db"
    cfg = tmp_path / "vigie.yml"
    cfg.write_text(f"topics:\n  - id: acme\n    name: Acme\n    query: acme\nstore:\n  type: sqlite\n  path: {db}\n")
    alert = story_alert()
    store = SqliteStore(db)
    store.save_alert(alert)
    store.close()
    runner = CliRunner()
    res = runner.invoke(alerts, ["show", alert.id, "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    assert "CRISIS · acme" in res.output and "story:" in res.output
    assert "Amplifier: @<!channel> (x) · 250,000 followers" in res.output  # printed as characters, not markup
    assert "First report: @victime_01" in res.output and "evidence:" in res.output
    assert res.output.count("followers, ") >= len(alert.evidence)  # every evidence post
    res = runner.invoke(alerts, ["show", alert.id, "--json", "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["id"] == alert.id and Story.from_dict(data["story"]) == alert.story
    res = runner.invoke(alerts, ["show", "nope", "--config", str(cfg)])
    assert res.exit_code != 0 and "no alert with id 'nope'" in res.output
    res = runner.invoke(alerts, ["show", alert.id, "--language", "fr", "--config", str(cfg)])
    assert res.exit_code == 0 and "histoire :" in res.output and "Premier signalement" in res.output
