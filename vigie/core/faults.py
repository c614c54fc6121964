"""Fault-injection points for the crash tests of delivery (tests/test_delivery_faults.py).

`crash_point("after_send", channel)` kills the current process with SIGKILL — no `finally`, no flush,
no rollback, exactly like `kill -9` or an OOM kill — when the environment variable `VIGIE_CRASH_AT`
names that point (`after_send`) or that point on that channel (`after_send@slack_webhook`). When the
variable is unset (production) it is one dictionary lookup and does nothing. The points, in the order a
bucket goes through them:

    after_alert      the alert change is written (SQLite: inside the bucket's transaction)
    after_outbox     its outbox entries are written
    after_cursor     the detection cursor is written (SQLite: still before COMMIT)
    after_commit     the bucket is committed, nothing sent yet
    before_send      an outbox entry is marked `sending`, the provider not called yet
    after_send       the provider answered, the outcome not recorded yet
    after_record     the outcome is recorded
"""

from __future__ import annotations

import os
import signal

ENV = "VIGIE_CRASH_AT"
POINTS = ("after_alert", "after_outbox", "after_cursor", "after_commit", "before_send", "after_send", "after_record")


def crash_point(name: str, detail: str = "") -> None:
    wanted = os.environ.get(ENV)
    if wanted and (wanted == name or (detail and wanted == f"{name}@{detail}")):
        os.kill(os.getpid(), signal.SIGKILL)
