"""capacity.check_capacity: fleets that fit, fit exactly, and do not; refusals name the numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.capacity_reference import (
    GIB,
    CapacityError,
    check_capacity,
    format_cpus,
    format_gib,
    format_ratio,
)


def test_fleet_that_fits_reports_its_headroom() -> None:
    verdict = check_capacity(16 * GIB, 4, 8 * GIB, 2.5, 1.0)
    assert verdict.memory_limit_bytes == 16 * GIB and verdict.cpu_limit_milli == 4000
    assert verdict.memory_headroom_bytes == 8 * GIB and verdict.cpu_headroom_milli == 1500
    assert verdict.summary == "fits: 8.00 GiB and 1.50 CPUs left under over-commit ratio 1.000"


def test_fleet_that_fits_exactly_is_accepted() -> None:
    verdict = check_capacity(16 * GIB, 4, 16 * GIB, 4, 1.0)
    assert (verdict.memory_headroom_bytes, verdict.cpu_headroom_milli) == (0, 0)
    over = check_capacity(16 * GIB, 4, 24 * GIB, 6, 1.5)  # exactly at the over-commit limit
    assert (over.memory_headroom_bytes, over.cpu_headroom_milli) == (0, 0)


def test_one_byte_over_is_refused_and_every_number_is_named() -> None:
    with pytest.raises(CapacityError) as caught:
        check_capacity(16 * GIB, 4, 16 * GIB + 1, 4, 1.0)
    message = str(caught.value)
    assert message.splitlines()[0] == (
        "memory: the fleet requests 16.00 GiB but the host has 16.00 GiB; "
        "over-commit ratio 1.000 allows at most 16.00 GiB"
    )
    assert "cpu:" not in message
    assert "sandbox-fleet:preflightOvercommitRatio (memory)" in message


def test_refusal_with_a_ratio_names_requested_available_ratio_and_limit() -> None:
    with pytest.raises(CapacityError) as caught:
        check_capacity(12 * GIB, 8, 20 * GIB, 13, 1.5)
    lines = str(caught.value).splitlines()
    assert lines[0] == (
        "memory: the fleet requests 20.00 GiB but the host has 12.00 GiB; "
        "over-commit ratio 1.500 allows at most 18.00 GiB"
    )
    assert lines[1] == (
        "cpu: the fleet requests 13.00 CPUs but the host has 8.00 CPUs; "
        "over-commit ratio 1.500 allows at most 12.00 CPUs"
    )


def test_fractional_cpus_count_in_thousandths() -> None:
    check_capacity(GIB, 2, 0, 1.999, 1.0)
    check_capacity(GIB, 2, 0, 2.0, 1.0)
    with pytest.raises(CapacityError, match=r"requests 2\.00 CPUs but the host has 2\.00 CPUs"):
        check_capacity(GIB, 2, 0, 2.001, 1.0)  # 2001 millicpus, shown truncated


@pytest.mark.parametrize(
    "args",
    [(0, 4, 1, 1, 1.0), (GIB, 0, 1, 1, 1.0), (GIB, 4, -1, 1, 1.0), (GIB, 4, 1, 1, 0.0)],
)
def test_nonsense_inputs_are_errors_not_verdicts(
    args: tuple[int, float, int, float, float],
) -> None:
    with pytest.raises(ValueError):
        check_capacity(*args)


def test_human_units_truncate_like_the_shell() -> None:
    assert format_gib(GIB * 3 // 2) == "1.50 GiB"
    assert format_gib(GIB - 1) == "0.99 GiB"
    assert format_cpus(1999) == "1.99 CPUs"
    assert format_ratio(1250) == "1.250"


@given(
    host_gib=st.integers(min_value=1, max_value=512),
    host_cpus=st.integers(min_value=1, max_value=128),
    requested=st.integers(min_value=0, max_value=1024 * GIB),
    requested_milli=st.integers(min_value=0, max_value=256_000),
    ratio_milli=st.integers(min_value=100, max_value=4000),
)
def test_fits_exactly_when_within_host_times_ratio(
    host_gib: int, host_cpus: int, requested: int, requested_milli: int, ratio_milli: int
) -> None:
    host = host_gib * GIB
    fits = (
        requested * 1000 <= host * ratio_milli
        and requested_milli * 1000 <= host_cpus * 1000 * ratio_milli
    )
    try:
        check_capacity(host, host_cpus, requested, requested_milli / 1000, ratio_milli / 1000)
    except CapacityError as exc:
        assert not fits, str(exc)
    else:
        assert fits
