from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memory.contacts import (
    AddressBook,
    ContactError,
    UnknownContactError,
    is_full_account_id,
    validate_account_id,
)
from memory.conversation import Conversation
from memory.preferences import PreferenceError, Preferences, PreferencesStore


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "memory.db"


# -- conversation ------------------------------------------------------------------------------


def test_recent_messages_per_session_oldest_first(db: Path) -> None:
    with Conversation(db) as conv:
        for i in range(5):
            conv.add("s1", "user", f"u{i}")
            conv.add("s1", "assistant", f"a{i}")
        conv.add("s2", "user", "other session")
        recent = conv.recent("s1", 3)
        assert [m.text for m in recent] == ["a3", "u4", "a4"]
        assert [m.role for m in recent] == ["assistant", "user", "assistant"]
        assert conv.recent("s1", 0) == []
        assert conv.sessions() == ["s2", "s1"]
        assert conv.clear("s1") == 10 and conv.recent("s1") == []
    with Conversation(db) as again:  # persisted
        assert [m.text for m in again.recent("s2")] == ["other session"]


def test_conversation_refuses_bad_roles_and_redacts_secrets(db: Path) -> None:
    with Conversation(db) as conv:
        with pytest.raises(ValueError, match="role"):
            conv.add("s", "planner", "x")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="session_id"):
            conv.add("", "user", "x")
        stored = conv.add("s", "user", "use sk-proj-abcdefghijklmnopqrstuvwx please")
        assert "sk-proj" not in stored.text and "[REDACTED]" in conv.recent("s")[0].text


# -- address book ------------------------------------------------------------------------------


def test_add_resolve_list_remove(db: Path) -> None:
    with AddressBook(db) as book:
        book.add("Bob", "bob.near", note="brother")
        book.add("アリス", "alice.near")
        assert book.resolve("bob") == "bob.near"
        assert book.resolve("BOB") == "bob.near"
        assert book.resolve("@bob") == "bob.near"
        assert book.resolve("アリス") == "alice.near"
        assert book.resolve("carol.testnet") == "carol.testnet"  # an account id passes through
        implicit = "a" * 64
        assert book.resolve(implicit) == implicit
        assert [c.name for c in book.list()] == ["Bob", "アリス"]
        assert book.get("bob").note == "brother"
        assert book.remove("BOB").account_id == "bob.near"
        with pytest.raises(UnknownContactError, match="contacts add bob"):
            book.resolve("bob")
        with pytest.raises(UnknownContactError):
            book.remove("bob")


def test_existing_names_are_not_silently_repointed(db: Path) -> None:
    with AddressBook(db) as book:
        book.add("bob", "bob.near")
        book.add("BOB", "bob.near", note="same account is fine")
        with pytest.raises(ContactError, match="already bob.near"):
            book.add("Bob", "mallory.near")
        assert book.resolve("bob") == "bob.near"
        book.add("bob", "bob2.near", replace=True)
        assert book.resolve("bob") == "bob2.near"
        assert len(book.list()) == 1


@pytest.mark.parametrize("name", ["alice.near", "", "1bob", "bob@x", "x" * 40, "_x"])
def test_names_that_could_be_confused_with_accounts_are_refused(db: Path, name: str) -> None:
    with AddressBook(db) as book, pytest.raises(ContactError, match="contact name"):
        book.add(name, "bob.near")


@pytest.mark.parametrize(
    "account",
    [
        "Bob.near",
        "a",
        "bob..near",
        ".bob",
        "bob.",
        "-bob.near",
        "bob_.near",
        "b ob.near",
        "x" * 65,
        "bob.near!",
    ],
)
def test_invalid_account_ids_are_refused(db: Path, account: str) -> None:
    with AddressBook(db) as book, pytest.raises(ContactError):
        book.add("bob", account)


def test_resolve_unknown_or_miscased_names_gives_clear_errors(db: Path) -> None:
    with AddressBook(db) as book:
        with pytest.raises(ContactError, match="lowercase"):
            book.resolve("Bob.Near")
        with pytest.raises(UnknownContactError, match="neither a contact nor"):
            book.resolve("dave")  # a bare top-level name is never guessed at
        with pytest.raises(UnknownContactError):
            book.resolve("")


_part = st.from_regex(r"[a-z0-9]{1,6}([-_][a-z0-9]{1,6}){0,2}", fullmatch=True)


@given(parts=st.lists(_part, min_size=2, max_size=4))
def test_valid_named_accounts_pass_through(parts: list[str]) -> None:
    account = ".".join(parts)
    if len(account) <= 64:
        assert validate_account_id(account) == account
        assert is_full_account_id(account)


@given(st.text(min_size=1, max_size=70))
def test_anything_resolve_accepts_is_a_valid_account_id(text: str) -> None:
    if is_full_account_id(text):
        assert validate_account_id(text) == text


# -- preferences -------------------------------------------------------------------------------


def test_preferences_default_set_persist_reset(db: Path) -> None:
    with PreferencesStore(db) as store:
        assert store.load() == Preferences()
        assert store.set("default_slippage_bps", "30").default_slippage_bps == 30
        store.set("default_token", "USDC")
        store.set("language", "ja")
    with PreferencesStore(db) as store:
        prefs = store.load()
        assert prefs.default_slippage_bps == 30
        assert (prefs.default_token, prefs.language) == ("USDC", "ja")
        assert store.reset("language").language == "auto"
        assert store.load().default_token == "USDC"
        assert store.reset() == Preferences()


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [
        ("default_slippage_bps", "10001", "less than or equal"),
        ("default_slippage_bps", "-1", "greater than or equal"),
        ("default_slippage_bps", "0.5", "integer"),
        ("language", "fr", "language"),
        ("default_token", "two words", "without spaces"),
        ("max_spend", "5", "unknown preference"),
    ],
)
def test_bad_preferences_are_refused_and_not_saved(
    db: Path, key: str, value: str, needle: str
) -> None:
    with PreferencesStore(db) as store:
        with pytest.raises(PreferenceError, match=needle):
            store.set(key, value)
        assert store.load() == Preferences()


def test_stores_share_one_database_file(db: Path) -> None:
    with AddressBook(db) as book, Conversation(db) as conv, PreferencesStore(db) as prefs:
        book.add("bob", "bob.near")
        conv.add("s", "user", "send 1 NEAR to bob")
        prefs.set("default_token", "NEAR")
        assert book.resolve("bob") == "bob.near" and len(conv.recent("s")) == 1
