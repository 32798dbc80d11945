"""The gate every intent passes before a planner, a model or a store sees it.

Refused: text that lies to the eye (``tools.text_screen``: bidi overrides, zero-width and other
invisible characters, look-alike digits such as ``¹``; each shown escaped) and text holding a secret
(``tools.secret_text``: a private key, a seed phrase, an API key). Nothing of a refused intent
is stored, logged or sent anywhere.
"""

from __future__ import annotations

from tools.secret_text import secret_in_typed_text
from tools.text_screen import DeceptiveTextError, check_digits, check_visible


class IntentRefused(Exception):
    """An intent refused at the door; the CLI's entry point prints it and exits 2.

    Deliberately not a ToolError: nothing that records tool errors should ever handle it.
    """

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


NOTHING_KEPT = "Nothing was stored, logged or sent to the planner."


def screen_intent(text: str) -> str:
    """``text`` when it may be planned; IntentRefused saying why (never echoing a secret)."""
    secret = secret_in_typed_text(text)
    if secret is not None:
        raise IntentRefused(
            f"Refused: the intent contains what looks like {secret}. {NOTHING_KEPT} "
            "Never paste keys or seed phrases into the agent; if this was a real one, treat it "
            "as exposed."
        )
    try:
        check_digits(check_visible(text, "intent"), "intent")
    except DeceptiveTextError as exc:
        raise IntentRefused(f"Refused: {exc.message}. {NOTHING_KEPT}") from None
    return text
