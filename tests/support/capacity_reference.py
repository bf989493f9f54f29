"""The capacity check that components/host/preflight_check.sh runs on the host, in Python.

Pure integer arithmetic on purpose: the tests hold the script to this reference, to the byte.
CPUs and the ratio travel as thousandths (`to_milli`), memory as bytes; limits round down.
Messages use the same fixed-point formatting the script prints.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.host.preflight import to_milli

GIB = 1024**3


def format_gib(n_bytes: int) -> str:
    """Bytes as GiB with two decimals, truncated (the shell's integer division does the same)."""
    hundredths = n_bytes * 100 // GIB
    return f"{hundredths // 100}.{hundredths % 100:02d} GiB"


def format_cpus(millicpus: int) -> str:
    """Thousandths of a CPU as CPUs with two decimals, truncated."""
    hundredths = millicpus // 10
    return f"{hundredths // 100}.{hundredths % 100:02d} CPUs"


def format_ratio(ratio_milli: int) -> str:
    """An over-commit ratio in thousandths as a decimal with three places."""
    return f"{ratio_milli // 1000}.{ratio_milli % 1000:03d}"


class CapacityError(ValueError):
    """The fleet asks for more than the host may give; the message names every number."""


@dataclass(frozen=True)
class CapacityVerdict:
    """A fleet that fits, with the limits it was held to and the room left."""

    memory_limit_bytes: int
    cpu_limit_milli: int
    memory_headroom_bytes: int
    cpu_headroom_milli: int
    ratio_milli: int

    @property
    def summary(self) -> str:
        return (
            f"fits: {format_gib(self.memory_headroom_bytes)} and "
            f"{format_cpus(self.cpu_headroom_milli)} left under over-commit ratio "
            f"{format_ratio(self.ratio_milli)}"
        )


def _line(kind: str, requested: str, available: str, ratio_milli: int, limit: str) -> str:
    # The host script prints exactly this line; keep the two in step (tests compare them).
    return (
        f"{kind}: the fleet requests {requested} but the host has {available}; "
        f"over-commit ratio {format_ratio(ratio_milli)} allows at most {limit}"
    )


ADVICE = (
    "Remove sandboxes or lower their memory/cpus in sandboxes.yaml, or raise "
    "sandbox-fleet:preflightOvercommitRatio (memory) or "
    "sandbox-fleet:preflightCpuOvercommitRatio (CPUs) in the stack settings."
)


def capacity_lines(
    host_memory_bytes: int,
    host_millicpus: int,
    requested_memory_bytes: int,
    requested_millicpus: int,
    ratio_milli: int,
    cpu_ratio_milli: int | None = None,
) -> tuple[int, int, list[str]]:
    """Limits and one message line per over-committed resource, all in integer units.
    CPU limits are caps, not reservations, so CPUs may have a ratio of their own."""
    cpu_ratio_milli = ratio_milli if cpu_ratio_milli is None else cpu_ratio_milli
    memory_limit = host_memory_bytes * ratio_milli // 1000
    cpu_limit = host_millicpus * cpu_ratio_milli // 1000
    lines: list[str] = []
    if requested_memory_bytes > memory_limit:
        lines.append(
            _line(
                "memory",
                format_gib(requested_memory_bytes),
                format_gib(host_memory_bytes),
                ratio_milli,
                format_gib(memory_limit),
            )
        )
    if requested_millicpus > cpu_limit:
        lines.append(
            _line(
                "cpu",
                format_cpus(requested_millicpus),
                format_cpus(host_millicpus),
                cpu_ratio_milli,
                format_cpus(cpu_limit),
            )
        )
    return memory_limit, cpu_limit, lines


def check_capacity(
    host_memory_bytes: int,
    host_cpus: float,
    requested_memory_bytes: int,
    requested_cpus: float,
    overcommit_ratio: float,
    cpu_overcommit_ratio: float | None = None,
) -> CapacityVerdict:
    """Return the verdict for a fleet that fits; raise CapacityError naming the numbers if not.

    Fits means requested <= host * ratio for memory and for CPUs (equal is a fit).
    """
    if host_memory_bytes <= 0 or host_cpus <= 0:
        raise ValueError("host memory and CPUs must be positive")
    if requested_memory_bytes < 0 or requested_cpus < 0:
        raise ValueError("requested memory and CPUs cannot be negative")
    if overcommit_ratio <= 0:
        raise ValueError("the over-commit ratio must be positive")
    ratio_milli = to_milli(overcommit_ratio)
    cpu_ratio_milli = None if cpu_overcommit_ratio is None else to_milli(cpu_overcommit_ratio)
    host_milli, requested_milli = to_milli(host_cpus), to_milli(requested_cpus)
    memory_limit, cpu_limit, lines = capacity_lines(
        host_memory_bytes,
        host_milli,
        requested_memory_bytes,
        requested_milli,
        ratio_milli,
        cpu_ratio_milli,
    )
    if lines:
        raise CapacityError("\n".join([*lines, ADVICE]))
    return CapacityVerdict(
        memory_limit_bytes=memory_limit,
        cpu_limit_milli=cpu_limit,
        memory_headroom_bytes=memory_limit - requested_memory_bytes,
        cpu_headroom_milli=cpu_limit - requested_milli,
        ratio_milli=ratio_milli,
    )
