"""The builtin runtime's tools: what a model may do in its sandbox, and nothing more.

Each tool runs in the task's own sandbox through its SandboxShell; no argument picks another
host or sandbox. File paths are relative to the workspace and cannot climb out of it with `..`
(the shell is the sandbox's own, so this keeps the model's file edits where its commit sees
them; it is not a security boundary, the sandbox is). Every result is text for the model,
bounded in size; a mistake in the arguments is a result too, so the model can correct it.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from .browser import Browser
from .errors import AgentError, TransientAgentError
from .sandbox_shell import SandboxShell

FINISH = "finish"


@dataclass(frozen=True)
class ToolLimits:
    command_timeout: float = 120.0  # the longest a run_command may take unless it asks for less
    output_cap: int = 16_000  # bytes of a command's output the model sees
    file_cap: int = 64_000  # bytes of a file read_file returns


@dataclass(frozen=True)
class ToolResult:
    text: str
    finished: str | None = None  # the summary, when the model called finish
    screenshot: str | None = None  # where a browser screenshot was saved (logs volume)


def _function(name: str, description: str, **params: Any) -> dict[str, Any]:
    required = [k for k, v in params.items() if not v.pop("optional", False)]
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": params, "required": required},
        },
    }


def _text(description: str, optional: bool = False) -> dict[str, Any]:
    return {"type": "string", "description": description, "optional": optional}


TOOLS = [
    _function(
        "run_command",
        "Run a bash command in the workspace (the repository, on this task's branch) and get "
        "its exit code and output (stdout and stderr together, cut if long).",
        command=_text("the command line"),
        timeout_seconds={"type": "integer", "description": "at most this long", "optional": True},
    ),
    _function("read_file", "Read a text file of the workspace.", path=_text("relative path")),
    _function(
        "write_file",
        "Create or replace a file of the workspace with the given content.",
        path=_text("relative path"),
        content=_text("the whole new content"),
    ),
    _function(
        "edit_file",
        "Replace one exact occurrence of old_text with new_text in a file of the workspace.",
        path=_text("relative path"),
        old_text=_text("text that occurs exactly once in the file"),
        new_text=_text("its replacement"),
    ),
    _function(
        "list_files",
        "List the files under a directory of the workspace (git's view, else the tree).",
        path=_text("relative directory, default the workspace itself", optional=True),
    ),
    _function(
        "remember",
        "Note one lesson for later tasks on this repository (every sandbox of it reads the "
        "notes at its start): a build quirk, where things live, what failed.",
        note=_text("one line"),
    ),
    _function(
        FINISH,
        "Say the task is done. The supervisor then commits your changes on the branch.",
        summary=_text("one line: what you did"),
    ),
]


# In a visual sandbox: its desktop's Chromium (browser.py).
BROWSER_TOOLS = [
    _function("browser_open", "Open a URL in the desktop's browser and wait for it to load.",
              url=_text("e.g. http://localhost:3000/")),
    _function("browser_screenshot", "Take a screenshot of the browser's page (saved to the "
              "task's logs)."),
    _function("browser_click", "Click the first element that matches a CSS selector.",
              selector=_text("a CSS selector")),
    _function("browser_type", "Focus the first element that matches a CSS selector and type "
              "text into it.", selector=_text("a CSS selector"), text=_text("what to type")),
]  # fmt: skip


class ArgumentError(ValueError):
    """The model's arguments are unusable: told back to it as the tool's result."""


def workspace_path(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip() or "\0" in raw:
        raise ArgumentError("path must be a non-empty relative path")
    path = PurePosixPath(raw)
    if path.is_absolute() or ".." in path.parts:
        raise ArgumentError(f"path {raw!r} must be relative to the workspace, without '..'")
    return str(path)


def _str(args: dict[str, Any], key: str) -> str:
    value = args.get(key)
    if not isinstance(value, str):
        raise ArgumentError(f"argument {key!r} must be a string")
    return value


MEMORY_FILE = "NOTES.md"
MAX_NOTE = 500


class Toolbox:
    def __init__(
        self,
        shell: SandboxShell,
        limits: ToolLimits,
        browser: Browser | None = None,
        memory: str = "",
        signature: str = "",
    ) -> None:
        self.shell = shell
        self.limits = limits
        self.browser = browser
        self.memory = memory  # the repository's memory in the sandbox ("" when it has none)
        self.signature = signature  # who notes: "2026-12-04 task 7 (web)"
        self._tools: dict[str, Callable[[dict[str, Any]], ToolResult]] = {
            "run_command": self._run,
            "read_file": self._read,
            "write_file": self._write,
            "edit_file": self._edit,
            "list_files": self._list,
            "remember": self._remember,
            FINISH: self._finish,
        }
        if browser is not None:
            self._tools |= {
                "browser_open": lambda a: ToolResult(browser.open(_str(a, "url"))),
                "browser_screenshot": self._screenshot,
                "browser_click": lambda a: ToolResult(browser.click(_str(a, "selector"))),
                "browser_type": lambda a: ToolResult(
                    browser.type(_str(a, "selector"), _str(a, "text"))
                ),
            }

    def definitions(self) -> list[dict[str, Any]]:
        return TOOLS + (BROWSER_TOOLS if self.browser is not None else [])

    def call(self, name: str, arguments: str) -> ToolResult:
        tool = self._tools.get(name)
        if tool is None:
            return ToolResult(f"error: no tool {name!r}; tools: {', '.join(self._tools)}")
        try:
            args = json.loads(arguments or "{}")
            if not isinstance(args, dict):
                raise ArgumentError("arguments must be a JSON object")
            return tool(args)
        except (ArgumentError, ValueError) as exc:
            return ToolResult(f"error: {exc}")
        except AgentError as exc:  # the browser refused or timed out: the model may go on
            if isinstance(exc, TransientAgentError) and "unreachable" in str(exc):
                raise
            return ToolResult(f"error: {exc}")

    def _run(self, args: dict[str, Any]) -> ToolResult:
        command = _str(args, "command")
        asked = args.get("timeout_seconds")
        timeout = self.limits.command_timeout
        if isinstance(asked, int) and 0 < asked < timeout:
            timeout = float(asked)
        done = self.shell.run(command, timeout=timeout, cap=self.limits.output_cap)
        status = f"timed out after {timeout:g} s" if done.timed_out else f"exit {done.exit_code}"
        return ToolResult(f"{status}\n{done.output}")

    def _read(self, args: dict[str, Any]) -> ToolResult:
        path = workspace_path(args.get("path"))
        done = self.shell.run(f"cat -- {shlex.quote(path)}", timeout=30, cap=self.limits.file_cap)
        if done.exit_code != 0:
            return ToolResult(f"error: cannot read {path}: {done.output.strip()}")
        return ToolResult(done.output)

    def _write(self, args: dict[str, Any]) -> ToolResult:
        path, content = workspace_path(args.get("path")), _str(args, "content")
        return self._put(path, content.encode("utf-8"))

    def _put(self, path: str, data: bytes) -> ToolResult:
        quoted = shlex.quote(path)
        done = self.shell.run(
            f'mkdir -p -- "$(dirname -- {quoted})" && cat > {quoted}',
            timeout=30, cap=4000, stdin=data,
        )  # fmt: skip
        if done.exit_code != 0:
            return ToolResult(f"error: cannot write {path}: {done.output.strip()}")
        return ToolResult(f"wrote {len(data)} bytes to {path}")

    def _edit(self, args: dict[str, Any]) -> ToolResult:
        path = workspace_path(args.get("path"))
        old, new = _str(args, "old_text"), _str(args, "new_text")
        if not old:
            raise ArgumentError("old_text must not be empty")
        done = self.shell.run(f"cat -- {shlex.quote(path)}", timeout=30, cap=2**31)
        if done.exit_code != 0:
            return ToolResult(f"error: cannot read {path}: {done.output.strip()}")
        count = done.output.count(old)
        if count != 1:
            return ToolResult(
                f"error: old_text occurs {count} times in {path}; it must occur exactly once "
                "(give more surrounding text)"
            )
        return self._put(path, done.output.replace(old, new, 1).encode("utf-8"))

    def _list(self, args: dict[str, Any]) -> ToolResult:
        raw = args.get("path") or "."
        path = "." if raw == "." else workspace_path(raw)
        quoted = shlex.quote(path)
        done = self.shell.run(
            f"git ls-files --cached --others --exclude-standard -- {quoted} 2>/dev/null "
            f"|| find {quoted} -path '*/.git' -prune -o -type f -print",
            timeout=30, cap=self.limits.output_cap,
        )  # fmt: skip
        return ToolResult(done.output or "(no files)")

    def _remember(self, args: dict[str, Any]) -> ToolResult:
        note = " ".join(_str(args, "note").split())
        if not note:
            raise ArgumentError("note must say something")
        if len(note) > MAX_NOTE:
            raise ArgumentError(f"note is {len(note)} characters; keep it under {MAX_NOTE}")
        line = f"- {self.signature}: {note}\n"
        memory = shlex.quote(self.memory)
        done = self.shell.run(
            f'[ -n {memory} ] && [ -d {memory} ] && [ -w {memory} ] || exit 3; '
            f"cat >> {memory}/{MEMORY_FILE}",
            timeout=30, cap=2000, stdin=line.encode(),
        )  # fmt: skip
        if done.exit_code == 3:
            return ToolResult("error: this sandbox has no memory (it has no repository)")
        if done.exit_code != 0:
            return ToolResult(f"error: cannot write the note: {done.output.strip()}")
        return ToolResult("noted for the later tasks on this repository")

    def _screenshot(self, args: dict[str, Any]) -> ToolResult:
        assert self.browser is not None
        told, saved = self.browser.screenshot()
        return ToolResult(told, screenshot=saved)

    def _finish(self, args: dict[str, Any]) -> ToolResult:
        summary = _str(args, "summary").strip().splitlines()
        if not summary or not summary[0].strip():
            raise ArgumentError("summary must say in one line what was done")
        return ToolResult("done", finished=summary[0].strip())
