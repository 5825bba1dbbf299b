"""`flowdesk serve`: the local HTTP service (API, run queue, streams) over the library (docs/architecture.md §1).

It sits at the store/cli level: it imports store and below, never ui. FastAPI and uvicorn are
imported only here, and only when the service starts, so the app and the other commands start
as fast as before.
"""
