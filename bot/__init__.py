"""The runtime: everything that does I/O (terminal, storage, settings, CLI)."""
