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
ALPHA_NODES = (0.0, 0.05, 0.2, 0.6, 1.1, 2.0, 6.0)  # NB overdispersion in use at the one-point scale
ALPHA_OFFSET = 0.03  # log(alpha + offset): Poisson (alpha 0) is a node like the others
# Printed by `.venv/bin/python bench/fit_series_calibration.py --seeds 8` (8 seeds x 49 null settings, 7 days
# each after a day of learning; rows: LEVEL_NODES, columns: ALPHA_NODES, each the p_min quantiles at F0_LEVELS).
# 790,272 null points; pooled p_min quantiles at F0 (0.5, 0.1, 0.01, 0.001): [0.1971, 0.02863, 0.001689, 1.654e-05]
TABLE = (
    (  # expected count 0.1; alpha 0, 0.05, 0.2, 0.6, 1.1, 2, 6
        (0.2188, 0.02936, 0.0006291, 2.31e-09),
        (0.201, 0.02922, 0.001182, 2.751e-06),
        (0.2207, 0.031, 0.001727, 4.498e-05),
        (0.2119, 0.03146, 0.001567, 1.653e-05),
        (0.2185, 0.03033, 0.001414, 1.006e-05),
        (0.2042, 0.02422, 0.0007595, 1.559e-08),
        (0.1966, 0.02269, 0.0001442, 1.878e-08),
    ),
    (  # expected count 0.3; alpha 0, 0.05, 0.2, 0.6, 1.1, 2, 6
        (0.2105, 0.03568, 0.004498, 0.0001287),
        (0.2024, 0.03652, 0.003694, 8.602e-05),
        (0.19, 0.03199, 0.003712, 0.0001754),
        (0.1945, 0.03036, 0.003389, 0.0001512),
        (0.1816, 0.02715, 0.002737, 5.827e-05),
        (0.1728, 0.0236, 0.001844, 5.514e-05),
        (0.1774, 0.0241, 0.0006971, 2.183e-06),
    ),
    (  # expected count 1; alpha 0, 0.05, 0.2, 0.6, 1.1, 2, 6
        (0.2032, 0.03076, 0.002615, 3.664e-05),
        (0.1882, 0.02932, 0.002377, 0.0001135),
        (0.1887, 0.02831, 0.002156, 6.899e-05),
        (0.1808, 0.02713, 0.002722, 0.0001288),
        (0.1778, 0.0247, 0.002048, 3.696e-05),
        (0.1712, 0.0206, 0.0007181, 4.841e-06),
        (0.1904, 0.02352, 0.0008972, 1.242e-05),
    ),
    (  # expected count 3; alpha 0, 0.05, 0.2, 0.6, 1.1, 2, 6
        (0.1953, 0.03133, 0.003199, 5.317e-05),
        (0.1963, 0.03363, 0.002983, 0.0001272),
        (0.1894, 0.03087, 0.003126, 0.0001406),
        (0.1841, 0.02531, 0.001278, 5.908e-05),
        (0.1797, 0.02692, 0.001663, 5.487e-05),
        (0.1613, 0.01973, 0.000479, 3.408e-07),
        (0.1832, 0.02372, 0.0007081, 1.003e-06),
    ),
    (  # expected count 10; alpha 0, 0.05, 0.2, 0.6, 1.1, 2, 6
        (0.2365, 0.04466, 0.00455, 0.0001125),
        (0.2226, 0.03986, 0.003922, 0.00013),
        (0.1985, 0.0329, 0.002922, 7.814e-05),
        (0.1773, 0.02635, 0.002386, 5.472e-05),
        (0.1874, 0.0288, 0.001942, 6.024e-05),
        (0.1503, 0.01564, 0.0004786, 2.59e-07),
        (0.1518, 0.01232, 0.0001272, 6.401e-07),
    ),
    (  # expected count 30; alpha 0, 0.05, 0.2, 0.6, 1.1, 2, 6
        (0.2841, 0.04914, 0.004485, 0.0001284),
        (0.242, 0.04412, 0.004581, 0.0001585),
        (0.2109, 0.03469, 0.004028, 0.0001074),
        (0.1836, 0.02634, 0.001296, 4.154e-05),
        (0.1753, 0.02451, 0.00187, 6.127e-05),
        (0.1542, 0.01666, 0.0006912, 1.282e-05),
        (0.1584, 0.01832, 0.0002901, 2.22e-06),
    ),
    (  # expected count 100; alpha 0, 0.05, 0.2, 0.6, 1.1, 2, 6
        (0.4514, 0.1278, 0.01315, 0.0001179),
        (0.2817, 0.06458, 0.007223, 0.0001532),
        (0.2213, 0.04334, 0.004994, 0.0001548),
        (0.1946, 0.03066, 0.002429, 5.468e-05),
        (0.194, 0.03217, 0.0023, 8.778e-05),
        (0.1595, 0.02045, 0.001424, 3.514e-05),
        (0.1844, 0.02701, 0.001795, 4.159e-05),
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
