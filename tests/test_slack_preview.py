"""The Slack message preview (vigie/app/slack_preview.py): Block Kit drawn as HTML for the README's
screenshot. Untrusted post text stays text; every block type Vigie sends is drawn; one Chromium run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from alerts.notify import slack_blocks
from test_report import Page as ReportPage
from vigie.app.browser import find_chromium
from vigie.app.slack_preview import main, mrkdwn_html, png_size, render_html
from vigie.core.models import Level
from vigie.sim.sample_alerts import HOSTILE, make_alert

ROOT = Path(__file__).resolve().parents[1]


class Page(ReportPage):
    """The report tests' parsed page, plus the elements of a class."""

    def classes(self, name: str) -> list[dict[str, str | None]]:
        return [a for _, a in self.tags if name in (a.get("class") or "").split()]


def hostile_payload() -> dict:
    alert = make_alert(level=Level.CRISIS, risk=82.0)
    return slack_blocks.message(alert, "open", interactive=True, mention="S0CRISIS")


def test_untrusted_post_text_is_shown_as_text_never_markup():
    page = Page(render_html(hostile_payload()))
    assert not any(tag in ("script", "img", "iframe") for tag, _ in page.tags)
    hrefs = [a.get("href") for tag, a in page.tags if tag == "a"]
    assert "https://evil.example/phish" not in hrefs  # the post's own <url|label> was escaped by Vigie
    assert all(h.startswith("https://") for h in hrefs)
    # What the reader sees is the post's characters, Slack's entities read once.
    assert "<script>alert(1)</script>" in page.visible
    assert "<!channel> <!here> <@U024BE7LH>" in page.visible
    assert "@<@U0ADMIN>" in page.visible  # the hostile handle, as text


def test_mrkdwn_links_mentions_emphasis_and_quotes():
    out = mrkdwn_html("*Risk* 82 _now_ ~old~ `c0c8` <!subteam^S0CRISIS> <@U1> <!here>\n>quoted &lt;b&gt; &amp;amp;\n"
                      "<https://a.example/?x=1&amp;y=\"2\"|Open &lt;post&gt;> <javascript:alert(1)|click>")
    page = Page(out)
    assert [t for t, _ in page.tags if t in ("b", "i", "s", "code", "blockquote")] == ["b", "i", "s", "code", "blockquote"]
    assert [a for _, a in page.tags if "mention" in (a.get("class") or "")] and "@S0CRISIS" in page.visible
    assert "@U1" in page.visible and "@here" in page.visible
    assert "quoted <b> &amp;" in page.visible  # entities read once: "&amp;amp;" is the text "&amp;"
    links = [a for t, a in page.tags if t == "a"]
    assert links == [{"href": 'https://a.example/?x=1&y="2"'}]  # attribute quoted, the javascript: one dropped
    assert "Open <post>" in page.visible and "click" in page.visible


def test_every_block_type_is_drawn():
    payload = {"blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "🔴 CRISIS <b>", "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Why*"},
         "fields": [{"type": "mrkdwn", "text": "*a*"}, {"type": "plain_text", "text": "b"}],
         "accessory": {"type": "overflow", "action_id": "x", "options": [
             {"text": {"type": "plain_text", "text": "Sentiment wrong: neutral"}, "value": "v"}]}},
        {"type": "divider"},
        {"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Acknowledge"}, "style": "primary"},
            {"type": "button", "text": {"type": "plain_text", "text": "Real crisis"}, "style": "danger"},
            {"type": "button", "text": {"type": "plain_text", "text": "Open kibana"}, "url": "https://k.example"},
            {"type": "overflow", "options": [{"text": {"type": "plain_text", "text": "More"}, "value": "m"}]}]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "alert `abc`"}]},
        {"type": "rich_text"},
    ]}
    page = Page(render_html(payload))
    assert page.classes("header") and "CRISIS <b>" in page.visible and page.classes("dot")
    assert len(page.classes("fields")) == 1 and page.classes("divider")
    assert [a["class"] for a in page.classes("button")] == ["button primary", "button danger", "button"]
    assert len(page.classes("overflow")) == 2 and len(page.classes("menu")) == 1  # only the first menu open
    assert "Sentiment wrong: neutral" in page.visible and "More" not in page.visible
    assert page.classes("context") and "[rich_text block]" in page.visible
    closed = Page(render_html(payload, open_menu=None))
    assert closed.classes("menu") == []
    with pytest.raises(ValueError, match="blocks"):
        render_html({"text": "no blocks"})


def test_the_page_loads_nothing_and_runs_no_script():
    html = render_html(hostile_payload())
    assert "default-src 'none'" in html and "script-src" not in html
    assert not any(tag in ("link", "script") for tag, _ in Page(html).tags)


def test_bad_input_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "m.json"
    bad.write_text("{not json", encoding="utf-8")
    assert main([str(bad), str(tmp_path / "m.png")]) == 1
    assert "error:" in capsys.readouterr().err and not (tmp_path / "m.png").exists()


def test_docs_screenshot_in_headless_chromium(tmp_path):
    if find_chromium() is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Chromium is required in CI: apt-get install -y chromium")
        pytest.skip("Chromium not installed (apt-get install chromium); required and checked when CI=true")
    shot = tmp_path / "slack.png"
    assert main([str(ROOT / "docs" / "slack-message.json"), str(shot)]) == 0
    width, height = png_size(shot)
    assert width == 760 and 300 < height < 1500  # cropped to the message, menu included
    assert shot.stat().st_size > 20_000  # text and buttons, not a blank page
    committed = json.loads((ROOT / "docs" / "slack-message.json").read_text(encoding="utf-8"))
    assert committed["blocks"] and png_size(ROOT / "docs" / "slack-message.png")[0] == 760
