"""Durations summed into log-scale buckets: what stays exact, and how close the percentiles
come when many values share a bucket."""

import math
import random

import pytest
from scipy import stats as sp

from analytics import stats
from analytics.stats import PERCENTILE_MAX_ERROR, Histogram, bucket_of


def histogram_of(values: list[int]) -> Histogram:
    """What the database sends back: each bucket's count, sum, sum of squares, min and max."""
    buckets: dict[int, list[int]] = {}
    for value in values:
        buckets.setdefault(bucket_of(value), []).append(value)
    histogram = Histogram()
    for bucket, xs in buckets.items():
        histogram.add(bucket, len(xs), sum(xs), sum(x * x for x in xs), min(xs), max(xs))
    return histogram


def test_a_bucket_spans_a_factor_of_two_to_the_thirty_second():
    assert bucket_of(0) == -1
    assert bucket_of(1) == 0
    assert bucket_of(2) == 32
    assert bucket_of(3600) == math.floor(32 * math.log2(3600))
    assert round(PERCENTILE_MAX_ERROR, 4) == 0.0219


def test_count_mean_and_variance_are_exact():
    rng = random.Random(1)
    values = [int(rng.lognormvariate(11, 1.2)) for _ in range(5000)]
    histogram = histogram_of(values)
    assert histogram.n == 5000
    assert histogram.mean == pytest.approx(sum(values) / 5000, rel=1e-12)
    assert histogram.variance == pytest.approx(sp.tvar(values), rel=1e-12)


def test_percentiles_are_exact_when_no_two_values_share_a_bucket():
    hours = [1, 2, 3, 4, 10]
    histogram = histogram_of([h * 3600 for h in hours])
    assert histogram.percentile(0.5) == 3 * 3600
    assert histogram.percentile(0.9) == pytest.approx(7.6 * 3600)


def test_percentiles_stay_within_the_documented_error_when_values_share_buckets():
    rng = random.Random(7)
    # 20 000 durations over a few hours: hundreds of values to a bucket.
    values = [int(rng.gauss(4 * 3600, 1800)) for _ in range(20_000)]
    histogram = histogram_of(values)
    for q in (0.1, 0.5, 0.9, 0.99):
        exact = stats.percentile(values, q)
        assert histogram.percentile(q) == pytest.approx(exact, rel=PERCENTILE_MAX_ERROR)


def test_the_smallest_and_largest_values_are_exact():
    values = [5, 5, 5, 7, 7, 86_400, 86_401, 86_500]
    histogram = histogram_of(values)
    assert (histogram.percentile(0.0), histogram.percentile(1.0)) == (5, 86_500)


def test_a_histogram_extended_with_rows_in_one_pass_equals_one_built_row_by_row():
    rng = random.Random(3)
    values = [int(rng.lognormvariate(10, 1.5)) for _ in range(3000)]
    rows = []
    for bucket in sorted({bucket_of(v) for v in values}):
        xs = [v for v in values if bucket_of(v) == bucket]
        # Two rows for the larger buckets (two groups of the database's): merged into one.
        for part in (xs[: len(xs) // 2], xs[len(xs) // 2 :]) if len(xs) > 3 else (xs,):
            rows.append(
                (bucket, len(part), sum(part), sum(x * x for x in part), min(part), max(part))
            )
    rows.append((5, 0, 0, 0, None, None))  # an empty group adds nothing
    one_by_one, at_once = Histogram(), Histogram()
    for row in rows:
        one_by_one.add(*row)
    at_once.extend(iter(rows))
    reference = histogram_of(values)
    for histogram in (one_by_one, at_once):
        assert (
            (histogram.n, histogram.total) == (reference.n, reference.total) == (3000, sum(values))
        )
        assert histogram.buckets == reference.buckets
        assert histogram.variance == pytest.approx(sp.tvar(values), rel=1e-12)
        assert histogram.percentile(0.5) == reference.percentile(0.5)
    at_once.percentile(0.9)
    at_once.extend([(bucket_of(10**9), 1, 10**9, 10**18, 10**9, 10**9)])
    assert at_once.percentile(1.0) == 10**9  # the cached order is rebuilt after extend
