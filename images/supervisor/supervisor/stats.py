"""Workload over a window of time: tasks per state and tokens used, from a tasks table (the
local queue's ``tasks``, headquarters' ``fleet_tasks``). The window ends at the caller's clock,
so a test sets the time rather than depending on today's date.

A task counts in the window when it is queued or running now, or changed state within it
(ended, for most). Tokens are those of the tasks counted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from .queue import stamp
from .task import ENDED, STATUSES

Read = Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]]
MAX_HOURS = 24 * 30


def empty() -> dict[str, int]:
    return {**dict.fromkeys(STATUSES, 0), "prompt_tokens": 0, "completion_tokens": 0, "tokens": 0}


def since(until: datetime, hours: int) -> str:
    return stamp(until - timedelta(hours=hours))


def activity(
    read: Read, table: str, start: str, keys: Sequence[str] = ("sandbox",)
) -> dict[tuple[str, ...], dict[str, int]]:
    """Counts per state and tokens, per value of ``keys`` (the sandbox; the host and sandbox)."""
    columns = ", ".join(keys)
    rows = read(
        f"SELECT {columns}, status, COUNT(*), SUM(prompt_tokens), SUM(completion_tokens)"
        f" FROM {table} WHERE status IN ('queued', 'running') OR updated_at >= ?"
        f" GROUP BY {columns}, status",
        (start,),
    )
    found: dict[tuple[str, ...], dict[str, int]] = {}
    for row in rows:
        key, (status, count, prompt, completion) = tuple(row[: len(keys)]), row[len(keys) :]
        entry = found.setdefault(key, empty())
        entry[status] += int(count)
        entry["prompt_tokens"] += int(prompt or 0)
        entry["completion_tokens"] += int(completion or 0)
        entry["tokens"] += int(prompt or 0) + int(completion or 0)
    return found


def total(entries: Sequence[dict[str, int]]) -> dict[str, int]:
    out = empty()
    for entry in entries:
        for key, value in entry.items():
            out[key] += value
    return out


def tokens_by_hour(read: Read, table: str, until: datetime, hours: int) -> list[dict[str, Any]]:
    """Tokens of the tasks that ended in each hour of the window, oldest first, zeros kept."""
    last = until.replace(minute=0, second=0, microsecond=0)
    buckets = [stamp(last - timedelta(hours=h))[:13] for h in reversed(range(hours))]
    ended = ", ".join(f"'{s}'" for s in ENDED)
    rows = read(
        f"SELECT substr(updated_at, 1, 13), SUM(prompt_tokens + completion_tokens) FROM {table}"
        f" WHERE status IN ({ended}) AND updated_at >= ? GROUP BY 1",
        (buckets[0],),
    )
    spent = {hour: int(tokens or 0) for hour, tokens in rows}
    return [{"hour": f"{hour}:00Z", "tokens": spent.get(hour, 0)} for hour in buckets]
