"""YAML that people hand to heard (playbooks, risk weights, extra lexicons): safe and flat.

`yaml.safe_load` builds no objects, but it does follow aliases: ten lines of anchors
(``b: &b [*a, *a, ...]``) stand for millions of values, which a validator or a model then
walks one by one (the "billion laughs"). A playbook sent to the REST API must not be able
to tie up the server that way, so this loader refuses aliases outright, with the line of
the first one. None of heard's own files uses them, and a team's file only has to write
the value out again.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.nodes import Node

ALIASES_REFUSED = "aliases (*name) are not allowed: write the value out where it is used"


class Loader(yaml.SafeLoader):
    """`yaml.SafeLoader` that refuses aliases (`ComposerError` at the alias's line)."""

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise ComposerError(None, None, ALIASES_REFUSED, mark)
        return super().compose_node(parent, index)


def load(text: str) -> Any:
    """The data of YAML `text`, as `yaml.safe_load` gives it; aliases refused."""
    return yaml.load(text, Loader=Loader)


def compose(text: str) -> Node | None:
    """The node tree of YAML `text` (for line numbers); aliases refused."""
    return yaml.compose(text, Loader=Loader)
