"""The benchmark function returns sane figures (its timings are checked by `make bench`)."""

from __future__ import annotations

from pvgen.guest.bench import dispatch_overhead


def test_dispatch_overhead_reports_rates_ratios_and_batching() -> None:
    figures = dispatch_overhead(calls=2_000, repeats=2, fork_size=3)
    assert figures.dispatch_calls_per_second > 0
    assert figures.direct_calls_per_second > 0
    assert 0 < figures.dispatch_ratio < 10
    assert 0 < figures.empty_hook_dispatch_ratio < 10
    assert figures.xen_fork_hypercalls_lazy < figures.xen_fork_hypercalls_eager
    assert figures.xen_fork_batching_factor > 1
    assert set(figures.as_dict()) >= {"dispatch_ratio", "xen_fork_batching_factor"}
