"""Name lookup with helpful errors, shared by the registries (maps, presets)."""

from __future__ import annotations

import difflib


def lookup(table: dict, name, what: str):
    """``table[name]``; a ValueError for an unknown name lists the known ones and close matches."""
    try:
        return table[name]
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(name), list(table), n=3)
        hint = f" Did you mean {close}?" if close else ""
        raise ValueError(f"Unknown {what} {name!r}; known: {sorted(table)}.{hint}") from None
