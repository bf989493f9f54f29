"""The task's git work in its sandbox: a clean start, a commit of what the agent changed on the
sandbox's branch (the git identity with the fleet's suffix), a push when the sandbox can, and,
for a task that does not finish, its changes set aside in a stash, so nothing half-done is
committed and nothing is lost."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from .errors import AgentError
from .sandbox_shell import SandboxShell
from .task import Task

GIT_TIMEOUT_S = 120
PUSH_TIMEOUT_S = 300


@dataclass(frozen=True)
class Commit:
    sha: str
    files: tuple[str, ...]


class Workspace:
    def __init__(self, shell: SandboxShell, task: Task, author_suffix: str) -> None:
        self.shell = shell
        self.task = task
        self.author_suffix = author_suffix

    def begin(self) -> None:
        """A repository with nothing uncommitted that is not this task's. A sandbox without a
        repo gets one, on its branch, so the task's work is still a commit."""
        out = self.shell.check(
            'git rev-parse --git-dir >/dev/null 2>&1 || git init -q -b "${GIT_BRANCH:-main}"; '
            "git status --porcelain --untracked-files=all | head -n 5",
            timeout=GIT_TIMEOUT_S,
        )
        if out.strip():
            raise AgentError(
                f"sandbox {self.task.sandbox!r} has uncommitted changes that are not this "
                f"task's ({', '.join(line[3:] for line in out.splitlines())}); commit or stash "
                "them first"
            )

    def commit(self, summary: str) -> Commit | None:
        """Everything the task changed as one commit on the branch, or None if it changed
        nothing."""
        message = f"{summary}\n\nTask {self.task.id} from {self.task.sender} (sandbox-fleet)\n"
        suffix = shlex.quote(self.author_suffix)
        out = self.shell.run(
            "git add -A && if git diff --cached --quiet; then echo NOTHING; else "
            f'name="$(git config user.name || echo agent)"{suffix} && '
            'git -c user.name="$name" commit -q -F - && git rev-parse HEAD && '
            "git show --name-only --format= HEAD; fi",
            timeout=GIT_TIMEOUT_S, cap=65536, stdin=message.encode(),
        )  # fmt: skip
        lines = out.output.split()
        if out.exit_code != 0:
            raise AgentError(f"git commit failed in {self.task.sandbox!r}: {out.output[-1000:]}")
        if lines == ["NOTHING"]:
            return None
        return Commit(lines[0], tuple(lines[1:]))

    def push(self) -> str | None:
        """`git push` of the branch when the sandbox has a token for its remote (repo_token);
        what git said, or None when it has none."""
        done = self.shell.run(
            '[ -n "${SANDBOX_GIT_TOKEN_VAR:-}" ] || { echo NO-CREDENTIALS; exit 0; }; '
            "git push -q origin HEAD 2>&1 && echo pushed",
            timeout=PUSH_TIMEOUT_S, cap=4000,
        )  # fmt: skip
        said = done.output.strip()
        if said == "NO-CREDENTIALS":
            return None
        return said if done.exit_code == 0 else f"push failed: {said[-500:]}"

    def set_aside(self, why: str) -> str | None:
        """Stash whatever the task changed (untracked files too), so the workspace is as the
        task found it; the stash's id, or None when there was nothing."""
        label = shlex.quote(f"sandbox-fleet task {self.task.id} ({why})")
        out = self.shell.check(
            "git add -A && if git diff --cached --quiet; then echo NOTHING; else "
            f"git stash push -q --include-untracked -m {label} && git rev-parse stash@{{0}}; fi",
            timeout=GIT_TIMEOUT_S,
        )
        return None if out.strip() == "NOTHING" else out.strip()
