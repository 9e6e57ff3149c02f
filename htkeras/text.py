"""The one way htkeras prints a string it did not write itself (a label, a dataset name or a path from a model
folder, a Hub repo or a user): control characters, terminal escape sequences included, are shown escaped, so
that no such string can clear the screen, move the cursor or forge an output line."""

from __future__ import annotations

import unicodedata


def printable(text) -> str:
    """``str(text)`` with every control, format or separator character other than a plain space written as a
    Python escape (``\\x1b``, ``\\n``, ``\\u202e``): one line, shown as it is."""
    return "".join(
        character if character == " " or unicodedata.category(character)[0] not in "CZ"
        else character.encode("unicode_escape").decode("ascii")
        for character in str(text)
    )
