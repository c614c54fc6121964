"""Fit the conditional calibration table of `score_series` (vigie/sim/series_calibration.py) and print it.

Null traffic: `bench/series_scoring.py`'s generator (5-minute counts, daily rhythm, gamma-Poisson), on a grid
of 7 means (0.1 to 100 posts per 5 min) x 7 overdispersions alpha (0 = Poisson to 6; index of dispersion
1 + alpha * mean, so 1 to 601), 8 days each, the first day left out. Seeds 5,000,000 + 1000 s + 10 i + j
(s < --seeds): disjoint from the seeds `bench/series_scoring.py` evaluates on (1000 s + int(10 mean + D),
all below 1,000,000), and the grid is not the evaluation's settings either.

Each point (p_min, expected count, alpha at the one-point scale, as the causal scan saw them) counts on the
grid nodes around it with its bilinear interpolation weights. Starting from the pooled quantiles, each
node's anchor at F0 = 0.5 / 0.1 / 0.01 / 0.001 is moved by the weighted F0-quantile of its points' log p_min
minus their interpolated anchor (backfitting, ROUNDS times: a point's anchors mix four nodes), shrunk
toward the pooled quantile when the node holds few tail points (weight 10 / (10 + weight x F0)).

    .venv/bin/python bench/fit_series_calibration.py [--seeds 8]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from series_scoring import null_series  # noqa: E402
from vigie.sim.backtest import series_scan  # noqa: E402
from vigie.sim.series_calibration import ALPHA_NODES, F0_LEVELS, LEVEL_NODES, grid_position, log_anchors  # noqa: E402

MEANS = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
ALPHAS = (0.0, 0.05, 0.2, 0.6, 1.0, 2.0, 6.0)
SEED_BASE = 5_000_000
TAIL_PRIOR = 10.0
ROUNDS = 4  # backfitting rounds: a point's anchors mix 4 nodes, so each node is corrected until they fit


def node_members(level: np.ndarray, alpha: np.ndarray) -> dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]:
    """For each grid node: the points around it and their bilinear weights on it."""
    i, ti, j, tj = grid_position(level, alpha)
    parts: dict[tuple[int, int], list[tuple[np.ndarray, np.ndarray]]] = {}
    points = np.arange(len(level))
    for di, wi in ((0, 1 - ti), (1, ti)):
        for dj, wj in ((0, 1 - tj), (1, tj)):
            w = wi * wj
            for a in range(len(LEVEL_NODES)):
                for b in range(len(ALPHA_NODES)):
                    sel = (i + di == a) & (j + dj == b) & (w > 0)
                    if sel.any():
                        parts.setdefault((a, b), []).append((points[sel], w[sel]))
    return {node: (np.concatenate([p for p, _ in v]), np.concatenate([w for _, w in v])) for node, v in parts.items()}


def weighted_quantile(p: np.ndarray, w: np.ndarray, f: float) -> float:
    order = np.argsort(p)
    cum = np.cumsum(w[order])
    return float(p[order][min(np.searchsorted(cum, f * cum[-1]), len(p) - 1)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    args = parser.parse_args()
    p_all, lv_all, a_all = [], [], []
    for i, mean in enumerate(MEANS):
        for j, alpha in enumerate(ALPHAS):
            for s in range(args.seeds):
                times, values = null_series(8 * 288, mean, 1 + alpha * mean, seed=SEED_BASE + 1000 * s + 10 * i + j)
                scan = series_scan(times, values)
                p_all.append(scan.p_min[288:])
                lv_all.append(scan.level[288:])
                a_all.append(scan.alpha[0][288:])
    p, level, alpha = (np.concatenate(x) for x in (p_all, lv_all, a_all))
    pooled = [weighted_quantile(p, np.ones(len(p)), f) for f in F0_LEVELS]
    members = node_members(level, alpha)
    shape = (len(LEVEL_NODES), len(ALPHA_NODES), len(F0_LEVELS))
    log_table = np.tile(np.log(pooled), shape[:2] + (1,))
    for _ in range(1 + ROUNDS):
        # Each node moves its anchors by the weighted quantile of its points' log p_min below their current
        # interpolated anchors (0 once the node's points have exactly the F0 share under each anchor).
        anchors = log_anchors(level, alpha, np.exp(log_table))
        lp = np.log(np.maximum(p, 1e-300))
        new = log_table.copy()
        for (a, b), (idx, w) in members.items():
            lam = TAIL_PRIOR / (TAIL_PRIOR + float(w.sum()) * np.array(F0_LEVELS))
            for m, f in enumerate(F0_LEVELS):
                shift = weighted_quantile(lp[idx] - anchors[idx, m], w, f)
                new[a, b, m] = (1 - lam[m]) * (log_table[a, b, m] + shift) + lam[m] * np.log(pooled[m])
        log_table = new
    table = []
    for a in range(shape[0]):
        row = []
        for b in range(shape[1]):
            prev, anchors_ab = 1.0, []
            for q in np.exp(log_table[a, b]):
                prev = min(float(q), 0.999 * prev)  # strictly decreasing anchors
                anchors_ab.append(float(f"{prev:.4g}"))
            row.append(tuple(anchors_ab))
        table.append(row)
    print(f"# {len(p):,} null points; pooled p_min quantiles at F0 {F0_LEVELS}: {[float(f'{x:.4g}') for x in pooled]}")
    print("TABLE = (")
    for level, row in zip(LEVEL_NODES, table):
        print(f"    (  # expected count {level:g}; alpha {', '.join(f'{a:g}' for a in ALPHA_NODES)}")
        for anchors_ab in row:
            print(f"        {anchors_ab!r},")
        print("    ),")
    print(")")


if __name__ == "__main__":
    main()
