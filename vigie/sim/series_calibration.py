"""Calibration of `score_series` for count series: the null distribution of p_min given what the scan knows.

One null distribution F0 for every series is conservative where the dispersion estimate is biased upwards
(Poisson traffic: the estimate cannot go below 0 and starts at a prior) and anti-conservative where a
heavy-tailed mean is underestimated between bursts. So F0 is conditional on two things the causal scan
knows before it scores a point: the point's expected count (`level`) and the overdispersion in use at the
one-point scale (`alpha`). `TABLE[i][j]` holds the p_min quantiles at the F0 levels `F0_LEVELS` measured
on simulated null traffic around the node (LEVEL_NODES[i], ALPHA_NODES[j]); between nodes the log
quantiles are interpolated bilinearly in (log level, log(alpha + ALPHA_OFFSET)), outside the grid the
nearest edge is used. `bench/fit_series_calibration.py` measures the table (its seeds are disjoint from
those `bench/series_scoring.py` evaluates on) and prints it.
"""

from __future__ import annotations

import numpy as np

F0_LEVELS = (0.5, 0.1, 0.01, 0.001)
LEVEL_NODES = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)  # expected count of the point
ALPHA_NODES = (0.0, 0.05, 0.2, 0.6, 2.0, 6.0)  # NB overdispersion in use at the one-point scale
ALPHA_OFFSET = 0.03  # log(alpha + offset): Poisson (alpha 0) is a node like the others
# Printed by `.venv/bin/python bench/fit_series_calibration.py --seeds 8` (8 seeds x 42 null settings, 7 days
# each after a day of learning; rows: LEVEL_NODES, columns: ALPHA_NODES, each the p_min quantiles at F0_LEVELS).
# 677,376 null points; pooled p_min quantiles at F0 (0.5, 0.1, 0.01, 0.001): [0.1988, 0.02883, 0.00156, 6.194e-06]
TABLE = (
    (  # expected count 0.1; alpha 0, 0.05, 0.2, 0.6, 2, 6
        (0.2162, 0.02948, 0.0008019, 6.09e-07),
        (0.1948, 0.02956, 0.001141, 1.84e-06),
        (0.22, 0.03044, 0.001708, 2.188e-05),
        (0.2132, 0.02931, 0.001109, 6.972e-07),
        (0.2054, 0.02767, 0.0005822, 6.195e-10),
        (0.2056, 0.02778, 0.000844, 9.317e-08),
    ),
    (  # expected count 0.3; alpha 0, 0.05, 0.2, 0.6, 2, 6
        (0.2122, 0.03609, 0.004263, 6.802e-05),
        (0.2022, 0.03646, 0.003746, 5.934e-05),
        (0.1916, 0.03261, 0.003863, 0.0001311),
        (0.191, 0.03076, 0.003485, 0.0001065),
        (0.1741, 0.02085, 0.001132, 6.264e-06),
        (0.2038, 0.02783, 0.0008228, 7.045e-07),
    ),
    (  # expected count 1; alpha 0, 0.05, 0.2, 0.6, 2, 6
        (0.2029, 0.0307, 0.002623, 2.08e-05),
        (0.1881, 0.02928, 0.002352, 7.863e-05),
        (0.1888, 0.02822, 0.002103, 4.894e-05),
        (0.1811, 0.02687, 0.002795, 9.154e-05),
        (0.1693, 0.02178, 0.001241, 1.602e-06),
        (0.1935, 0.02201, 0.0002479, 8.951e-08),
    ),
    (  # expected count 3; alpha 0, 0.05, 0.2, 0.6, 2, 6
        (0.1953, 0.03134, 0.003173, 3.129e-05),
        (0.1963, 0.03362, 0.00298, 9.515e-05),
        (0.1895, 0.03093, 0.003128, 0.0001003),
        (0.1834, 0.02538, 0.001301, 4.487e-05),
        (0.1538, 0.01695, 0.0003879, 1.527e-06),
        (0.178, 0.02172, 0.000252, 8.463e-08),
    ),
    (  # expected count 10; alpha 0, 0.05, 0.2, 0.6, 2, 6
        (0.2365, 0.04466, 0.004521, 6.83e-05),
        (0.2226, 0.03986, 0.003906, 9.202e-05),
        (0.1985, 0.03292, 0.002913, 5.379e-05),
        (0.1771, 0.02592, 0.002374, 4.059e-05),
        (0.1542, 0.01699, 0.0005624, 4.527e-06),
        (0.1587, 0.0179, 0.000146, 4.754e-09),
    ),
    (  # expected count 30; alpha 0, 0.05, 0.2, 0.6, 2, 6
        (0.2841, 0.04915, 0.004455, 8.673e-05),
        (0.242, 0.04412, 0.00457, 0.0001104),
        (0.2105, 0.03452, 0.003924, 7.226e-05),
        (0.1872, 0.02832, 0.001747, 3.809e-05),
        (0.1608, 0.01848, 0.0008594, 4.557e-06),
        (0.1635, 0.01388, 0.000171, 2.361e-07),
    ),
    (  # expected count 100; alpha 0, 0.05, 0.2, 0.6, 2, 6
        (0.4514, 0.1278, 0.01306, 7.425e-05),
        (0.2817, 0.0646, 0.007186, 0.0001027),
        (0.2214, 0.04325, 0.004943, 0.0001033),
        (0.1936, 0.03131, 0.002417, 3.845e-05),
        (0.1768, 0.0239, 0.000995, 1.568e-05),
        (0.1697, 0.02263, 0.001326, 3.056e-06),
    ),
)


def grid_position(level: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Lower node index and fraction toward the next node, on each axis (clamped to the grid)."""

    def locate(v: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        v = np.clip(v, nodes[0], nodes[-1])
        j = np.clip(np.searchsorted(nodes, v) - 1, 0, len(nodes) - 2)
        return j, (v - nodes[j]) / (nodes[j + 1] - nodes[j])

    i, ti = locate(np.log(np.maximum(level, 1e-6)), np.log(np.array(LEVEL_NODES)))
    j, tj = locate(np.log(np.maximum(alpha, 0.0) + ALPHA_OFFSET), np.log(np.array(ALPHA_NODES) + ALPHA_OFFSET))
    return i, ti, j, tj


def log_anchors(level: np.ndarray, alpha: np.ndarray, table=None) -> np.ndarray:
    """log p_min quantiles at F0_LEVELS for each point, interpolated between the nodes around it."""
    table = np.log(np.asarray(TABLE if table is None else table, dtype=float))
    i, ti, j, tj = grid_position(level, alpha)
    anchors = ((1 - ti) * (1 - tj))[:, None] * table[i, j] + ((1 - ti) * tj)[:, None] * table[i, j + 1]
    anchors += (ti * (1 - tj))[:, None] * table[i + 1, j] + (ti * tj)[:, None] * table[i + 1, j + 1]
    return anchors


def calibrated_counts(p_min: np.ndarray, level: np.ndarray, alpha: np.ndarray, table=None) -> np.ndarray:
    """1 - F0(p_min | level, alpha) per point: the share of null points of that kind with a smaller p_min.

    F0 is log-log linear between (1, 1) and the interpolated anchors, and beyond the last anchor keeps the
    last segment's slope, so the score keeps growing with the evidence (0.999, 0.99999, ...)."""
    anchors = log_anchors(level, alpha, table)
    lp = np.log(np.clip(p_min, 1e-300, 1.0))
    knots_p = np.column_stack([np.zeros(len(lp)), anchors])  # log p, decreasing
    knots_f = np.log(np.array((1.0,) + F0_LEVELS))
    log_f = np.empty(len(lp))
    done = np.zeros(len(lp), dtype=bool)
    for m in range(len(knots_f) - 1):
        hi, lo = knots_p[:, m], knots_p[:, m + 1]
        sel = ~done & (lp > lo)
        w = (lp[sel] - hi[sel]) / (lo[sel] - hi[sel])
        log_f[sel] = knots_f[m] + w * (knots_f[m + 1] - knots_f[m])
        done |= sel
    rest = ~done  # beyond the last anchor: the last segment's slope
    slope = (knots_f[-1] - knots_f[-2]) / (knots_p[rest, -1] - knots_p[rest, -2])
    log_f[rest] = knots_f[-1] + slope * (lp[rest] - knots_p[rest, -1])
    return np.where(p_min >= 1.0, 0.0, 1.0 - np.exp(np.minimum(log_f, 0.0)))
