"""Statistics on group summaries that the database computed (n, mean, variance, ...).

P-values come from scipy.stats' t and F distributions, imported where they are used: importing
scipy.stats takes about a second, and this module is imported by every process that loads the
apps (analytics.models reads the bucket constants below), while only the before/after figure
needs it.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

ALPHA = 0.05
# d2 for moving ranges of two points: sigma = mean moving range / 1.128.
D2_MOVING_RANGE = 1.128


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


def welch_t(n1: int, mean1: float, var1: float, n2: int, mean2: float, var2: float) -> TestResult:
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
    from scipy.stats import t as t_distribution

    return TestResult(t, df, float(2 * t_distribution.sf(abs(t), df)))


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
    from scipy.stats import f as f_distribution

    return TestResult(w, float(d2), float(f_distribution.sf(w, d1, d2)))


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks: PostgreSQL's percentile_cont."""
    data = sorted(values)
    if not data:
        return None
    pos = (len(data) - 1) * q
    low = math.floor(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


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
    return {
        "centre": centre,
        "sigma": sigma,
        "ucl": centre + 3 * sigma,
        "lcl": centre - 3 * sigma,
        "mr_bar": mr_bar,
    }


# --- Log-scale histograms of durations --------------------------------------------------------

# A duration of s >= 1 seconds falls in bucket floor(log2(s) * 32); zero falls in bucket -1.
# Each bucket spans a factor of 2 ** (1 / 32), so a value read inside one is within 2.2% of the
# exact value.
BUCKETS_PER_DOUBLING = 32
PERCENTILE_MAX_ERROR = 2 ** (1 / BUCKETS_PER_DOUBLING) - 1


def bucket_of(seconds: int) -> int:
    """The bucket of a duration, as the database computes it (analytics.selectors)."""
    return (
        math.floor(math.log(seconds) * BUCKETS_PER_DOUBLING / math.log(2)) if seconds >= 1 else -1
    )


@dataclass
class Bucket:
    n: int = 0
    total: int = 0
    squares: int = 0
    low: int | None = None
    high: int | None = None

    def add(self, n: int, total: int, squares: int, low: int, high: int) -> None:
        self.n += n
        self.total += total
        self.squares += squares
        self.low = low if self.low is None else min(self.low, low)
        self.high = high if self.high is None else max(self.high, high)

    def value(self, rank: int) -> float:
        """The rank-th smallest value (0-based) of the bucket: exact for its first and last
        values, otherwise interpolated linearly between them."""
        if self.n <= 1 or rank <= 0:
            return float(self.low)
        if rank >= self.n - 1:
            return float(self.high)
        return self.low + (self.high - self.low) * rank / (self.n - 1)


class Histogram:
    """Durations in whole seconds, summed by the database into log-scale buckets (count, sum,
    sum of squares, smallest and largest value of each). The count, mean, variance and
    standard deviation are exact; percentiles are exact when the ranks they need are the
    smallest or largest value of their bucket (always when no more than two values share a
    bucket), otherwise within PERCENTILE_MAX_ERROR of the exact value."""

    def __init__(self):
        self.buckets: dict[int, Bucket] = {}
        self.n = 0
        self.total = 0
        self._order: list[tuple[int, Bucket]] | None = None

    def add(self, bucket: int, n, total, squares, low, high) -> None:
        self.extend(((bucket, n, total, squares, low, high),))

    def extend(self, rows) -> None:
        """Add (bucket, n, total, squares, low, high) rows, as a GROUP BY over the bucket sends
        them back, in one pass (a figure over a year of visits reads tens of thousands)."""
        buckets = self.buckets
        n_all, total_all = self.n, self.total
        for bucket, n, total, squares, low, high in rows:
            if not n:
                continue
            total, squares = int(total), int(squares)
            n_all += n
            total_all += total
            existing = buckets.get(bucket)
            if existing is None:
                buckets[bucket] = Bucket(n, total, squares, low, high)
            else:
                existing.add(n, total, squares, low, high)
        self.n, self.total = n_all, total_all
        self._order = None

    @property
    def mean(self) -> float | None:
        n = self.n
        return self.total / n if n else None

    @property
    def variance(self) -> float | None:
        """Sample variance, computed exactly on the integer sums."""
        n = self.n
        if n < 2:
            return None
        squares = sum(b.squares for b in self.buckets.values())
        total = self.total
        return max(0, n * squares - total * total) / (n * (n - 1))

    @property
    def sd(self) -> float | None:
        variance = self.variance
        return None if variance is None else math.sqrt(variance)

    def _ordered(self) -> list[tuple[int, Bucket]]:
        """(rank of the bucket's first value, bucket), in order of value."""
        if self._order is None:
            self._order, start = [], 0
            for key in sorted(self.buckets):
                self._order.append((start, self.buckets[key]))
                start += self.buckets[key].n
        return self._order

    def _ranks(self, q: float) -> tuple[int, int, float]:
        position = (self.n - 1) * q
        low = math.floor(position)
        return low, min(low + 1, self.n - 1), position - low

    def value_at(self, rank: int) -> float:
        for start, bucket in reversed(self._ordered()):
            if rank >= start:
                return bucket.value(rank - start)
        raise IndexError(rank)

    def percentile(self, q: float) -> float | None:
        """PostgreSQL's percentile_cont(q): linear interpolation between the closest ranks."""
        if not self.n:
            return None
        low, high, fraction = self._ranks(q)
        below = self.value_at(low)
        return below + (self.value_at(high) - below) * fraction
