"""A Slack message (Block Kit JSON) drawn as an HTML page, and its screenshot through headless Chromium.

Slack's Block Kit Builder needs a Slack account and the internet; the README's picture of the alert
message is made here instead, from the very payload Vigie sends (docs/slack-message.json):

    python -m vigie.app.slack_preview docs/slack-message.json docs/slack-message.png

This is a faithful-looking approximation, not Slack's renderer: header, sections (mrkdwn text, fields, an
overflow or button accessory), dividers, actions (buttons with their style, overflow menus), context lines.
Slack's mrkdwn is read as Slack reads it: `*bold*`, `_italic_`, `~strike~`, `` `code` ``, `>` quotes at the
start of a line, `<url|label>` links, `<!subteam^ID>` / `<@U…>` / `<!here>` mentions, and the `&amp;` /
`&lt;` / `&gt;` entities Vigie writes for untrusted text. Every piece of text is HTML-escaped after Slack's
own entities are read, so a post saying `<script>` shows as those characters; link targets other than
http(s) and mailto are dropped. The page loads nothing (no fonts, images or scripts from anywhere).
"""

from __future__ import annotations

import argparse
import html
import json
import re
import struct
import sys
import tempfile
from pathlib import Path
from typing import Any

from vigie.app.browser import BrowserError, run_headless

WIDTH = 760  # pixels: a desktop Slack message pane
SAFE_SCHEMES = ("http://", "https://", "mailto:")
_ANGLE = re.compile(r"<([^<>]*)>")
# Formatting markers, applied to already HTML-escaped text (escaping adds no `*`, `_`, `~` or backquote).
_CODE = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~([^~\n]+)~(?![\w~])")


def slack_unescape(text: str) -> str:
    """Slack's three entities back to characters (`&amp;` last, so `&amp;lt;` stays `&lt;` as written)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# The level emoji Vigie puts in titles, drawn with CSS: headless Chromium on a server seldom has a colour
# emoji font, and a missing glyph is a box.
EMOJI_DOTS = {"🔴": "#e01e5a", "🟠": "#f2952f", "🟡": "#ecb22e", "🟢": "#2eb67d"}


SHORTCODES = {":warning:": "⚠️"}


def _emoji(escaped: str) -> str:
    for code, char in SHORTCODES.items():
        escaped = escaped.replace(code, char)
    for char, colour in EMOJI_DOTS.items():
        escaped = escaped.replace(char, f'<span class="dot" style="background:{colour}"></span>')
    return escaped.replace("✅", '<span class="check">✓</span>')


def _styled(text: str) -> str:
    """Plain Slack text (entities still in) as safe HTML with mrkdwn emphasis."""
    out = html.escape(slack_unescape(text), quote=True)
    out = _CODE.sub(r"<code>\1</code>", out)
    out = _BOLD.sub(r"<b>\1</b>", out)
    out = _ITALIC.sub(r"<i>\1</i>", out)
    return _emoji(_STRIKE.sub(r"<s>\1</s>", out))


def _angle(inner: str) -> str:
    """One `<...>` token: a link, a mention or a special command, as safe HTML."""
    target, _, label = inner.partition("|")
    if target.startswith("!subteam^"):
        return f'<span class="mention">@{html.escape(label or target[len("!subteam^"):])}</span>'
    if target.startswith(("@", "#")):
        return f'<span class="mention">{html.escape(target[0] + (label or target[1:]))}</span>'
    if target.startswith("!"):
        return f'<span class="mention">@{html.escape(label or target[1:])}</span>'
    url = slack_unescape(target)
    text = _styled(label) if label else html.escape(url)
    if not url.lower().startswith(SAFE_SCHEMES):
        return text  # javascript:, data: ... never become a link
    return f'<a href="{html.escape(url, quote=True)}">{text}</a>'


def _inline(text: str) -> str:
    parts, last = [], 0
    for m in _ANGLE.finditer(text):
        parts.append(_styled(text[last:m.start()]))
        parts.append(_angle(m.group(1)))
        last = m.end()
    parts.append(_styled(text[last:]))
    return "".join(parts)


def mrkdwn_html(text: str) -> str:
    """Slack mrkdwn as safe HTML: lines starting with a literal `>` are quotes, others keep their breaks."""
    out: list[str] = []
    quote: list[str] = []
    for line in text.split("\n"):
        if line.startswith(">"):
            quote.append(_inline(line[1:]))
            continue
        if quote:
            out.append(f'<blockquote>{"<br>".join(quote)}</blockquote>')
            quote = []
        out.append(_inline(line) + "<br>")
    if quote:
        out.append(f'<blockquote>{"<br>".join(quote)}</blockquote>')
    joined = "".join(out)
    return joined[:-4] if joined.endswith("<br>") else joined


def text_html(obj: dict[str, Any] | None) -> str:
    """A Block Kit text object (plain_text or mrkdwn) as safe HTML."""
    if not obj:
        return ""
    if obj.get("type") == "mrkdwn":
        return mrkdwn_html(str(obj.get("text", "")))
    return _emoji(html.escape(str(obj.get("text", "")))).replace("\n", "<br>")


def _button(el: dict[str, Any]) -> str:
    style = el.get("style")
    cls = "button" + (f" {style}" if style in ("primary", "danger") else "")
    icon = ' <span class="ext">↗</span>' if el.get("url") else ""
    return f'<span class="{cls}">{text_html(el.get("text"))}{icon}</span>'


def _overflow(el: dict[str, Any], open_menu: bool) -> str:
    menu = ""
    if open_menu:
        items = "".join(f'<div class="option">{text_html(o.get("text"))}</div>' for o in el.get("options", []))
        menu = f'<div class="menu">{items}</div>'
    return f'<span class="overflow-wrap"><span class="overflow">⋮</span>{menu}</span>'


def _element(el: dict[str, Any], open_menu: bool) -> str:
    kind = el.get("type")
    if kind == "button":
        return _button(el)
    if kind == "overflow":
        return _overflow(el, open_menu)
    if kind in ("mrkdwn", "plain_text"):
        return f'<span class="ctx">{text_html(el)}</span>'
    if kind == "image":
        return f'<span class="ctx">[{html.escape(str(el.get("alt_text", "image")))}]</span>'
    return f'<span class="unknown">[{html.escape(str(kind))}]</span>'


class _Menus:
    """Which overflow menu is drawn open (the first one by default: the picture shows its labels)."""

    def __init__(self, open_index: int | None):
        self.open_index, self.seen = open_index, -1

    def next_is_open(self) -> bool:
        self.seen += 1
        return self.seen == self.open_index


def block_html(block: dict[str, Any], menus: _Menus) -> str:
    kind = block.get("type")
    if kind == "header":
        return f'<div class="block header">{text_html(block.get("text"))}</div>'
    if kind == "divider":
        return '<hr class="block divider">'
    if kind == "section":
        body = text_html(block.get("text"))
        fields = block.get("fields") or []
        if fields:
            body += '<div class="fields">' + "".join(f"<div>{text_html(f)}</div>" for f in fields) + "</div>"
        acc = block.get("accessory")
        side = ""
        if acc:
            is_menu = acc.get("type") == "overflow"
            side = f'<div class="accessory">{_element(acc, is_menu and menus.next_is_open())}</div>'
        return f'<div class="block section"><div class="body">{body}</div>{side}</div>'
    if kind == "actions":
        els = "".join(_element(e, e.get("type") == "overflow" and menus.next_is_open())
                      for e in block.get("elements", []))
        return f'<div class="block actions">{els}</div>'
    if kind == "context":
        els = "".join(_element(e, False) for e in block.get("elements", []))
        return f'<div class="block context">{els}</div>'
    return f'<div class="block unknown">[{html.escape(str(kind))} block]</div>'


STYLE = """
body { margin: 0; background: #fff; font: 15px/1.46 -apple-system, "Segoe UI", "Helvetica Neue", Arial,
       "Noto Color Emoji", sans-serif; color: #1d1c1d; }
.msg { display: flex; gap: 8px; padding: 14px 20px 18px; width: %(width)spx; box-sizing: border-box; }
.avatar { flex: none; width: 36px; height: 36px; border-radius: 6px; background: #1f3a5f; color: #fff;
          font-weight: 700; font-size: 20px; display: flex; align-items: center; justify-content: center; }
.main { flex: 1; min-width: 0; }
.meta { margin-bottom: 2px; } .name { font-weight: 900; } .app { font-size: 10px; font-weight: 700;
        color: #616061; background: #e8e8e8; border-radius: 2px; padding: 1px 3px; margin-left: 4px; }
.time { color: #616061; font-size: 12px; margin-left: 6px; }
.block { margin: 4px 0; } .header { font-size: 18px; font-weight: 900; margin: 6px 0 8px; }
.section { display: flex; gap: 12px; align-items: flex-start; } .section .body { flex: 1; min-width: 0;
           overflow-wrap: anywhere; }
.fields { display: grid; grid-template-columns: 1fr 1fr; gap: 4px 16px; margin-top: 4px; }
hr.divider { border: 0; border-top: 1px solid #dddddd; margin: 12px 0; }
blockquote { margin: 2px 0; padding-left: 10px; border-left: 4px solid #dddddd; }
code { font: 12px Menlo, Consolas, monospace; color: #e01e5a; background: #f6f6f6; border: 1px solid #e8e8e8;
       border-radius: 3px; padding: 1px 3px; }
a { color: #1264a3; text-decoration: none; }
.mention { color: #1264a3; background: #e8f5fa; border-radius: 3px; padding: 0 2px; font-weight: 600; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin: 10px 0 6px; }
.button { display: inline-block; border: 1px solid #bbbbbb; border-radius: 4px; padding: 3px 12px; font-size: 13px;
          font-weight: 700; background: #fff; }
.button.primary { background: #007a5a; border-color: #007a5a; color: #fff; }
.button.danger { background: #fff; border-color: #e01e5a; color: #e01e5a; }
.ext { font-weight: 400; }
.overflow-wrap { position: relative; display: inline-block; }
.overflow { display: inline-block; width: 28px; height: 28px; line-height: 28px; text-align: center;
            border: 1px solid #bbbbbb; border-radius: 4px; font-weight: 900; }
.menu { position: absolute; right: 0; top: 32px; z-index: 2; background: #fff; border: 1px solid #dddddd;
        border-radius: 6px; box-shadow: 0 4px 12px rgba(0,0,0,.18); padding: 6px 0; white-space: nowrap; }
.option { padding: 4px 16px; font-size: 14px; } .option:first-child { background: #1264a3; color: #fff; }
.dot { display: inline-block; width: 16px; height: 16px; border-radius: 50%; vertical-align: -2px; }
.check { display: inline-block; width: 18px; height: 18px; border-radius: 4px; background: #2eb67d; color: #fff;
         font-size: 13px; line-height: 18px; text-align: center; vertical-align: 1px; }
.context { color: #616061; font-size: 12px; display: flex; flex-wrap: wrap; gap: 8px; margin-top: 8px; }
"""


# Only in the page used to measure the message's height (a first Chromium pass with --dump-dom): it writes
# the height of the message into the title. The page that is photographed runs no script at all.
MEASURE = ("<script>document.title='height:'+Math.ceil(Math.max(document.querySelector('.msg').scrollHeight,"
           "...[...document.querySelectorAll('.menu')].map(m=>m.getBoundingClientRect().bottom+12)))</script>")


def render_html(payload: dict[str, Any], *, app_name: str = "Vigie", time_label: str = "14:05",
                open_menu: int | None = 0, width: int = WIDTH, measure: bool = False) -> str:
    """The whole page for one message payload (`{"text": ..., "blocks": [...]}`). `open_menu`: the index of
    the overflow menu drawn open (None: all closed). `measure`: add the script that reports the height."""
    blocks = payload.get("blocks")
    if not isinstance(blocks, list):
        raise ValueError('expected a Slack message with a "blocks" list')
    menus = _Menus(open_menu)
    body = "".join(block_html(b, menus) for b in blocks) if blocks else mrkdwn_html(str(payload.get("text", "")))
    return (
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'"
        f"{'; script-src ' + chr(39) + 'unsafe-inline' + chr(39) if measure else ''}\">"
        f"<title>{html.escape(app_name)} — Slack message preview</title><style>{STYLE.replace('%(width)s', str(width))}</style>"
        f"</head><body><div class=\"msg\"><div class=\"avatar\">{html.escape(app_name[:1])}</div><div class=\"main\">"
        f"<div class=\"meta\"><span class=\"name\">{html.escape(app_name)}</span><span class=\"app\">APP</span>"
        f"<span class=\"time\">{html.escape(time_label)}</span></div>{body}</div></div>"
        f"{MEASURE if measure else ''}</body></html>"
    )


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise BrowserError(f"{path} is not a PNG")
    return struct.unpack(">II", head[16:24])


_MEASURED = re.compile(r"<title>height:(\d+)</title>")


def measure_height(payload: dict[str, Any], *, timeout: float = 60.0, binary: str | None = None) -> int:
    """The message's height in pixels at WIDTH, as Chromium lays it out (open menu included)."""
    with tempfile.TemporaryDirectory(prefix="vigie-slack-preview-") as tmp:
        page = Path(tmp) / "measure.html"
        page.write_text(render_html(payload, measure=True), encoding="utf-8")
        run = run_headless(page, "--dump-dom", f"--window-size={WIDTH},2000", timeout=timeout, binary=binary)
    found = _MEASURED.search(run.stdout)
    if run.returncode != 0 or not found:
        raise BrowserError(f"Chromium could not lay out the message (exit {run.returncode}): {run.stderr[-500:]}")
    return int(found.group(1))


def screenshot(payload: dict[str, Any], out: Path, *, height: int | None = None, timeout: float = 60.0,
               binary: str | None = None) -> Path:
    """Render the payload and screenshot it with headless Chromium at WIDTH × `height` pixels (default: the
    message's own height, measured in a first pass)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if height is None:
        height = measure_height(payload, timeout=timeout, binary=binary)
    with tempfile.TemporaryDirectory(prefix="vigie-slack-preview-") as tmp:
        page = Path(tmp) / "message.html"
        page.write_text(render_html(payload), encoding="utf-8")
        run = run_headless(page, f"--screenshot={out.resolve()}", f"--window-size={WIDTH},{height}",
                           "--force-device-scale-factor=1", timeout=timeout, binary=binary)
    if run.returncode != 0 or not out.exists():
        raise BrowserError(f"Chromium could not screenshot the message (exit {run.returncode}): {run.stderr[-500:]}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Draw a Slack Block Kit message (JSON) as a PNG with headless Chromium")
    parser.add_argument("payload", type=Path, help="the message JSON, e.g. docs/slack-message.json")
    parser.add_argument("out", type=Path, help="the PNG to write, e.g. docs/slack-message.png")
    parser.add_argument("--height", type=int, help="pixels (default: the message's height; the width is %d)" % WIDTH)
    parser.add_argument("--html", type=Path, help="also write the HTML page here")
    args = parser.parse_args(argv)
    try:
        payload = json.loads(args.payload.read_text(encoding="utf-8"))
        if args.html:
            args.html.write_text(render_html(payload), encoding="utf-8")
        screenshot(payload, args.out, height=args.height)
    except (OSError, ValueError, BrowserError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    w, h = png_size(args.out)
    print(f"{args.out} written ({w}×{h}, {args.out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
