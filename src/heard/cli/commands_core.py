"""Core commands: analyze, score, catalog, playbook check, demo."""

from __future__ import annotations
