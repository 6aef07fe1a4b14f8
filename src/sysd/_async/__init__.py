"""The high-level API, written once as asyncio code (``_sync`` is generated from it)."""
