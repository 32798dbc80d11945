"""Which accounts anchored a home's audit log, recorded outside the home.

``audit verify --anchored`` reads anchors back from the chain, but it must know whose anchors to
read. The account in agent.yaml is no answer: whoever can empty the log can edit that file too,
and name an account that never anchored. So every account that anchors from a home (with the
network and notary contract it used) is recorded here, in the user's state folder (outside every
home), keyed by the home's path; verify checks the anchors of all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from memory.db import connect, write_transaction

_TABLE = "anchorers"


@dataclass(frozen=True)
class Anchorer:
    """An account that published anchors of one home's log, and where it published them."""

    account: str
    network: str
    contract: str
    rpc_url: str = ""  # the endpoint it used, for a network agent.yaml no longer names

    def describe(self) -> str:
        return f"{self.account} on {self.contract} ({self.network})"


class AnchorerRecord:
    """The record in the state folder (``Home.anchorers_db``), shared by all the user's homes."""

    def __init__(self, path: Path | str) -> None:
        self._db = connect(path)
        with write_transaction(self._db.conn):  # processes may open a new file together
            self._db.conn.execute(
                f"CREATE TABLE IF NOT EXISTS {_TABLE} (home TEXT NOT NULL, account TEXT NOT NULL,"
                " network TEXT NOT NULL, contract TEXT NOT NULL, rpc_url TEXT NOT NULL,"
                " PRIMARY KEY (home, account, network, contract))"
            )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> AnchorerRecord:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def add(self, home: Path, anchorer: Anchorer) -> None:
        """Remember that ``anchorer`` anchors ``home``'s log (before it does: a crash in between
        leaves an account with no anchors, which verifies)."""
        with write_transaction(self._db.conn):
            self._db.conn.execute(
                f"INSERT INTO {_TABLE} (home, account, network, contract, rpc_url)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET rpc_url = excluded.rpc_url",
                (
                    str(home),
                    anchorer.account,
                    anchorer.network,
                    anchorer.contract,
                    anchorer.rpc_url,
                ),
            )

    def for_home(self, home: Path) -> list[Anchorer]:
        """Every account recorded as anchoring ``home``'s log, in the order first recorded."""
        rows = self._db.conn.execute(
            f"SELECT account, network, contract, rpc_url FROM {_TABLE} WHERE home = ?"
            " ORDER BY rowid",
            (str(home),),
        ).fetchall()
        return [Anchorer(*row) for row in rows]
