"""Supervisor: the agent loop beside the model server.

Accepts tasks over a small JSON HTTP API, keeps them in a durable SQLite queue, and runs each
through one configured AgentRuntime (stub, openai or cli), retrying while the model server is away.
"""

__version__ = "0.1.0"
