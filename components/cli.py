"""`python -m components.cli`: the command the README, the workflows, the pre-commit hook and the
`sandbox-fleet` script run. It keeps this path so those keep working; the tools themselves live
in components/tools/."""

import sys

from .tools.cli import main

if __name__ == "__main__":
    sys.exit(main())
