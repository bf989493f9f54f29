"""What a request may say, and the error each mistake gets: status code and a message naming
the field, the parameter or the sandbox."""

from __future__ import annotations

import difflib
import urllib.parse
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from .fleet_config import NAME, NAME_RULE
from .stats import MAX_HOURS
from .task import STATUSES, Status

MAX_SENDER_CHARS = 200
TASK_FIELDS = ("sender", "sandbox", "prompt")
LIST_PARAMS = ("status", "sandbox", "limit")
MAX_LIST_LIMIT = 1000
MAX_NAMES_SHOWN = 50


class BadRequest(ValueError):
    def __init__(self, message: str, status: HTTPStatus = HTTPStatus.BAD_REQUEST) -> None:
        super().__init__(message)
        self.status = status


class MethodNotAllowed(BadRequest):
    def __init__(self, method: str, allowed: tuple[str, ...]) -> None:
        super().__init__(
            f"method {method} not allowed; use {', '.join(allowed)}", HTTPStatus.METHOD_NOT_ALLOWED
        )
        self.allow = ", ".join(allowed)


class Unauthorized(BadRequest):
    def __init__(self, message: str) -> None:
        super().__init__(message, HTTPStatus.UNAUTHORIZED)


def validate_task_body(body: Any) -> tuple[str, str, str]:
    """Return (sender, sandbox, prompt) of a POST /tasks body; BadRequest names the bad field."""
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object with fields sender, sandbox, prompt")
    unknown = sorted(set(body) - set(TASK_FIELDS))
    if unknown:
        raise BadRequest(
            f"unknown field(s): {', '.join(unknown)}; allowed: sender, sandbox, prompt"
        )
    for name in TASK_FIELDS:
        if name not in body:
            raise BadRequest(f"field '{name}' is required")
        if not isinstance(body[name], str):
            raise BadRequest(f"field '{name}' must be a string, got {type(body[name]).__name__}")
        if not body[name].strip():
            raise BadRequest(f"field '{name}' must not be empty")
    sender, sandbox, prompt = body["sender"], body["sandbox"], body["prompt"]
    if len(sender) > MAX_SENDER_CHARS:
        raise BadRequest(f"field 'sender' is longer than {MAX_SENDER_CHARS} characters")
    if not NAME.fullmatch(sandbox):
        raise BadRequest(
            f"field 'sandbox' is not a valid sandbox name: {sandbox[:80]!r} ({NAME_RULE})"
        )
    return sender, sandbox, prompt


def unknown_sandbox(sandbox: str, known: Iterable[str]) -> BadRequest:
    """404 for a task of a sandbox the fleet does not have, naming those it has."""
    names = sorted(known)
    close = difflib.get_close_matches(sandbox, names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    shown = ", ".join(names[:MAX_NAMES_SHOWN]) or "none"
    if len(names) > MAX_NAMES_SHOWN:
        shown += f" and {len(names) - MAX_NAMES_SHOWN} more"
    return BadRequest(
        f"sandbox {sandbox!r} is not in the fleet{hint}; known sandboxes: {shown}",
        HTTPStatus.NOT_FOUND,
    )


def _params(query: str, allowed: tuple[str, ...]) -> dict[str, str]:
    params = urllib.parse.parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise BadRequest(
            f"unknown query parameter(s): {', '.join(unknown)}; allowed: {', '.join(allowed)}"
        )
    for name, values in params.items():
        if len(values) != 1:
            raise BadRequest(f"query parameter '{name}' given more than once")
    return {name: values[0] for name, values in params.items()}


def _bounded(params: dict[str, str], name: str, default: int, high: int) -> int:
    text = params.get(name, str(default))
    if not text.isdigit() or not 1 <= int(text) <= high:
        raise BadRequest(f"query parameter '{name}' must be an integer 1..{high}")
    return int(text)


def parse_list_query(query: str) -> tuple[Status | None, str | None, int]:
    params = _params(query, LIST_PARAMS)
    status = params.get("status")
    if status is not None and status not in STATUSES:
        raise BadRequest(f"query parameter 'status'={status!r} is not one of {', '.join(STATUSES)}")
    limit = _bounded(params, "limit", 100, MAX_LIST_LIMIT)
    return status, params.get("sandbox"), limit


def parse_hours(query: str) -> int:
    """``?hours=`` of /stats and /fleet: the window that ends now (default: the last 24 h)."""
    return _bounded(_params(query, ("hours",)), "hours", 24, MAX_HOURS)


def task_id(ident: str) -> int:
    if not (ident.isascii() and ident.isdigit() and len(ident) <= 18):
        raise BadRequest(f"task id must be a positive integer, got {ident[:40]!r}")
    return int(ident)
