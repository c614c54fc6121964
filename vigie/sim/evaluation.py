"""Detection evaluation over generated scenarios: the engine of `bench/detection.py`, importable by tests.

A scenario (`vigie.sim.scenario.generate`) is analysed, stored in a scratch SQLite file and backtested with
the real Detector + AlertPolicy under one or more configurations; the outcome is tallied against the
scenario's ground truth (events caught at their severity, lead time before the peak, false alerts,
alerts on positive events).

Analysis modes: "nlp" runs the project's NLP (`nlp.pipeline.Analyzer`); "oracle" labels posts from the
generator's roles (angry/copy/praise...; ordinary posts get the topic's mood mix by a hash of their id;
copies share a near-duplicate cluster by their first words; 60 % of angry/copy/media posts carry a crisis
category), which measures detection with the NLP factored out.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from datetime import datetime, timedelta

from vigie.sim.backtest import backtest_posts
from alerts.feedback import Verdict
from vigie.core.config import VigieConfig, config_from_dict
from vigie.core.models import Alert, Analysis, Crisis, Level, Sentiment, utc
from vigie.sim.scenario import Scenario, feedback_shapes, generate, suite_shapes
from vigie.sim.scenario.reposts import ROLE as REPOST_ROLE
from vigie.sim.truth import MATCH_BEFORE_ONSET
from vigie.store import Store, open_file_store

# Detector configurations compared (overrides of `detection:` and of every topic's `thresholds:`).
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "no-cusum": {"detection": {"weights": {"sustained": 0}}},
    "no-engagement-spread": {"detection": {"weights": {"engagement": 0, "spread": 0}}},
    "cusum-light": {"detection": {"weights": {"negative_volume": 35, "sustained": 10}}},
    "window-3": {"detection": {"window_buckets": 3}},
    "window-12": {"detection": {"window_buckets": 12}},
    "window-12-light": {"detection": {"window_buckets": 12, "weights": {"negative_volume": 35, "sustained": 10}}},
    "strict-thresholds": {"thresholds": {"watch": 45, "warning": 65, "crisis": 85}},
}

NEG_ROLES = {"angry", "copy", "onset", "amplifier", "reply", "mild", "media_reaction", "complaint"}
POS_ROLES = {"praise", "viral_source", "giveaway"}
CRISIS_ROLES = {"angry", "copy", "onset", "amplifier", "media"}
COPY_ROLES = {"copy", "giveaway", "spam"}  # near-duplicate clusters (negative outrage, giveaways, spam)
# Everyday complaints carry the everyday category: "service" (delivery, after-sales, a rude call centre).
SERVICE_SHARE = {"ordinary": 0.3, "complaint": 0.6}


def _u(text: str) -> float:
    return int(hashlib.sha1(text.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def oracle_analysis(rec: dict[str, Any], role: str, scenario: Scenario) -> Analysis:
    text = rec["text"]
    topic = "cuivrelle" if "cuivrelle" in text.lower() else scenario.topics[0].id
    if role == "ordinary":
        spec = next(t for t in scenario.topics if t.id == topic)
        u = _u(rec["id"])
        label = "pos" if u < spec.moods[0] else "neu" if u < spec.moods[0] + spec.moods[1] else "neg"
    else:
        label = "neg" if role in NEG_ROLES else "pos" if role in POS_ROLES else "neu"
    categories = ["safety"] if role in CRISIS_ROLES and _u("c" + rec["id"]) < 0.6 else []
    if label == "neg" and role in SERVICE_SHARE and _u("s" + rec["id"]) < SERVICE_SHARE[role]:
        categories = ["service"]
    cluster = f"{role}-" + " ".join(text.lower().split()[:4]) if role in COPY_ROLES else None
    return Analysis(
        lang=rec.get("lang", "fr"),
        sentiment=Sentiment(label, {"neg": -0.7, "neu": 0.0, "pos": 0.7}[label], "oracle"),
        crisis=Crisis(risk=0.8 if categories else 0.0, categories=categories),
        topic_ids=[topic],
        near_dup_cluster=cluster,
    )


def scenario_config(scenario: Scenario, variant: dict[str, Any]) -> VigieConfig:
    topics = [{"id": t.id, "name": t.name, "query": t.query, "aliases": list(t.aliases)} for t in scenario.topics]
    if "thresholds" in variant:
        for t in topics:
            t["thresholds"] = variant["thresholds"]
    return config_from_dict({"topics": topics, "detection": variant.get("detection", {})})


def fill_store(scenario: Scenario, store: Store, mode: str) -> None:
    from listeners.replay import record_to_post

    if mode == "nlp-per-bucket":  # one `vigie run` per bucket: copy clusters through the store (issue 18)
        from vigie.sim.per_bucket import fill_store_per_bucket

        fill_store_per_bucket(scenario, store, scenario_config(scenario, {}))
        return
    posts = [record_to_post(rec) for rec in scenario.posts]
    if mode == "oracle":
        # A repost reads as its original does (its text is the original's): the original's role gives the label.
        role_of = {(rec["source"], rec["id"]): role for rec, role in zip(scenario.posts, scenario.roles)}
        for post, rec, role in zip(posts, scenario.posts, scenario.roles):
            if role == REPOST_ROLE:
                role = role_of.get((rec["source"], rec.get("ref_id")), "ordinary")
                rec = {**rec, "id": rec["ref_id"]}  # the original's id: the same draws as the original's label
            post.analysis = oracle_analysis(rec, role, scenario)
    else:
        from nlp.pipeline import Analyzer

        config = scenario_config(scenario, {})
        analyzer = Analyzer(config.nlp, config.topics)
        for i in range(0, len(posts), 512):
            batch = posts[i : i + 512]
            for post, analysis in zip(batch, analyzer.analyze(batch)):
                post.analysis = analysis
    store.upsert_posts(posts)


@dataclass
class Tally:
    events: int = 0
    caught_warning: int = 0
    caught_severity: int = 0
    lead_warning: list[float] = field(default_factory=list)
    lead_crisis: list[float] = field(default_factory=list)
    positive: int = 0
    positive_warning: int = 0
    positive_crisis: int = 0
    false_warning: int = 0
    false_crisis: int = 0
    topic_weeks: float = 0.0
    assessments: int = 0
    seconds: float = 0.0
    by_shape: dict[str, list[int]] = field(default_factory=dict)  # shape -> [events, caught at severity]
    shape_leads: dict[str, list[float]] = field(default_factory=dict)  # shape -> leads of the first warning (min)
    shape_crisis_leads: dict[str, list[float]] = field(default_factory=dict)  # shape -> leads of the first crisis (min)
    # Per event shape of the scenario (a suite scenario holds one or a few): false warning+ alerts, topic-weeks.
    false_by_shape: dict[str, list[float]] = field(default_factory=dict)
    marks: dict[str, int] = field(default_factory=dict)  # simulated analyst: verdict -> marks given
    # Minutes from the true onset to the first warning: for events that go from nothing to their peak in
    # 20-45 minutes (bot raids, media spikes) the lead before the peak is bounded by the rise itself.
    delay_warning: list[float] = field(default_factory=list)
    # Minutes from an event's end (its intensity below 10 % of the peak) to the resolution of the last
    # alert matched to it: how long the crisis room stays "on" after the storm.
    resolution_lag: list[float] = field(default_factory=list)
    unresolved: int = 0  # caught events whose alert was still open when the scenario ended
    alerts_per_event: list[int] = field(default_factory=list)  # warning+ alerts matched per caught event (flapping)

    # Organic spikes (not crises): how many, and how many drew an alert at warning+ / crisis (per shape too).
    # Lead of the first warning as a share of the onset-to-peak time (1 = at the onset, 0 = at the peak).
    lead_fraction: list[float] = field(default_factory=list)
    crisis_events: int = 0  # crisis-severity events
    crisis_before_peak: int = 0  # ... that reached crisis before their peak
    organic: int = 0
    organic_warning: int = 0
    organic_crisis: int = 0
    organic_by_shape: dict[str, list[int]] = field(default_factory=dict)  # shape -> [spikes, warning+, watch]

    def add(self, other: "Tally") -> None:
        for name in ("events", "caught_warning", "caught_severity", "positive", "positive_warning",
                     "positive_crisis", "false_warning", "false_crisis", "topic_weeks", "assessments", "seconds",
                     "organic", "organic_warning", "organic_crisis", "crisis_events", "crisis_before_peak"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.lead_warning += other.lead_warning
        self.lead_crisis += other.lead_crisis
        self.lead_fraction += other.lead_fraction
        self.resolution_lag += other.resolution_lag
        self.delay_warning += other.delay_warning
        self.unresolved += other.unresolved
        self.alerts_per_event += other.alerts_per_event
        for shape, leads in other.shape_leads.items():
            self.shape_leads.setdefault(shape, []).extend(leads)
        for shape, leads in other.shape_crisis_leads.items():
            self.shape_crisis_leads.setdefault(shape, []).extend(leads)
        for k, v in other.marks.items():
            self.marks[k] = self.marks.get(k, 0) + v
        for k, (f, w) in other.false_by_shape.items():
            cur = self.false_by_shape.setdefault(k, [0, 0.0])
            cur[0] += f
            cur[1] += w
        for shape, (n, k) in other.by_shape.items():
            cur = self.by_shape.setdefault(shape, [0, 0])
            cur[0] += n
            cur[1] += k
        for shape, values in other.organic_by_shape.items():
            cur = self.organic_by_shape.setdefault(shape, [0, 0, 0])
            for j, v in enumerate(values):
                cur[j] += v


# The simulated analyst reads the alert this long after it reached warning (a realistic reaction time).
ANALYST_DELAY = timedelta(minutes=30)
FEEDBACK_SUFFIX = "+feedback"


def truth_analyst(truth: dict[str, Any], delay: timedelta = ANALYST_DELAY) -> Callable[[Alert, datetime], Verdict | None]:
    """A simulated analyst who knows the ground truth: an alert (warning+) that opens during a true
    negative event (from its onset - 1 h, as `vigie.sim.truth` matches) is a real crisis; any other one (no
    event, an organic spike, a positive buzz) is a false alarm. The mark is given `delay` after the alert
    reached warning, with the drivers the alert shows then."""
    bad = [(e["topic_id"], utc(e["onset"]) - MATCH_BEFORE_ONSET, utc(e["end"]))
           for e in truth.get("events", []) if e.get("kind") != "positive_viral"]

    def judge(alert: Alert, t: datetime) -> Verdict:
        real = any(alert.topic_id == tid and lo <= alert.opened_at <= hi for tid, lo, hi in bad)
        return Verdict(alert.topic_id, utc(t) + delay, "real_crisis" if real else "false_alarm",
                       {d.name: d.points for d in alert.drivers})

    return judge


# Suites a benchmark can run: the shapes of scenario i. "feedback": false alarms that recur on one topic
# (`vigie.sim.scenario.feedback_suite`), what per-topic feedback can learn from.
SUITES: dict[str, Callable[[int], tuple[str, ...]]] = {"default": suite_shapes, "feedback": feedback_shapes}


def run_scenario(args: tuple) -> dict[str, Tally]:
    """Suite scenario `index` (seed base_seed + index) under each named variant; an optional fifth item
    names the background ("realistic", the default, or "poisson"), a sixth the suite (SUITES, default
    "default") and a seventh whether the scenario has reposts (default True); a variant named
    "NAME+feedback" is NAME replayed with the simulated analyst's marks (`truth_analyst`)."""
    index, base_seed, mode, variants = args[:4]
    background = args[4] if len(args) > 4 else "realistic"
    shapes = SUITES[args[5] if len(args) > 5 else "default"](index)
    reposts = args[6] if len(args) > 6 else True
    return evaluate(generate(base_seed + index, shapes=shapes, background=background, reposts=reposts), mode, variants)


def evaluate(scenario: Scenario, mode: str, variants: list[str]) -> dict[str, Tally]:
    """Analyse and store the scenario once, then backtest it under each variant (a name of VARIANTS,
    optionally suffixed "+feedback": replayed with a simulated analyst marking alerts, `truth_analyst`)."""
    start, end = utc(scenario.truth["start"]), utc(scenario.truth["end"])
    out: dict[str, Tally] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = open_file_store(Path(tmp) / "s.db")
        fill_store(scenario, store, mode)
        for name in variants:
            base_name = name.removesuffix(FEEDBACK_SUFFIX)
            config = scenario_config(scenario, VARIANTS[base_name])
            analyst = truth_analyst(scenario.truth) if name != base_name else None
            given: list[Verdict] = []

            def recording(alert: Alert, t: datetime, analyst=analyst, given=given) -> Verdict | None:
                given.append(analyst(alert, t))
                return given[-1]

            res = backtest_posts(config, store, start, end, truth=scenario.truth,
                                 analyst=recording if analyst is not None else None)
            tally = Tally(topic_weeks=res.metrics["topic_weeks"], assessments=res.assessments, seconds=res.seconds)
            severities = {(e["topic_id"], e["onset"]): e.get("severity", "crisis") for e in scenario.truth["events"]}
            shapes = {(e["topic_id"], e["onset"]): e.get("shape", e["kind"]) for e in scenario.truth["events"]}
            for o in res.outcomes:
                key = (o.topic_id, o.onset.isoformat().replace("+00:00", "Z"))
                if o.kind == "positive_viral":
                    tally.positive += 1
                    tally.positive_warning += o.max_level is not None and o.max_level.rank >= Level.WARNING.rank
                    tally.positive_crisis += o.max_level == Level.CRISIS
                    continue
                severity = Level(severities.get(key, "crisis"))
                tally.events += 1
                caught = o.max_level is not None and o.max_level.rank >= severity.rank
                tally.caught_warning += o.first_warning is not None
                tally.caught_severity += caught
                shape = tally.by_shape.setdefault(shapes.get(key, o.kind), [0, 0])
                shape[0] += 1
                shape[1] += caught
                rise = (o.peak - o.onset).total_seconds()
                if o.first_warning is not None and rise > 0:
                    tally.lead_fraction.append((o.peak - o.first_warning).total_seconds() / rise)
                elif rise > 0:
                    tally.lead_fraction.append(-1.0)  # never warned: counts as "after the peak"
                if severity == Level.CRISIS:
                    tally.crisis_events += 1
                    tally.crisis_before_peak += o.first_crisis is not None and o.first_crisis <= o.peak
                if o.first_warning is not None:
                    tally.lead_warning.append((o.peak - o.first_warning).total_seconds() / 60)
                    tally.shape_leads.setdefault(shapes.get(key, o.kind), []).append(tally.lead_warning[-1])
                    tally.delay_warning.append((o.first_warning - o.onset).total_seconds() / 60)
                    matched = [a for a in res.alerts if a.topic_id == o.topic_id
                               and o.onset - MATCH_BEFORE_ONSET <= a.opened_at <= o.end
                               and (a.peak_level or a.level).rank >= Level.WARNING.rank]
                    tally.alerts_per_event.append(len(matched))
                    last = max(matched, key=lambda a: a.opened_at, default=None)
                    if last is not None and last.resolved_at is not None:
                        tally.resolution_lag.append((last.resolved_at - o.end).total_seconds() / 60)
                    elif last is not None:
                        tally.unresolved += 1
                # Crisis lead only for events that are crises: a warning-severity event (a slow burn, a
                # media spike) that also reaches crisis late would otherwise pull the median around.
                if o.first_crisis is not None and severity == Level.CRISIS:
                    tally.lead_crisis.append((o.peak - o.first_crisis).total_seconds() / 60)
                    tally.shape_crisis_leads.setdefault(shapes.get(key, o.kind), []).append(tally.lead_crisis[-1])
            for spike in scenario.truth.get("organic", []):
                onset, spike_end = utc(spike["onset"]), utc(spike["end"])
                levels = [(a.peak_level or a.level) for a in res.alerts if a.topic_id == spike["topic_id"]
                          and onset - MATCH_BEFORE_ONSET <= a.opened_at <= spike_end + MATCH_BEFORE_ONSET]
                top = max((lv.rank for lv in levels), default=0)
                tally.organic += 1
                tally.organic_warning += top >= Level.WARNING.rank
                tally.organic_crisis += top >= Level.CRISIS.rank
                cur = tally.organic_by_shape.setdefault(spike["shape"], [0, 0, 0])
                cur[0] += 1
                cur[1] += top >= Level.WARNING.rank
                cur[2] += top == Level.WATCH.rank
            tally.false_warning = len(res.false_alerts)
            for shape in {e.get("shape", e["kind"]) for e in scenario.truth["events"]}:
                tally.false_by_shape[shape] = [len(res.false_alerts), res.metrics["topic_weeks"]]
            for v in given:
                tally.marks[v.verdict] = tally.marks.get(v.verdict, 0) + 1
            tally.false_crisis = sum((a.peak_level or a.level) == Level.CRISIS for a in res.false_alerts)
            out[name] = tally
        store.close()
    return out
