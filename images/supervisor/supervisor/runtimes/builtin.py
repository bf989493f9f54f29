"""The builtin runtime: a tool-calling loop over an OpenAI-compatible chat API, in the task's
sandbox. The model reads, edits and runs things through the tools (tools.py) until it calls
`finish` or answers without a tool call; the supervisor then commits what changed.

Instructions: the image's default (instructions.md), then the repository's own AGENTS.md when
the workspace has one. A model server that is away is waited for, with backoff, within the
task's time budget; each wait is a step of the transcript.
"""

from __future__ import annotations

import itertools
import shlex
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..backoff import Backoff
from ..browser import Browser
from ..chat import ChatClient, Reply
from ..errors import AgentError, TransientAgentError
from ..task import Task
from ..tools import MEMORY_FILE, Toolbox, ToolLimits

if TYPE_CHECKING:
    from ..sandbox_shell import SandboxShell
    from ..session import TaskSession

DEFAULT_INSTRUCTIONS = Path(__file__).resolve().parents[1] / "instructions.md"
AGENTS_FILE_CAP = 16_000
MEMORY_CAP = 8_000  # the latest notes of the repository's memory that a task reads


class BuiltinRuntime:
    name = "builtin"
    in_sandbox = True

    def __init__(
        self,
        chat: ChatClient,
        limits: ToolLimits,
        backoff: Backoff,
        instructions: str = "",
        devtools_port: int = 0,
        screenshots: Path | None = None,
        memory: str = "",
    ) -> None:
        self.chat = chat
        self.limits = limits
        self.backoff = backoff
        self.instructions = instructions
        self.devtools_port = devtools_port  # a visual sandbox's Chromium (0: no browser tools)
        self.screenshots = screenshots  # where browser screenshots go (the logs volume)
        self.memory = memory  # a sandbox's repository memory (MEMORY_PATH)

    def initialize(self) -> None:
        self.chat.check()
        if not self.instructions:
            self.instructions = DEFAULT_INSTRUCTIONS.read_text(encoding="utf-8")

    def terminate(self) -> None:
        pass

    def execute(self, task: Task, session: TaskSession, shell: SandboxShell | None) -> str:
        if shell is None:
            raise AgentError("the builtin runtime works in a sandbox")
        signature = f"{time.strftime('%Y-%m-%d', time.gmtime())} task {task.id} ({task.sandbox})"
        toolbox = Toolbox(shell, self.limits, self._browser(task, shell), self.memory, signature)
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": self._instructions(shell)},
            {"role": "user", "content": task.prompt},
        ]
        while True:
            session.next_step()
            reply = self._complete(messages, toolbox, session)
            session.record(
                "model",
                content=reply.content,
                tool_calls=[{"name": c.name, "arguments": c.arguments} for c in reply.tool_calls],
                prompt_tokens=reply.prompt_tokens,
                completion_tokens=reply.completion_tokens,
            )
            session.spend(reply.prompt_tokens, reply.completion_tokens)
            messages.append(reply.message)
            if not reply.tool_calls:  # the model is done talking: its answer is the summary
                lines = reply.content.strip().splitlines()
                return lines[0].strip() if lines else "the model ended without a summary"
            for call in reply.tool_calls:
                session.check()
                result = toolbox.call(call.name, call.arguments)
                shot = {"screenshot": result.screenshot} if result.screenshot else {}
                session.record("tool", name=call.name, arguments=call.arguments,
                               output=result.text, **shot)  # fmt: skip
                if result.finished is not None:
                    return result.finished
                messages.append({"role": "tool", "tool_call_id": call.id, "content": result.text})

    def _instructions(self, shell: SandboxShell) -> str:
        """The image's instructions, the repository's AGENTS.md, and the latest of its memory."""
        parts = [self.instructions]
        agents = shell.run("cat AGENTS.md 2>/dev/null", timeout=30, cap=AGENTS_FILE_CAP)
        if agents.exit_code == 0 and agents.output.strip():
            parts.append(f"# The repository's AGENTS.md\n\n{agents.output}")
        notes = shell.run(
            f"tail -c {MEMORY_CAP} -- {shlex.quote(self.memory)}/{MEMORY_FILE} 2>/dev/null",
            timeout=30, cap=MEMORY_CAP,
        ) if self.memory else None  # fmt: skip
        if notes is not None and notes.exit_code == 0 and notes.output.strip():
            parts.append(
                "# What earlier tasks on this repository noted (its memory; add with "
                f"`remember`)\n\n{notes.output}"
            )
        return "\n\n".join(parts)

    def _browser(self, task: Task, shell: SandboxShell) -> Browser | None:
        """The desktop's browser, in a visual sandbox (its own SANDBOX_MODE says which)."""
        mode = shell.run('printf %s "${SANDBOX_MODE:-}"', timeout=30, cap=100).output
        if mode.strip() != "visual" or not self.devtools_port or self.screenshots is None:
            return None
        directory, shots = self.screenshots, itertools.count(1)

        def save(png: bytes) -> str:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / f"task-{task.id}-{next(shots)}.png"
            path.write_bytes(png)
            return f"{directory.name}/{path.name}"

        return Browser(shell, self.devtools_port, save)

    def _complete(
        self, messages: list[dict[str, Any]], toolbox: Toolbox, session: TaskSession
    ) -> Reply:
        attempt = 0
        while True:
            session.check()
            try:
                return self.chat.complete(
                    messages, toolbox.definitions(), timeout=session.remaining_seconds()
                )
            except TransientAgentError as exc:
                attempt += 1
                delay = self.backoff.delay(attempt)
                session.record("wait", reason=str(exc), seconds=round(delay, 3))
                session.pause(delay)
