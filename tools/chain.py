"""The chain client: reads and writes one NEAR network through an RPC transport.

Why it exists rather than py-near's ``Account``:

* Any failed receipt (or a failed status) raises :class:`TransactionFailedError` with the parsed
  outcome (:mod:`tools.outcome`); py-near reports such a transaction as a success.
* py-near decodes view results byte by byte with ``chr()``; here the ``result`` bytes of
  ``query call_function`` are decoded as UTF-8.
* Idempotent submission: the transaction is signed once (:mod:`tools.signing`), so its hash
  is known before it is sent. After a transport error (connection lost, HTTP 5xx, node timeout)
  the client looks the hash up and only ever re-sends the *same signed bytes*; it signs again
  with a new nonce only when the node proves the first transaction was not accepted (the node
  refused it with InvalidNonce at first submission, or the nonce was used up and the hash is
  still unknown after a bounded wait). If the fate cannot be learned, it raises
  :class:`OutcomeUnknownError` carrying the hash instead of guessing.
* One transaction in flight per (account, public key), with the nonce re-read from the chain
  before every signature and a bounded retry on InvalidNonce. Nonces come from a
  :class:`~tools.nonce_ledger.NonceSource`: with an agent home, the nonce ledger makes them
  unique per key across processes, so two runs can never sign the same bytes.

The bytes travel through a :class:`~tools.endpoints.FailoverTransport` over one or more
endpoints (HTTP by default; tests can put an in-process node behind the same logic), which fails
over, honours 429 Retry-After and counts every request in :attr:`ChainClient.requests` against
the command's budget. Lookups of journalled (possibly old) hashes go to the archival endpoints
when there are any (``tx_status(..., archival=True)``).
"""

from __future__ import annotations

import base64
import json
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

import base58

from tools import failpoints
from tools.chain_identity import ChainGuard
from tools.endpoints import (
    DEFAULT_MAX_RETRY_AFTER_S,
    CommandDeadlineExceeded,
    FailoverTransport,
    RequestMeter,
)
from tools.errors import (
    InvalidTransactionError,
    OutcomeUnknownError,
    RpcError,
    TransactionFailedError,
    TransientRpcError,
    UnknownAccessKeyError,
    UnknownAccountError,
    ViewCallError,
)
from tools.key_pool import Signer, hold_free, members_of
from tools.keys import Credentials
from tools.nonce_ledger import NonceKey, NonceSource, ProcessNonces
from tools.outcome import MalformedOutcomeError, TxOutcome, parse_outcome
from tools.rpc_errors import InvalidNonce, MethodNotFound, UnknownTransaction
from tools.rpc_values import U64_MAX, parse_uint, short
from tools.signing import SignableSpec, SignedTx, sign_transaction
from tools.transport import HttpTransport, RpcTransport, display_url, read_result

log = logging.getLogger(__name__)

STORAGE_PRICE_PER_BYTE = 10**19  # yoctoNEAR, nearcore's storage_amount_per_byte
GENESIS_PREV_HASH = "1" * 32  # base58 of 32 zero bytes: the genesis block's prev_hash
REQUESTS_TO_SEND = 3
"""What a transaction costs before its outcome is known: the key's nonce, a block hash, the send."""

# which execution statuses satisfy a wait_until level (nearcore's
# tx_execution_status_meets_expectations in chain/jsonrpc/src/lib.rs)
_SATISFIES: dict[str, frozenset[str]] = {
    "NONE": frozenset(
        {"NONE", "INCLUDED", "EXECUTED_OPTIMISTIC", "INCLUDED_FINAL", "EXECUTED", "FINAL"}
    ),
    "INCLUDED": frozenset(
        {"INCLUDED", "EXECUTED_OPTIMISTIC", "INCLUDED_FINAL", "EXECUTED", "FINAL"}
    ),
    "EXECUTED_OPTIMISTIC": frozenset({"EXECUTED_OPTIMISTIC", "EXECUTED", "FINAL"}),
    "INCLUDED_FINAL": frozenset({"INCLUDED_FINAL", "EXECUTED", "FINAL"}),
    "EXECUTED": frozenset({"EXECUTED", "FINAL"}),
    "FINAL": frozenset({"FINAL"}),
}


class ChainClient:
    """Reads and writes one NEAR network. Safe to share between tools in one process.

    ``timeout_s`` bounds every HTTP request; ``retries`` bounds retries of transient errors
    (reads) and of lookups/re-sends of a transaction whose submission hit one. ``nonces``
    allocates nonces and holds keys (the user's NonceLedger in their state folder; by default,
    this process only).
    ``rpc_url`` names the network in nonce keys and is the first endpoint; ``urls`` (when given)
    are all the endpoints in order of preference, ``archival_urls`` the archival ones, and
    ``headers`` go with every HTTP request (an API key). ``transport`` replaces the HTTP
    endpoints with one transport of the caller's (tests). ``max_requests`` is the budget of
    requests :attr:`requests` counts; ``max_retry_after_s`` the longest 429 wait honoured.
    ``chain_guard`` (tools.chain_identity) holds endpoints to the network's chain before their
    first use, archival ones included (every endpoint but the first, or on a custom network
    that names no chain, every endpoint). ``deadline_s`` bounds the
    time a command waits on the network without an answer, retries and failovers included;
    ``down_hint`` is added to the error when the node does not answer.
    """

    def __init__(
        self,
        rpc_url: str,
        *,
        timeout_s: float = 10.0,
        retries: int = 3,
        backoff_s: float = 0.25,
        nonce_retries: int = 8,
        wait_until: str = "FINAL",
        finality: str = "final",
        nonces: NonceSource | None = None,
        transport: RpcTransport | None = None,
        urls: Sequence[str] = (),
        archival_urls: Sequence[str] = (),
        headers: Mapping[str, str] | None = None,
        max_requests: int | None = None,
        max_retry_after_s: float = DEFAULT_MAX_RETRY_AFTER_S,
        archival_transport: RpcTransport | None = None,
        chain_guard: ChainGuard | None = None,
        deadline_s: float | None = None,
        down_hint: str = "",
    ) -> None:
        # what a sibling client (same endpoints, key and limits; its own connections) is made of
        self._settings: dict[str, Any] = {
            "timeout_s": timeout_s,
            "retries": retries,
            "backoff_s": backoff_s,
            "nonce_retries": nonce_retries,
            "wait_until": wait_until,
            "finality": finality,
            "urls": tuple(urls),
            "archival_urls": tuple(archival_urls),
            "headers": dict(headers or {}),
            "max_requests": max_requests,
            "max_retry_after_s": max_retry_after_s,
            "chain_guard": chain_guard,  # siblings share what each endpoint was found to serve
            "deadline_s": deadline_s,
            "down_hint": down_hint,
        }
        self.rpc_url = rpc_url
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.nonce_retries = nonce_retries
        self.wait_until = wait_until
        self.finality = finality
        self.nonces: NonceSource = nonces if nonces is not None else ProcessNonces()
        self.requests = RequestMeter(max_requests, deadline_s=deadline_s, down_hint=down_hint)

        def pairs(given: RpcTransport | None, addresses: Sequence[str]) -> list[Any]:
            if given is not None:
                return [(given, getattr(given, "where", display_url(rpc_url)))]
            return [
                (HttpTransport(url, timeout_s=timeout_s, headers=headers), display_url(url))
                for url in addresses
            ]

        regular = pairs(transport, list(urls) or [rpc_url])
        self.transport: FailoverTransport = FailoverTransport(
            regular, meter=self.requests, max_retry_after_s=max_retry_after_s, guard=chain_guard
        )
        self.archival: FailoverTransport | None = (
            FailoverTransport(
                pairs(archival_transport, archival_urls),
                meter=self.requests,
                max_retry_after_s=max_retry_after_s,
                guard=chain_guard,
                trust_first=False,  # an archival answer is believed only from this chain
                reference=(self.transport, self.transport.where),
            )
            if archival_transport is not None or archival_urls
            else None
        )
        self._where = display_url(rpc_url)
        self._legacy_send = False

    def __repr__(self) -> str:
        return f"ChainClient({self._where!r})"

    def sibling(self) -> ChainClient:
        """A client over the same endpoints, API key, limits and nonce source, with connections
        of its own (for another event loop, e.g. a worker thread)."""
        return ChainClient(self.rpc_url, nonces=self.nonces, **self._settings)

    # ---- transport

    async def close(self) -> None:
        """Close the transports (their HTTP sessions: only from the event loop that opened them)."""
        await self.transport.close()
        if self.archival is not None:
            await self.archival.close()

    async def rpc_once(
        self, method: str, params: Any, *, transport: RpcTransport | None = None
    ) -> Any:
        """One JSON-RPC request; errors become typed exceptions, nothing is retried."""
        reply = await (transport or self.transport).request(method, params)
        return read_result(reply, method, self._where)

    async def rpc(self, method: str, params: Any) -> Any:
        """A read: transient errors are retried with exponential backoff."""
        for attempt in range(self.retries + 1):
            try:
                return await self.rpc_once(method, params)
            except TransientRpcError:
                if attempt >= self.retries:
                    raise
                await self.requests.pause(self.backoff_s * 2**attempt, self._where)
        raise AssertionError("unreachable")

    # ---- reads

    async def view_account(self, account_id: str) -> dict[str, Any]:
        """The account's view; an answer that is not an object is refused, never read as 0."""
        result = await self.rpc(
            "query",
            {"request_type": "view_account", "account_id": account_id, "finality": self.finality},
        )
        if not isinstance(result, Mapping):
            raise RpcError(
                f"the node answered view_account of {account_id} with "
                f"{short(result)}, not an account"
            )
        if result.get("error"):
            raise UnknownAccountError(f"account {account_id} does not exist", account_id=account_id)
        return dict(result)

    async def account_exists(self, account_id: str) -> bool:
        try:
            await self.view_account(account_id)
        except UnknownAccountError:
            return False
        return True

    async def near_balance(self, account_id: str) -> dict[str, int]:
        """total (liquid), locked, storage-staked and available yoctoNEAR."""
        acc = await self.view_account(account_id)
        if "amount" not in acc:
            raise RpcError(f"the node's view of {account_id} has no amount")
        amount = parse_uint(acc["amount"], f"the balance of {account_id}")
        locked = parse_uint(acc.get("locked", 0), f"the locked balance of {account_id}")
        storage = (
            parse_uint(
                acc.get("storage_usage", 0), f"the storage usage of {account_id}", limit=U64_MAX
            )
            * STORAGE_PRICE_PER_BYTE
        )
        reserved = max(0, storage - locked)
        return {
            "total": amount,
            "locked": locked,
            "storage": storage,
            "available": max(0, amount - reserved),
        }

    async def view(
        self, contract_id: str, method: str, args: Mapping[str, Any] | None = None
    ) -> Any:
        """A contract view; the result bytes are decoded as UTF-8 JSON (not with chr())."""
        payload = json.dumps(dict(args or {}), separators=(",", ":")).encode()
        try:
            result = await self.rpc(
                "query",
                {
                    "request_type": "call_function",
                    "account_id": contract_id,
                    "method_name": method,
                    "args_base64": base64.b64encode(payload).decode(),
                    "finality": self.finality,
                },
            )
        except ViewCallError as exc:
            raise ViewCallError(
                f"{contract_id}.{method} failed: {exc.message}",
                contract_id=contract_id,
                method=method,
            ) from exc
        if not isinstance(result, Mapping):
            raise ViewCallError(
                f"{contract_id}.{method}: the node answered {short(result)}, not a call result",
                contract_id=contract_id,
                method=method,
            )
        if result.get("error"):
            raise ViewCallError(
                f"{contract_id}.{method} failed: {result['error']}",
                contract_id=contract_id,
                method=method,
            )
        data = result.get("result")
        if not isinstance(data, list) or not all(
            isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 255 for b in data
        ):
            raise ViewCallError(
                f"{contract_id}.{method}: the node's result is not a list of bytes",
                contract_id=contract_id,
                method=method,
            )
        raw = bytes(data)
        if not raw:
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ViewCallError(f"{contract_id}.{method} returned non-JSON bytes") from exc

    async def access_key_nonce(self, account_id: str, public_key: str) -> int:
        """The key's nonce; UnknownAccessKeyError when the key is not (or no longer) one of the
        account's (a ``query`` error, or nearcore's UNKNOWN_ACCESS_KEY)."""
        gone = UnknownAccessKeyError(
            f"the key {public_key} is not an access key of {account_id}", account_id=account_id
        )
        try:
            result = await self.rpc(
                "query",
                {
                    "request_type": "view_access_key",
                    "account_id": account_id,
                    "public_key": public_key,
                    "finality": "optimistic",
                },
            )
        except RpcError as exc:
            if exc.details.get("cause") == "UNKNOWN_ACCESS_KEY":
                raise gone from exc
            raise
        if not isinstance(result, Mapping):
            raise RpcError(f"the node answered view_access_key with {short(result)}")
        if result.get("error"):
            raise gone
        if "nonce" not in result:
            raise RpcError(f"the node's view of the key of {account_id} has no nonce")
        return parse_uint(result["nonce"], "the access key nonce", limit=U64_MAX)

    async def latest_block_hash(self) -> bytes:
        """The final block's hash (32 bytes); anything else would sign an unusable transaction."""
        block = await self.rpc("block", {"finality": "final"})
        header = block.get("header") if isinstance(block, Mapping) else None
        encoded = header.get("hash") if isinstance(header, Mapping) else None
        if not isinstance(encoded, str):
            raise RpcError("the node's latest block has no header hash")
        try:
            decoded = base58.b58decode(encoded)
        except ValueError as exc:
            raise RpcError(f"the node's block hash {short(encoded)} is not base58") from exc
        if len(decoded) != 32:
            raise RpcError(f"the node's block hash {short(encoded)} is not 32 bytes")
        return decoded

    async def tx_status(
        self, tx_hash: str, sender_id: str, *, archival: bool = False
    ) -> TxOutcome | None:
        """The final outcome of a known hash, or None when the node has never seen it.

        First asked without waiting (``wait_until: NONE``): nearcore answers a hash it has not
        seen with UNKNOWN_TRANSACTION only then; asked to wait for an outcome, it polls until its
        timeout and answers HTTP 408 TIMEOUT_ERROR (chain/jsonrpc tx_status_fetch), which says
        nothing. Only a known transaction short of ``wait_until`` is asked again, waiting.
        ``archival`` sends the lookups to the archival endpoints when there are any (a
        journalled hash may be older than a regular node keeps).

        Raises MalformedOutcomeError when the answer is unreadable or is another transaction's.
        """
        transport = self.archival if archival and self.archival is not None else self.transport
        try:
            raw = await self._tx_query(transport, tx_hash, sender_id, "NONE")
            if not self._reached(raw):
                raw = await self._tx_query(transport, tx_hash, sender_id, self.wait_until)
        except UnknownTransaction:
            return None
        outcome = parse_outcome(raw)
        if outcome.tx_hash != tx_hash:
            raise MalformedOutcomeError(
                f"asked for transaction {tx_hash}, the node answered with {outcome.tx_hash}"
            )
        return outcome

    async def _tx_query(
        self, transport: RpcTransport, tx_hash: str, sender_id: str, wait_until: str
    ) -> Any:
        params = {"tx_hash": tx_hash, "sender_account_id": sender_id, "wait_until": wait_until}
        try:
            return await self.rpc_once("tx", params, transport=transport)
        except MethodNotFound:
            return await self.rpc_once("tx", [tx_hash, sender_id], transport=transport)

    def _reached(self, raw: Any) -> bool:
        """Whether a ``tx`` answer is as final as ``wait_until`` asks (an answer without
        ``final_execution_status`` comes from a node that always waited)."""
        status = raw.get("final_execution_status") if isinstance(raw, Mapping) else None
        if status is None:
            return True
        return status in _SATISFIES.get(self.wait_until, _SATISFIES["FINAL"])

    async def history_start(self) -> datetime | None:
        """When the oldest block the regular endpoints still keep was made (nearcore's
        ``block`` with ``sync_checkpoint: earliest_available``); None when it cannot say.

        A non-archival node forgets transactions older than its garbage-collection horizon: its
        "unknown" means nothing about a transaction signed before this time.
        """
        try:
            block = await self.rpc_once("block", {"sync_checkpoint": "earliest_available"})
        except RpcError:
            return None
        header = block.get("header") if isinstance(block, Mapping) else None
        if not isinstance(header, Mapping):
            return None
        if header.get("prev_hash") == GENESIS_PREV_HASH:
            return datetime.min.replace(tzinfo=UTC)  # it still has the genesis: it keeps all
        stamp = header.get("timestamp")
        if not isinstance(stamp, int) or isinstance(stamp, bool) or stamp < 0:
            return None
        return datetime.fromtimestamp(stamp / 1e9, tz=UTC)

    # ---- writes

    @property
    def chain_guard(self) -> ChainGuard | None:
        return self._settings["chain_guard"]

    def nonce_key(self, signer: Credentials | tuple[str, str]) -> NonceKey:
        """A key's counter (and lock) on this endpoint and, on a devnet or custom network, on the
        chain it serves: a chain reset at the same URL starts its keys' nonces again.
        ``signer`` is the key's credentials or its (account id, public key)."""
        account_id, public_key = (
            signer if isinstance(signer, tuple) else (signer.account_id, signer.public_key)
        )
        guard = self.chain_guard
        chain = guard.counted_on if guard is not None else ""
        return NonceKey(self.rpc_url, account_id, public_key, chain=chain)

    async def send(
        self,
        creds: Signer,
        spec: SignableSpec,
        *,
        raise_on_failure: bool = True,
        on_signed: Callable[[SignedTx], Any] | None = None,
    ) -> TxOutcome:
        """Sign, submit and wait for the final outcome of one transaction.

        Raises TransactionFailedError if the transaction or any receipt failed (unless
        ``raise_on_failure`` is False), InvalidTransactionError if the node refused it, and
        OutcomeUnknownError (with the hash) if its fate could not be learned. ``on_signed`` is
        called with each signed transaction before it is first sent, so that a caller can journal
        the hash and, after a crash, resolve it with :meth:`tx_status` instead of sending again
        (:meth:`SignedTx.journal_fields` is what to record, the key that signed included).

        ``creds`` is one key, or a :class:`~tools.key_pool.KeyPool` of the signer's keys: the
        transaction is then signed by a free one, the one that signed longest ago first
        (tools.key_pool).
        """
        members = members_of(creds)
        account_id = members[0].account_id
        if spec.signer_id != account_id:
            raise InvalidTransactionError(
                f"transaction signer {spec.signer_id} is not the key's account {account_id}"
            )
        failpoints.hit("before_send")
        self.requests.require(REQUESTS_TO_SEND, f"sending a transaction to {spec.receiver_id}")
        guard = self.chain_guard
        if guard is not None and guard.expected is None:
            await self.rpc("status", [])  # a custom network's chain names its keys' counters
        by_key = {self.nonce_key(member): member for member in members}
        while True:
            async with hold_free(self.nonces, list(by_key)) as key:
                signer = by_key[key]
                try:
                    outcome = await self._send_held(
                        key, partial(sign_transaction, signer, spec), on_signed
                    )
                    break
                except UnknownAccessKeyError:
                    if len(by_key) == 1:
                        raise
                    # a pool key removed from the account since this process read its keys:
                    # nothing was signed with it, so another key of the pool signs instead
                    log.warning(
                        "key %s is gone from %s; signing with another", key.public_key, account_id
                    )
                    del by_key[key]
        if raise_on_failure and not outcome.ok:
            raise TransactionFailedError(
                f"transaction {outcome.tx_hash} to {spec.receiver_id} failed: "
                f"{outcome.first_error()}",
                outcome=outcome,
                tx_hash=outcome.tx_hash,
            )
        return outcome

    async def _send_held(
        self,
        key: NonceKey,
        sign: Callable[[int, bytes], SignedTx],
        on_signed: Callable[[SignedTx], Any] | None,
    ) -> TxOutcome:
        for attempt in range(self.nonce_retries + 1):
            if attempt:  # another client is using the key: back off with jitter, then resync
                await self.requests.pause(
                    self.backoff_s * random.uniform(0.5, 1.5) * min(attempt, 4), self._where
                )
            chain_nonce = await self.access_key_nonce(key.account_id, key.public_key)
            nonce = self.nonces.allocate(key, chain_nonce)
            block_hash = await self.latest_block_hash()
            signed = sign(nonce, block_hash)
            if (signed.nonce, signed.signer_id) != (nonce, key.account_id):
                raise InvalidTransactionError(
                    f"transaction {signed.tx_hash} was not signed as allocated "
                    f"(nonce {signed.nonce} by {signed.signer_id}, not {nonce} by "
                    f"{key.account_id}); nothing was sent"
                )
            self.nonces.record(key, nonce, signed.tx_hash)  # this allocation's alone, or refused
            if on_signed is not None:
                on_signed(signed)
            try:
                with self.requests.unmetered():  # a sent hash is never lost to the budget
                    return await self._deliver(signed)
            except InvalidNonce as exc:
                # Proven not accepted: the node refused it, or the hash stayed unknown while the
                # nonce was used by something else. Safe to sign again with a fresh nonce.
                log.info("nonce %s refused for %s; resyncing", nonce, key.account_id)
                if exc.ak_nonce is not None:
                    self.nonces.advance(key, exc.ak_nonce)
        raise InvalidTransactionError(
            f"the node kept refusing nonces for {key.account_id} after "
            f"{self.nonce_retries + 1} attempts (another client is using the same key?)"
        )

    async def _submit(self, signed: SignedTx) -> Any:
        if not self._legacy_send:
            try:
                return await self.rpc_once(
                    "send_tx",
                    {"signed_tx_base64": signed.signed_b64, "wait_until": self.wait_until},
                )
            except MethodNotFound:
                self._legacy_send = True
        return await self.rpc_once("broadcast_tx_commit", [signed.signed_b64])

    async def _own_outcome(self, signed: SignedTx, raw: Any) -> TxOutcome:
        """The outcome of *this* transaction at the level ``wait_until`` asks: an answer about
        another hash is looked up again, and so is one short of the level (nearcore's
        ``broadcast_tx_commit`` answers once EXECUTED_OPTIMISTIC, before the receipts' blocks
        are final, so state read at ``final`` right after would not show them yet)."""
        outcome = parse_outcome(raw)
        if outcome.tx_hash == signed.tx_hash:
            if self._reached(raw):
                return outcome
            settled = await self.tx_status(signed.tx_hash, signed.signer_id)
            return settled if settled is not None else outcome
        log.warning(
            "the node answered transaction %s with the outcome of %s; looking it up",
            signed.tx_hash,
            outcome.tx_hash,
        )
        found = await self.tx_status(signed.tx_hash, signed.signer_id)
        if found is None:
            raise OutcomeUnknownError(
                f"transaction {signed.tx_hash} was sent but the node answered with another "
                "transaction's outcome and does not know this one; check it by hash before "
                "trying again",
                tx_hash=signed.tx_hash,
            )
        return found

    async def _deliver(self, signed: SignedTx) -> TxOutcome:
        """Get one signed transaction executed exactly once, or fail saying so.

        Raises InvalidNonce only when the transaction provably was not accepted: refused at
        first submission, or its nonce used up while its hash stays unknown.
        """
        sent = False  # once sent without a definite refusal, never sign anything else for it
        nonce_refused = False
        last_error = ""
        unknown_since_refusal = 0
        for attempt in range(self.retries + 3):
            if attempt:
                try:
                    await self.requests.pause(
                        self.backoff_s * 2 ** min(attempt - 1, 5), self._where
                    )
                except CommandDeadlineExceeded as exc:
                    raise OutcomeUnknownError(
                        f"transaction {signed.tx_hash} was sent but its outcome could not be "
                        f"confirmed ({exc.message}); check it by hash before trying again",
                        tx_hash=signed.tx_hash,
                    ) from exc
            try:
                if sent:
                    outcome = await self.tx_status(signed.tx_hash, signed.signer_id)
                    if outcome is not None:
                        return outcome
                    if nonce_refused:
                        unknown_since_refusal += 1
                        if unknown_since_refusal >= 2:
                            break  # the nonce went to another transaction: ours never will run
                        continue
                    # Unknown to the node: the same bytes again cannot execute twice.
                sent = True
                answer = await self._submit(signed)
                failpoints.hit("after_submit")
                return await self._own_outcome(signed, answer)
            except MalformedOutcomeError as exc:
                # the bytes reached a node, so the transaction may well be on chain
                raise OutcomeUnknownError(
                    f"transaction {signed.tx_hash} was sent but the node's answer about it cannot "
                    f"be trusted ({exc.message}); check it by hash before trying again",
                    tx_hash=signed.tx_hash,
                ) from exc
            except InvalidNonce:
                if attempt == 0:
                    raise  # refused at first submission: nothing was accepted
                nonce_refused = True  # perhaps our own earlier send used it: look the hash up
            except UnknownTransaction:
                pass
            except RpcError as exc:
                # Transient or not (e.g. REQUEST_ROUTED: forwarded, will execute), the bytes may
                # have reached a node: only the hash can tell, never a second signature.
                log.warning(
                    "transaction %s: %s; will look it up by hash", signed.tx_hash, exc.message
                )
                last_error = exc.message
            except (InvalidTransactionError, MethodNotFound):
                if attempt == 0:
                    raise
                # a re-send refused for another reason (e.g. expired): rely on the lookup
        else:
            raise OutcomeUnknownError(
                f"transaction {signed.tx_hash} was sent but its outcome could not be confirmed"
                + (f" ({last_error})" if last_error else "")
                + "; check it by hash before trying again",
                tx_hash=signed.tx_hash,
            )
        raise InvalidNonce(None)
