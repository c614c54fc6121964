"""The drivers of the risk index: each signal's contribution in points, with the sentence that explains it.

* **Counts**: a window count is judged with a negative-binomial upper-tail probability (the topic's own
  overdispersion at that time scale, learnt by the baseline) *and* a ratio over the expectation (both
  must be high), with a floor of one expected post per window: 3 negatives instead of 0 at night is
  unsurprising, 40 instead of 5 is a burst, and on a bursty topic a busy lunchtime is neither. Negative volume and share are also judged over 1 h
  and 3 h (a low-volume topic's trickle of complaints), and a CUSUM over the last 3 h (the `sustained`
  driver) catches slow, steady excess; these look-back drivers fade once the last hour no longer carries
  their pace.
* **Negativity gate**: drivers that grow with any traffic (negative volume, reach, engagement, authors,
  coordination, spread, sustained excess) are damped when the balance of negative over positive posts is
  not above its usual level. A positive surge also brings more negative posts in absolute terms; the gate
  keeps it at most at watch level.
* **Composition over volume**: what escalates is negative excess *beyond what the volume predicts*: a
  negative share above the usual one (significantly, given the posts), crisis categories above their
  usual rate per post (everyday "service" complaints grow with any crowd; safety, boycott or legal terms
  the topic rarely sees do not), near-duplicate copies of negative content, and negative posts reaching
  far more followers or interactions than the usual negative post would. `composition_evidence` reads
  those drivers; the Detector holds a surge without such evidence below warning.

Pure functions of (buckets, baseline, config): the Detector (`alerts.detect`) reads the store and sums them.

A driver's explanation is a language-neutral message (parts marked with `N_`, vigie/core/messages.py): detection
never imports notify, and each channel writes it in its own language.

One driver is one module of this package, declared with `@risk_driver(name, default weight)`
(`vigie.core.drivers`): the weights config, the store's risk-index mapping, the Kibana charts and the
notebooks read the driver registry, so a new driver is its module plus its tests. The built-in ones are
imported below in the order users see (config, mapping, chart colours); the driver registry imports any
other module of the package after them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from alerts.baseline import FEATURES, Baseline
from alerts.drivers import signals as _signals
from alerts.drivers.signals import LONGER_SCALES, Signals, negativity_gate
from vigie.core.config import DetectionConfig
from vigie.core.drivers import DRIVERS
from vigie.core.models import Bucket, Driver, Post

# The built-in drivers, in the registry's order (each registers itself on import).
from alerts.drivers import (  # noqa: E402,F401  (isort: skip)
    negative_volume, negative_share, reach, crisis_terms, authors, coordination, sustained, engagement, spread,
)

__all__ = ["compute_drivers"]


def compute_drivers(
    window: list[Bucket], base: Baseline, cfg: DetectionConfig, recent: list[Bucket] | None = None,
    posts: Callable[[datetime], Sequence[Post]] | None = None,
) -> list[Driver]:
    """Each signal's contribution in points (max = its weight); only contributing drivers are returned,
    in the registry's order.

    `recent` (the window plus a few hours before it, oldest first) feeds the look-back drivers; `posts` reads
    the store's posts from a given time to the window's end, for the drivers that need more than counts (read
    only if one asks, once per span: `Signals.read_posts`)."""
    recent = recent if recent is not None else window
    spans = [len(window)] + [k * len(window) for k in LONGER_SCALES if k * len(window) <= len(recent)]
    gate, damped = negativity_gate(window, base)
    tail = len(recent) >= len(window) and all(a is b for a, b in zip(recent[len(recent) - len(window):], window))
    short = [_signals.SHORT_SPAN] if 0 < _signals.SHORT_SPAN < len(window) else []
    signals = Signals(window=window, recent=recent, base=base, cfg=cfg, exp={}, gate=gate, damped=damped,
                      spans=spans, short=short, window_is_tail=tail, posts=posts)
    signals.exp.update((f, sum(signals.expectations(f, len(window)))) for f in FEATURES)
    return [d for d in (spec.compute(signals) for _, spec in DRIVERS.items()) if d is not None]
