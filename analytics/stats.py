"""Statistics on group summaries that the database computed (n, mean, variance, ...).

P-values come from the regularized incomplete beta function (no SciPy at runtime); the tests
check them against scipy.stats.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

ALPHA = 0.05
# d2 for moving ranges of two points: sigma = mean moving range / 1.128.
D2_MOVING_RANGE = 1.128


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 1000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with df degrees of freedom."""
    if math.isnan(t) or df <= 0:
        return math.nan
    if math.isinf(t):
        return 0.0
    return betainc(df / 2.0, 0.5, df / (df + t * t))


def f_sf(f: float, d1: float, d2: float) -> float:
    """P(F >= f) for the F distribution with (d1, d2) degrees of freedom."""
    if math.isnan(f) or d1 <= 0 or d2 <= 0:
        return math.nan
    if f <= 0:
        return 1.0
    if math.isinf(f):
        return 0.0
    return betainc(d2 / 2.0, d1 / 2.0, d2 / (d2 + d1 * f))


@dataclass(frozen=True)
class TestResult:
    statistic: float | None
    df: float | None
    p_value: float | None

    @property
    def significant(self) -> bool | None:
        if self.p_value is None or math.isnan(self.p_value):
            return None
        return self.p_value < ALPHA


NO_RESULT = TestResult(None, None, None)


def welch_t(n1: int, mean1: float, var1: float, n2: int, mean2: float,
            var2: float) -> TestResult:
    """Welch's unequal-variance t-test from each group's n, mean and sample variance
    (scipy.stats.ttest_ind(a, b, equal_var=False)); t is mean1 - mean2 over its error."""
    if n1 < 2 or n2 < 2:
        return NO_RESULT
    a, b = var1 / n1, var2 / n2
    se2 = a + b
    if se2 <= 0:
        return NO_RESULT
    t = (mean1 - mean2) / math.sqrt(se2)
    df = se2 * se2 / (a * a / (n1 - 1) + b * b / (n2 - 1))
    return TestResult(t, df, t_two_sided_p(t, df))


def levene(groups: Sequence[tuple[int, float, float]]) -> TestResult:
    """Levene's test from each group's (n, mean of |x - centre|, sample variance of
    |x - centre|). With the median as centre this is the Brown-Forsythe variant, which is
    scipy.stats.levene's default (center="median")."""
    groups = [g for g in groups if g[0] > 0]
    k = len(groups)
    total = sum(n for n, _m, _v in groups)
    if k < 2 or total <= k:
        return NO_RESULT
    grand = sum(n * m for n, m, _v in groups) / total
    between = sum(n * (m - grand) ** 2 for n, m, _v in groups)
    within = sum((n - 1) * (v or 0.0) for n, _m, v in groups)
    d1, d2 = k - 1, total - k
    if within <= 0:
        return NO_RESULT
    w = (d2 / d1) * between / within
    return TestResult(w, float(d2), f_sf(w, d1, d2))


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks: PostgreSQL's percentile_cont."""
    data = sorted(values)
    if not data:
        return None
    pos = (len(data) - 1) * q
    low = math.floor(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


def summary(values: Sequence[float]) -> dict:
    """n, mean, sample standard deviation, median and p90 (the SQLite fallback path)."""
    n = len(values)
    if not n:
        return {"n": 0, "mean": None, "sd": None, "median": None, "p90": None}
    mean = sum(values) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in values) / (n - 1)) if n > 1 else None
    return {"n": n, "mean": mean, "sd": sd, "median": percentile(values, 0.5),
            "p90": percentile(values, 0.9)}


def individuals_limits(points: Sequence[float]) -> dict:
    """Individuals (X) chart: centre = mean of the points, sigma = mean moving range / 1.128,
    limits centre +/- 3 sigma (the lower limit is not cut at zero)."""
    if not points:
        return {"centre": None, "sigma": None, "ucl": None, "lcl": None, "mr_bar": None}
    centre = sum(points) / len(points)
    ranges = [abs(b - a) for a, b in zip(points, points[1:], strict=False)]
    if not ranges:
        return {"centre": centre, "sigma": None, "ucl": None, "lcl": None, "mr_bar": None}
    mr_bar = sum(ranges) / len(ranges)
    sigma = mr_bar / D2_MOVING_RANGE
    return {"centre": centre, "sigma": sigma, "ucl": centre + 3 * sigma,
            "lcl": centre - 3 * sigma, "mr_bar": mr_bar}
