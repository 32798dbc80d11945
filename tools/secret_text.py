"""Secrets as text: the exact values this process holds, and the shapes a secret has.

Two ways to recognise a secret, declared once for the redactor (``memory.redact``), the
output and log filters (``memory.redact_io``) and the intent screen (``agent.intent_screen``):

* by value: the process registers every secret it loads (each private key, in every text form a
  key is written in, and the configured LLM API key) with :func:`register_secret`; an API key
  with no recognisable shape is then still found wherever it is echoed back;
* by shape: ``ed25519:`` keys, bare base58 of 64 bytes, ``sk-`` API keys, Bearer tokens, and
  (for what a user types) seed phrases and long API-key-like tokens.

The registry starts empty; nothing is registered on import.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import base58

from tools.text_screen import DEFAULT_IGNORABLE, is_default_ignorable

MIN_SECRET_CHARS = 8
"""Shorter values are not registered: hiding every "abc" in every text would hide too much."""

_LOCK = threading.Lock()
_VALUES: set[str] = set()
_HELD_PUBLIC: set[str] = set()  # base58 public keys of the keys registered above
_ORDERED: tuple[str, ...] = ()
_PATTERN: re.Pattern[str] | None = None
_GENERATION = 0

B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
ED25519_VALUE = re.compile(rf"(?i:ed25519):([{B58_ALPHABET}]{{40,100}})")
BARE_B58 = re.compile(rf"(?<![{B58_ALPHABET}])[{B58_ALPHABET}]{{64,90}}(?![{B58_ALPHABET}])")
OPENAI_KEY = re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}")
BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=\-]{8,}")
_HEX_SECRET = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{128}(?![0-9a-fA-F])")
_TOKEN = re.compile(r"(?<![A-Za-z0-9_\-])[A-Za-z0-9_\-]{32,}(?![A-Za-z0-9_\-])")
_ETH_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
# A disguise: an escape a program decodes, or a character a reader does not see.
_DISGUISE = re.compile(
    r"\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})|%([0-9a-fA-F]{2})|" + DEFAULT_IGNORABLE.pattern
)
_MAY_DISGUISE = re.compile(r"\\[uU]|%|" + DEFAULT_IGNORABLE.pattern)
_SEED_WORD = re.compile(r"[a-z]{3,8}")
_NOT_A_LETTER = re.compile(r"[^A-Za-z]+")
SEED_PHRASE_WORDS = 12
# English function words that are not BIP-39 words: one of them in a run means a sentence.
_SENTENCE_WORDS = frozenset(
    {"the", "and", "for", "with", "when", "then", "that", "this", "from", "into", "your", "have",
     "will", "are", "was", "but", "they", "them", "what", "which", "there", "their", "would",
     "could", "should", "than", "please", "thanks", "does", "been", "were", "its", "our", "how",
     "who", "why", "where", "did", "has", "had"}
)  # fmt: skip


def register_secret(value: str | None) -> None:
    """Remember a secret value so that it is redacted wherever it appears in this process."""
    global _ORDERED, _PATTERN, _GENERATION
    if not isinstance(value, str) or len(value.strip()) < MIN_SECRET_CHARS:
        return
    with _LOCK:
        if value in _VALUES:
            return
        _VALUES.add(value)
        _ORDERED = tuple(sorted(_VALUES, key=len, reverse=True))  # longest first: no partials
        # any case: an error that lowercases a value ("did you mean ...?") must not show it
        _PATTERN = re.compile("|".join(re.escape(v) for v in _ORDERED), re.IGNORECASE)
        _GENERATION += 1


def register_key_secret(seed: bytes, public: bytes) -> None:
    """Register an ed25519 key in every text form it may be written in (see tests/keys), and
    its public key as one that may be shown (:func:`is_held_public_key`)."""
    full = base58.b58encode(seed + public).decode()
    short = base58.b58encode(seed).decode()
    register_held_public_key(base58.b58encode(public).decode())
    for form in (f"ed25519:{full}", full, f"ed25519:{short}", short, seed.hex()):
        register_secret(form)


def register_held_public_key(public_key: str) -> None:
    """Show ``ed25519:<base58>`` (or bare base58) wherever it appears: the public key of a key
    the user holds (a key file of the keystore names it), never a secret."""
    global _GENERATION
    body = public_key.removeprefix("ed25519:")
    with _LOCK:
        if body not in _HELD_PUBLIC:
            _HELD_PUBLIC.add(body)
            _GENERATION += 1  # a text redacted before may now read otherwise


def is_held_public_key(encoded: str) -> bool:
    """Whether base58 ``encoded`` is the public key of a key this process loaded: a 32-byte
    value in text may be a seed, but never when it is the public half of a key we hold."""
    return encoded in _HELD_PUBLIC


def secrets_generation() -> int:
    """A number that grows each time a secret or a held public key is registered: what was
    redacted under an older number may read otherwise now."""
    return _GENERATION


def registered_secrets() -> tuple[str, ...]:
    """The registered values, longest first."""
    return _ORDERED


def hide_registered(text: str, replacement: str) -> str:
    """``text`` with every registered value, in any letter case, replaced, even in disguise.

    A value is found in the text as it reads (see :func:`reading`): with a zero-width space
    inside, JSON-escaped (``\\u0070\\u0039...``) or percent-encoded, and the whole stretch of
    the original text that spells it is replaced.
    """
    pattern = _PATTERN
    if pattern is None:
        return text
    text = pattern.sub(replacement, text)
    if not _MAY_DISGUISE.search(text):
        return text
    view = reading(text)
    spans = [view.original_span(m.start(), m.end()) for m in pattern.finditer(view.text)]
    if not spans:
        return text
    out, at = [], 0
    for start, end in spans:  # in order and disjoint: finditer's matches do not overlap
        out += [text[at:start], replacement]
        at = end
    out.append(text[at:])
    return "".join(out)


def holds_registered(text: str) -> bool:
    """Does ``text`` hold a registered value, as written or in disguise (see :func:`reading`)?"""
    pattern = _PATTERN
    if pattern is None:
        return False
    if pattern.search(text):
        return True
    return bool(_MAY_DISGUISE.search(text)) and pattern.search(reading(text).text) is not None


@dataclass(frozen=True)
class Reading:
    """Text as a reader takes it, with where each of its characters came from in the original.

    ``starts[i]:ends[i]`` is the stretch of the original that reads as ``text[i]``.
    """

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The stretch of the original that reads as ``text[start:end]`` (``end > start``)."""
        return self.starts[start], self.ends[end - 1]


def reading(text: str) -> Reading:
    """``text`` with what a reader does not see removed (default-ignorable characters such as a
    zero-width space) and what a program decodes decoded (``\\uXXXX``, ``\\UXXXXXXXX`` and
    ``%XX`` escapes), so a secret disguised by either is found."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    at = 0
    for match in _DISGUISE.finditer(text):
        chars.extend(text[at : match.start()])
        starts.extend(range(at, match.start()))
        ends.extend(range(at + 1, match.start() + 1))
        at = match.end()
        escape = match.group(1) or match.group(2) or match.group(3)
        if escape is None:
            continue  # an invisible character: read as nothing
        code = int(escape, 16)
        if code > 0x10FFFF or is_default_ignorable(chr(code)):
            continue
        chars.append(chr(code))
        starts.append(match.start())
        ends.append(match.end())
    chars.extend(text[at:])
    starts.extend(range(at, len(text)))
    ends.extend(range(at + 1, len(text) + 1))
    return Reading("".join(chars), tuple(starts), tuple(ends))


def decoded_size(text: str) -> int:
    """Bytes in base58 ``text`` (0 when it is not base58)."""
    try:
        return len(base58.b58decode(text))
    except ValueError:
        return 0


def secret_in_typed_text(text: str) -> str | None:
    """What secret-shaped thing a user typed into ``text`` (never the secret itself), or None.

    Found: a registered secret; ``ed25519:`` or bare base58 of 64 bytes (a secret key); 128 hex
    digits (a secret key in hex); an ``sk-`` key or Bearer token; a token of 32+ letters, digits,
    ``-`` and ``_`` mixing upper case, lower case and digits that is not base58 of 32 bytes (a
    public key or a hash) nor a checksummed 0x address; a seed phrase (see :func:`has_seed_phrase`).
    """
    if holds_registered(text):
        return "a secret this agent holds (a private key or its API key)"
    for match in ED25519_VALUE.finditer(text):
        if decoded_size(match.group(1)) == 64:
            return "a private key (ed25519:…)"
    for match in BARE_B58.finditer(text):
        if decoded_size(match.group(0)) == 64:
            return "a private key (base58)"
    if _HEX_SECRET.search(text):
        return "a private key (hex)"
    if OPENAI_KEY.search(text) or BEARER.search(text):
        return "an API key or access token"
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        mixed = (
            any(c.isupper() for c in token)
            and any(c.islower() for c in token)
            and any(c.isdigit() for c in token)
        )
        if mixed and decoded_size(token) != 32 and not _ETH_ADDRESS.fullmatch(token):
            return "an API key or access token"
    if has_seed_phrase(text):
        return "a seed phrase"
    return None


def has_seed_phrase(text: str) -> bool:
    """Twelve or more words in a row of 3-8 lowercase ASCII letters.

    A heuristic, without the BIP-39 word list: its words are 3-8 lowercase letters, and whatever
    separates them (spaces, commas, the Japanese 、, a digit that numbers them, the CJK text they
    are glued to) is not a letter, so the text is cut at every character that is not an ASCII
    letter. Sentences rarely qualify: they carry short words ("to", "of", "my"), function words no
    seed phrase has ("the", "and", "when") or capitals, each of which ends a run.
    """
    run = 0
    for word in _NOT_A_LETTER.split(text):
        if not word:
            continue
        word_like = _SEED_WORD.fullmatch(word) and word not in _SENTENCE_WORDS
        run = run + 1 if word_like else 0
        if run >= SEED_PHRASE_WORDS:
            return True
    return False
