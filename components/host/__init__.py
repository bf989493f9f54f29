"""The container host: its engine provider and preflight (engine, preflight), and what every
piece built on it shares: hardened containers, local images, the shared volumes and ai-net."""
