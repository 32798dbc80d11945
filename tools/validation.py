"""Pydantic validation errors as users read them: one ``field.path: message`` per problem.

Declared once so a config file, a grants file, a strategy and a stored preference all word a
bad field the same way, without pydantic's documentation links or its "Value error, " prefix.
"""

from __future__ import annotations

from pydantic import ValidationError


def validation_problems(exc: ValidationError, *, whole: str = "(top)", skip: int = 0) -> list[str]:
    """One line per problem; ``whole`` names a problem with the value itself (an empty path).

    ``skip`` drops leading path parts the reader does not write (a tagged union's tag).
    """
    out = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err["loc"][skip:]) or whole
        out.append(f"{where}: {str(err['msg']).removeprefix('Value error, ')}")
    return out


def describe_validation_error(exc: ValidationError, *, whole: str = "(top)") -> str:
    """Every problem on one line, separated by ``; ``."""
    return "; ".join(validation_problems(exc, whole=whole))
