"""heard's REST API (FastAPI), a thin layer over `heard.service` (the `server` extra)."""

from heard.api.app import create_app, prepare_to_serve

__all__ = ["create_app", "prepare_to_serve"]
