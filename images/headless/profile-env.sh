# /etc/profile.d/sandbox-env.sh: SSH sessions get the sandbox's environment (the entry's env
# and secrets, SANDBOX_*, GIT_*, DISPLAY), written shell-quoted by the entrypoint. Login shells
# read it from here; `ssh host cmd` through /etc/bash.bashrc, which bash reads for sshd's
# commands (Debian builds bash with SSH_SOURCE_BASHRC) and which sources this file first.
# Once per session: a shell started inside keeps what the session changed.
if [ -z "${SANDBOX_ENV_LOADED-}" ] && [ -r /run/sandbox/env.sh ]; then
  . /run/sandbox/env.sh
fi
