# /etc/profile.d/sandbox-env.sh: login shells over SSH get the sandbox's environment (the
# entry's env and secrets, SANDBOX_*, GIT_*, DISPLAY), written shell-quoted by the entrypoint.
# Non-interactive `ssh host cmd` reads the same file through BASH_ENV (~/.ssh/environment).
if [ -r /run/sandbox/env.sh ]; then
  . /run/sandbox/env.sh
fi
