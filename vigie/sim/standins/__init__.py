"""Local HTTP stand-ins of the platforms' APIs, on 127.0.0.1: `server.FixtureServer` serves one platform "app"
(x, mastodon, bluesky, reddit, feeds) with injectable faults. They are written from the platforms' public API
references and serve the documented payloads and errors.

Used by the listener tests and by bench/listeners.py, never by production code (the import contract test checks
that no project module imports this package). The alert channels' stand-in is alerts/notify/receiver.py.
"""
