"""The message catalogue (alerts/notify/i18n.py) and what channels write with it: every msgid the code
uses has a French translation; a French channel writes French; mentions and signed links on crisis."""

from __future__ import annotations

import re
from pathlib import Path

from alerts.notify import content, email_message, slack_blocks, teams_card
from alerts.notify.i18n import catalogue, translator
from vigie.sim.sample_alerts import make_alert
from vigie.core.actions import ACTION_NAMES
from vigie.core.drivers import driver_names
from vigie.core.models import AlertState, Level
from vigie.app import serve

ROOT = Path(__file__).resolve().parents[1]
LITERAL = re.compile(r"""\b(?:N_|_)\(\s*(["'])(.+?)\1""")  # _("...") translates, N_("...") marks for later


def used_msgids() -> set[str]:
    found: set[str] = set()
    for path in [*ROOT.joinpath("alerts", "notify").rglob("*.py"), *ROOT.joinpath("alerts", "drivers").rglob("*.py"),
                 ROOT / "vigie" / "core" / "actions.py", ROOT / "vigie" / "core" / "action_links.py",
                 ROOT / "vigie" / "pipeline" / "actions.py",
                 ROOT / "vigie" / "app" / "serve.py"]:
        found |= {m.group(2) for m in LITERAL.finditer(path.read_text(encoding="utf-8"))}
    found |= {lvl.value.upper() for lvl in Level} | {s.value for s in AlertState} | set(content.EVENT_VERB.values())
    found |= {label for _, label, _ in slack_blocks.BUTTONS} | {text for _, text in slack_blocks.RELABELS}
    found |= set(ACTION_NAMES.values()) | set(email_message.LINK_LABELS.values()) | set(teams_card.LINK_LABELS.values())
    found |= set(driver_names())  # risk driver names
    found |= set(serve.ACTION_LABEL.values()) | {lvl.value for lvl in Level}  # confirmation pages, console
    return found


def test_every_msgid_in_the_code_has_a_french_translation():
    missing = sorted(used_msgids() - set(catalogue("fr")))
    assert not missing, f"add to alerts/notify/locale/fr/LC_MESSAGES/vigie.po: {missing}"


def test_translations_keep_their_placeholders():
    for msgid, msgstr in catalogue("fr").items():
        assert set(re.findall(r"{\w+}", msgid)) == set(re.findall(r"{\w+}", msgstr)), msgid


def test_french_slack_message_with_buttons_and_crisis_mention():
    alert = make_alert(level=Level.CRISIS, risk=82)
    msg = slack_blocks.message(alert, "open", interactive=True, _=translator("fr"), mention="S0CRISIS")
    text = str(msg)
    assert msg["text"].startswith("<!subteam^S0CRISIS> CRISE · acme — ouverte")
    assert "*Risque* 82/100" in text and "*Pourquoi*" in text and "volume négatif" in text
    actions = next(b for b in msg["blocks"] if b["type"] == "actions" and b.get("block_id", "").startswith("vigie_actions"))
    assert [e["text"]["text"] for e in actions["elements"]] == ["Prendre en compte", "Résoudre", "Fausse alerte",
                                                               "Vraie crise", "Silence 2 h"]
    # No mention on a warning, nor on an update of a crisis.
    assert "subteam" not in str(slack_blocks.message(make_alert(), "open", mention="S0CRISIS"))
    assert "subteam" not in str(slack_blocks.message(alert, "update", mention="S0CRISIS"))


def test_french_email_with_cc_on_crisis_and_signed_links():
    alert = make_alert(level=Level.CRISIS, risk=82)
    links = {"acknowledge": "https://vigie.example/a/tok1", "false_alarm": "https://vigie.example/a/tok2"}
    msg = email_message.build_message(alert, "open", "vigie@acme.example", ["dircom@acme.example"], _=translator("fr"),
                              cc=["ceo@acme.example"], actions=links)
    assert msg["Cc"] == "ceo@acme.example" and msg["Subject"].startswith("[Vigie] CRISE · acme")
    plain = msg.get_body(("plain",)).get_content()
    assert "Pourquoi :" in plain and "Prendre en compte: https://vigie.example/a/tok1" in plain
    html = msg.get_body(("html",)).get_content()
    assert '<a href="https://vigie.example/a/tok2">Fausse alerte</a>' in html
    assert email_message.build_message(make_alert(), "open", "v@a.example", ["d@a.example"], cc=["ceo@acme.example"])["Cc"] is None


def test_teams_card_mentions_on_crisis_and_carries_links():
    alert = make_alert(level=Level.CRISIS, risk=82)
    card = teams_card.card(alert, "escalate", _=translator("fr"), mention={"id": "crisis@acme.example", "name": "Cellule de crise"},
                      links={"acknowledge": "https://vigie.example/a/t"})
    assert card["msteams"]["entities"] == [{"type": "mention", "text": "<at>Cellule de crise</at>",
                                            "mentioned": {"id": "crisis@acme.example", "name": "Cellule de crise"}}]
    assert "<at>Cellule de crise</at> crise : merci de regarder maintenant" in str(card["body"])
    assert {"type": "Action.OpenUrl", "title": "Prendre en compte", "url": "https://vigie.example/a/t"} in card["actions"]


def test_english_is_the_default_and_unchanged():
    assert content.title(make_alert(), "open") == "WARNING · acme — opened"
    assert translator("en")("{n} followers", n=3) == "3 followers"
