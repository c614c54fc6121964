"""Headless Chromium, for the optional PDF of the report and for the report's rendering test.

Chromium is optional (`apt-get install chromium`): nothing in the pipeline needs it. The flags keep it
offline and quiet: no first-run, sync, component updates or background networking, so rendering a report
never touches the network (the report itself loads nothing either).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BASE_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--hide-scrollbars", "--mute-audio",
)


class BrowserError(RuntimeError):
    pass


def find_chromium() -> str | None:
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class Run:
    stdout: str
    stderr: str
    returncode: int


def run_headless(html: Path, *extra: str, timeout: float = 60.0, binary: str | None = None) -> Run:
    """Open `html` in a throw-away profile with `extra` flags (--dump-dom, --screenshot=..., --print-to-pdf=...)."""
    exe = binary or find_chromium()
    if exe is None:
        raise BrowserError(f"Chromium not found (looked for {', '.join(CANDIDATES)}). Fix: apt-get install chromium")
    with tempfile.TemporaryDirectory(prefix="vigie-chromium-") as profile:
        cmd = [exe, *BASE_FLAGS, f"--user-data-dir={profile}", *extra, html.resolve().as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise BrowserError(f"Chromium did not finish within {timeout:.0f} s") from exc
    return Run(proc.stdout, proc.stderr, proc.returncode)


def print_pdf(html: Path, pdf: Path, *, timeout: float = 60.0) -> Path:
    """Print the report to PDF (A4, backgrounds kept) with headless Chromium."""
    pdf.parent.mkdir(parents=True, exist_ok=True)
    run = run_headless(html, f"--print-to-pdf={pdf.resolve()}", "--no-pdf-header-footer", timeout=timeout)
    if run.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
        raise BrowserError(f"Chromium could not print {html} to PDF (exit {run.returncode}): {run.stderr[-500:]}")
    return pdf
