"""``python3 -m supervisor``: run the service until SIGTERM/SIGINT."""

from .app import main

raise SystemExit(main())
