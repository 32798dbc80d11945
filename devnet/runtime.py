"""The devnet's chain: accepts signed transactions the way nearcore validates them, turns each
into a receipt, runs every receipt to completion and records blocks and outcomes.

Single writer: the server calls :meth:`Runtime.apply_block` from one task at a time.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from devnet import gas, storage
from devnet.archive import Archive, Tiered
from devnet.blocks import Blocks
from devnet.contract import Contract, PromiseResult
from devnet.errors import InvalidTx
from devnet.genesis import Genesis
from devnet.history import History, StateGarbageCollected
from devnet.receipts import (
    SYSTEM,
    BlockEnv,
    DataItem,
    Outcome,
    Receipt,
    ReceiptExecutor,
    StateChange,
    child_id,
)
from devnet.state import (
    NONCE_RANGE_MULTIPLIER,
    AccessKey,
    Account,
    Block,
    block_hash,
    valid_account_id,
)
from devnet.transaction import (
    ED25519,
    Action,
    AddKey,
    Delegate,
    DeleteAccount,
    DeleteKey,
    FunctionCall,
    PublicKey,
    SignedTransaction,
    Stake,
    decode_signed_transaction,
    deposit_of,
    signature_valid,
)
from tools.keypair import KeyPair

GENESIS_HEIGHT = 1
DEFAULT_HISTORY_BLOCKS = 1_000  # blocks whose state queries by block_id still answer
DEFAULT_RECENT_BLOCKS = 32  # blocks whose transactions and outcomes stay in memory (with archive)


def default_contracts() -> Mapping[str, type[Contract]]:
    """The registry of deployable contracts (empty until devnet.contracts provides one)."""
    try:
        from devnet import contracts
    except ImportError:
        return {}
    return getattr(contracts, "CONTRACTS", {})


FINALITY_LAG = 2
"""Blocks between the head and the last final block: with one block producer approving each
block, Doomslug makes the block before the head doomslug-final and the one before that final
(chain/chain/src/doomslug.rs), so ``finality: final`` reads ``head - 2``."""


@dataclass
class TxRecord:
    """An included transaction: its block and its own outcome. Its receipts run in later
    blocks; :meth:`Runtime.progress` follows them."""

    tx: SignedTransaction
    block: Block
    outcome: Outcome
    view_cache: dict[str, Any] = field(default_factory=dict)


class AccountChange(NamedTuple):
    """An account a block changed: why (a transaction's charge, or a receipt) and its state after
    the block, (amount, locked, code name, storage usage), or None when the block deleted it."""

    account_id: str
    cause: str  # "transaction_processing" | "receipt_processing"
    cause_hash: bytes
    state: tuple[int, int, str | None, int] | None


class KeyChange(NamedTuple):
    """An access key a block changed (a nonce a transaction used, a key a receipt added or
    deleted): why, and the key after the block, or None when the block deleted it."""

    account_id: str
    public_key: PublicKey
    cause: str
    cause_hash: bytes
    key: AccessKey | None


@dataclass
class BlockChanges:
    """What one block changed, for EXPERIMENTAL_changes."""

    accounts: list[AccountChange] = field(default_factory=list)
    keys: list[KeyChange] = field(default_factory=list)
    state: list[StateChange] = field(default_factory=list)  # storage entries and code


class SetupCallFailed(RuntimeError):
    """A genesis setup call failed: the genesis is wrong, and the node must not start."""


class Runtime:
    """Accounts, blocks and transactions of one devnet chain."""

    def __init__(
        self,
        genesis: Genesis,
        contracts: Mapping[str, type[Contract]]
        | Callable[[], Mapping[str, type[Contract]]]
        | None = None,
        *,
        history_blocks: int = DEFAULT_HISTORY_BLOCKS,
        archive: Path | None = None,
        recent_blocks: int = DEFAULT_RECENT_BLOCKS,
    ) -> None:
        if contracts is None:
            self._contracts: Callable[[], Mapping[str, type[Contract]]] = default_contracts
        elif callable(contracts) and not isinstance(contracts, Mapping):
            self._contracts = contracts
        else:
            fixed = dict(contracts)
            merged: dict[str, type[Contract]] = {}

            def registry() -> Mapping[str, type[Contract]]:
                if not merged:
                    merged.update(default_contracts())
                    merged.update(fixed)
                return merged

            self._contracts = registry
        self.genesis = genesis
        self.chain_id = genesis.chain_id
        self.accounts: dict[str, Account] = {}
        # blocks, and the records of blocks, older than ``recent_blocks`` move to the archive
        # file (if any)
        self.archive = None if archive is None else Archive(archive)
        self.blocks = Blocks(self.archive)
        self.recent_blocks = recent_blocks
        self.txs: Tiered[TxRecord] = Tiered(
            self.archive, "txs", self._encode_record, self._decode_record
        )
        self.receipt_outcomes: Tiered[Outcome] = Tiered(self.archive, "outcomes")
        self.receipts: Tiered[Receipt] = Tiered(self.archive, "receipts")  # every receipt made
        # the block each outcome (a transaction's or a receipt's) was recorded in
        self.executed_in: Tiered[Block] = Tiered(
            self.archive,
            "executed_in",
            lambda block: block.height.to_bytes(8, "little"),
            lambda raw: self._archived_block(int.from_bytes(raw, "little")),
        )
        # per block not yet archived: (height, its block hash, the keys it recorded)
        self._unarchived: deque[tuple[int, bytes, list[bytes], list[bytes]]] = deque()
        self._made: list[bytes] = []  # receipts the block being made created
        # what the last block sent on: receipts and data to handle in the next one
        self.incoming: list[Receipt | DataItem] = []
        self.awaiting: dict[bytes, Receipt] = {}  # data id -> the receipt waiting for it
        self.data: dict[bytes, PromiseResult] = {}  # data that arrived, by data id
        # the last block that included or executed anything (none yet: the genesis is final)
        self.last_active = GENESIS_HEIGHT - FINALITY_LAG
        # by block hash: the accounts and keys each block changed (EXPERIMENTAL_changes)
        self.changes: Tiered[BlockChanges] = Tiered(self.archive, "changes")
        self.executor = ReceiptExecutor(self.accounts, self._contracts)
        self.history = History(self.accounts, history_blocks)
        self._apply_genesis(genesis)
        self.head.total_supply = sum(a.amount + a.locked for a in self.accounts.values())
        self.history.start(self.head.height)
        self.executor.storage_written = self.history.storage_written

    # -- genesis ----------------------------------------------------------------------------

    def _apply_genesis(self, genesis: Genesis) -> None:
        seed = hashlib.sha256(f"{genesis.chain_id}:{genesis.genesis_time_ns}".encode()).digest()
        block = Block(
            GENESIS_HEIGHT,
            block_hash(seed, GENESIS_HEIGHT, genesis.genesis_time_ns, []),
            bytes(32),
            genesis.genesis_time_ns,
        )
        self._add_block(block)
        registry = self._contracts()
        for spec in genesis.accounts:
            if not valid_account_id(spec.account_id):
                raise ValueError(f"genesis account id {spec.account_id!r} is invalid")
            acc = Account(amount=spec.balance)
            for secret in spec.secret_keys:
                pair = KeyPair.from_secret_key(secret)
                acc.keys[PublicKey(ED25519, pair.public_bytes)] = AccessKey(nonce=0)
            if spec.code_name is not None:
                if spec.code_name not in registry:
                    raise ValueError(
                        f"genesis account {spec.account_id} deploys unknown "
                        f"contract {spec.code_name!r}"
                    )
                acc.code_name = spec.code_name
            self.accounts[spec.account_id] = acc
        env = BlockEnv(block.height, block.timestamp_ns)
        for n, call in enumerate(genesis.setup_calls):
            signer = self.accounts.get(call.signer_id)
            if signer is None:
                raise SetupCallFailed(f"setup call {n}: signer {call.signer_id} does not exist")
            if signer.amount < call.deposit:
                raise SetupCallFailed(
                    f"setup call {n}: {call.signer_id} cannot pay {call.deposit} yocto"
                )
            signer.amount -= call.deposit
            action = FunctionCall(
                call.method_name,
                json.dumps(call.args, separators=(",", ":")).encode(),
                gas.MAX_TOTAL_PREPAID_GAS,
                call.deposit,
            )
            pk = next(iter(signer.keys), PublicKey(ED25519, bytes(32)))
            receipt = Receipt(
                id=hashlib.sha256(seed + b"setup" + n.to_bytes(4, "little")).digest(),
                predecessor_id=call.signer_id,
                receiver_id=call.receiver_id,
                signer_id=call.signer_id,
                signer_pk=pk,
                actions=(action,),
                gas_price=0,
                budget=gas.receipt_budget((action,)),
            )
            _, outcomes = self.executor.run(receipt, env)
            failures = [o for o in outcomes if "Failure" in o.status]
            if failures:
                raise SetupCallFailed(
                    f"setup call {n} ({call.signer_id} -> {call.receiver_id}."
                    f"{call.method_name}) failed: {failures[0].status['Failure']}"
                )
            for o in outcomes:
                self.receipt_outcomes[o.id] = o
        self.executor.state_changes.clear()  # the genesis's state is its own, not a change

    # -- blocks -----------------------------------------------------------------------------

    @property
    def head(self) -> Block:
        return self.blocks.head

    def _add_block(self, block: Block) -> None:
        self.blocks.append(block)

    def _archived_block(self, height: int) -> Block:
        block = self.blocks.at(height)
        if block is None:
            raise LookupError(f"a record names block {height}, which the chain lacks")
        return block

    def account_at(self, account_id: str, block: Block) -> Account | None:
        """``account_id`` as of ``block`` (None: it did not exist then); StateGarbageCollected
        when the block is older than the history window."""
        return self.history.account_at(account_id, block.height, self.head.height)

    def block_at(self, height: int) -> Block | None:
        return self.blocks.at(height)

    def block_with_hash(self, block_hash: bytes) -> Block | None:
        return self.blocks.by_hash(block_hash)

    @property
    def final_head(self) -> Block:
        """The last final block (``finality: final``)."""
        return self.blocks[max(0, len(self.blocks) - 1 - FINALITY_LAG)]

    @property
    def doomslug_head(self) -> Block:
        """The last doomslug-final block (``finality: near-final``)."""
        return self.blocks[max(0, len(self.blocks) - 2)]

    def busy(self) -> bool:
        """Whether another block has work: receipts in flight, or a recent block not final."""
        return bool(self.incoming) or self.head.height < self.last_active + FINALITY_LAG

    def apply_block(
        self,
        timestamp_ns: int,
        txs: list[SignedTransaction],
        *,
        verify_signatures: bool = True,
    ) -> tuple[Block, list[TxRecord | InvalidTx]]:
        """Make the next block, as a chunk is applied on nearcore: include the valid ones of
        ``txs`` (invalid ones change nothing), run the receipts of transactions sent to their own
        signer at once (local receipts), then what the previous block sent on (runtime.rs,
        ``apply``: transactions, local receipts, incoming receipts). Receipts and data made here
        are sent on to the next block: each receipt hop takes one block.

        Replaying the node's own journal may skip signature checks: those were checked on
        arrival.
        """
        head = self.head
        timestamp_ns = max(timestamp_ns, head.timestamp_ns + 1)
        height = head.height + 1
        env = BlockEnv(height, timestamp_ns)
        accepted: list[tuple[SignedTransaction, Outcome, Receipt]] = []
        index_of: dict[bytes, int] = {}  # hash -> its place in ``accepted``
        results: list[Any] = []
        for tx in txs:
            known = self.txs.recent.get(tx.hash)
            if known is not None:  # a resubmission: answer with the outcome it already has
                results.append(known)
                continue
            twin = index_of.get(tx.hash)
            if twin is not None:
                results.append(twin)
                continue
            try:
                outcome, first = self._accept(tx, height, verify_signatures)
            except InvalidTx as exc:
                # an archived resubmission is always refused (its nonce is used): only then is
                # the disk read, so new transactions never wait on it
                results.append(self.txs.get(tx.hash) or exc)
                continue
            index_of[tx.hash] = len(accepted)
            accepted.append((tx, outcome, first))
            results.append(len(accepted) - 1)
        block = Block(
            height,
            block_hash(head.hash, height, timestamp_ns, [p[0].hash for p in accepted]),
            head.hash,
            timestamp_ns,
        )
        records = []
        local: list[Receipt] = []
        outgoing: list[Receipt | DataItem] = []
        for tx, outcome, first in accepted:
            record = TxRecord(tx, block, outcome)
            self.txs[tx.hash] = record
            self.executed_in[tx.hash] = block
            self.receipts[first.id] = first
            self._made.append(first.id)
            block.tx_hashes.append(tx.hash)
            block.gas_burnt += outcome.gas_burnt
            block.tokens_burnt += outcome.tokens_burnt
            (local if first.receiver_id == tx.signer_id else outgoing).append(first)
            records.append(record)
        incoming, self.incoming = self.incoming, []
        executed: list[tuple[Receipt, Outcome]] = []
        state: list[StateChange] = []
        for item in [*local, *incoming]:
            if isinstance(item, DataItem):
                self.data[item.data_id] = item.result
                ready = self.awaiting.pop(item.data_id, None)
                if ready is None or not all(d in self.data for d in ready.input_data_ids):
                    continue
                item = ready
            elif not all(d in self.data for d in item.input_data_ids):
                for d in item.input_data_ids:  # postponed until its data arrives
                    if d not in self.data:
                        self.awaiting[d] = item
                continue
            executed.append(self._execute(item, env, block, outgoing))
            state.extend(self.executor.state_changes)
            self.executor.state_changes.clear()
        self.incoming = outgoing
        if accepted or executed:
            self.last_active = height
        self.changes[block.hash] = self._block_changes([p[0] for p in accepted], executed)
        self.changes[block.hash].state = state
        touched = {acc.account_id for acc in self.changes[block.hash].accounts}
        self.history.end_block(height, touched)
        # as on nearcore, the supply falls only by what was burnt: value carried by receipts
        # still on their way (a transfer's deposit, a refund) is not lost in the meantime
        block.total_supply = head.total_supply - block.tokens_burnt
        self._add_block(block)
        self._archive_old(block, [p[0].hash for p in accepted], [o.id for _, o in executed])
        return block, [records[r] if isinstance(r, int) else r for r in results]

    def _archive_old(self, block: Block, tx_hashes: list[bytes], outcome_ids: list[bytes]) -> None:
        """Note what ``block`` recorded, and move what blocks older than ``recent_blocks``
        recorded to the archive: final by then, read back from disk when asked for."""
        if self.archive is None:
            return
        made, self._made = self._made, []
        self._unarchived.append((block.height, block.hash, tx_hashes + outcome_ids, made))
        oldest_recent = block.height - self.recent_blocks
        if not self._unarchived or self._unarchived[0][0] > oldest_recent:
            return
        with self.archive.batch():
            while self._unarchived and self._unarchived[0][0] <= oldest_recent:
                _, old_hash, ids, made_ids = self._unarchived.popleft()
                self.txs.evict(ids)
                self.receipt_outcomes.evict(ids)
                self.executed_in.evict(ids)
                self.receipts.evict(made_ids)
                self.changes.evict([old_hash])
            self.blocks.evict_through(oldest_recent)

    def _encode_record(self, record: TxRecord) -> bytes:
        return pickle.dumps((record.tx.raw, record.block.height, record.outcome))

    def _decode_record(self, raw: bytes) -> TxRecord:
        tx_raw, height, outcome = pickle.loads(raw)
        return TxRecord(decode_signed_transaction(tx_raw), self._archived_block(height), outcome)

    def _execute(
        self, receipt: Receipt, env: BlockEnv, block: Block, outgoing: list[Receipt | DataItem]
    ) -> tuple[Receipt, Outcome]:
        """Run one receipt in ``block``; what it makes goes to ``outgoing``."""
        results = [self.data.pop(d) for d in receipt.input_data_ids]
        outcome, children, result = self.executor.execute(receipt, results, env)
        self.receipt_outcomes[outcome.id] = outcome
        self.executed_in[outcome.id] = block
        block.receipt_ids.append(outcome.id)
        block.gas_burnt += outcome.gas_burnt
        block.tokens_burnt += outcome.tokens_burnt
        for child in children:
            self.receipts[child.id] = child
            self._made.append(child.id)
        outgoing.extend(children)
        if result is not None:
            for data_id, receiver_id in receipt.output_data_receivers:
                outgoing.append(DataItem(data_id, receiver_id, result))
        return receipt, outcome

    # -- a transaction's progress -----------------------------------------------------------

    def progress(self, record: TxRecord) -> list[tuple[Outcome, Block]]:
        """The receipt outcomes of ``record`` recorded so far with their blocks, depth first from
        the transaction's own (chain.rs, get_recursive_transaction_results: an outcome, then
        those of its receipt_ids in order; a receipt not yet executed is left out with its
        descendants)."""
        found: list[tuple[Outcome, Block]] = []
        stack = list(reversed(record.outcome.receipt_ids))
        while stack:
            receipt_id = stack.pop()
            outcome = self.receipt_outcomes.get(receipt_id)
            if outcome is None:
                continue
            found.append((outcome, self.executed_in[receipt_id]))
            stack.extend(reversed(outcome.receipt_ids))
        return found

    def final_status(self, record: TxRecord, progress: list[tuple[Outcome, Block]]) -> Any:
        """FinalExecutionStatus: the result the first receipt's promises lead to (chain.rs,
        get_execution_status), or "Started" while that receipt has not run."""
        by_id = {o.id: o for o, _ in progress}
        outcome = by_id.get(record.outcome.receipt_ids[0])
        while outcome is not None:
            status = outcome.status
            if "SuccessReceiptId" not in status:
                return status
            outcome = by_id.get(status["SuccessReceiptId"])
        return "Started"

    def execution_level(self, record: TxRecord, progress: list[tuple[Outcome, Block]]) -> str:
        """The TxExecutionStatus ``record`` has reached (view_client_actor.rs,
        get_tx_execution_status): the last receipt id of each outcome counts as its refund."""
        awaiting = set(record.outcome.receipt_ids)
        non_refund = set(record.outcome.receipt_ids)
        for outcome, _ in progress:
            awaiting.update(outcome.receipt_ids)
            non_refund.update(outcome.receipt_ids[:-1])
        executed = {o.id for o, _ in progress}
        final = self.final_head.height
        if record.block.height > final:
            return "EXECUTED_OPTIMISTIC" if non_refund <= executed else "INCLUDED"
        if not non_refund <= executed:
            return "INCLUDED_FINAL"
        if not awaiting <= executed:
            return "EXECUTED"
        if all(block.height <= final for _, block in progress):
            return "FINAL"
        return "EXECUTED"

    def _block_changes(
        self, txs: list[SignedTransaction], executed: list[tuple[Receipt, Outcome]]
    ) -> BlockChanges:
        """The accounts and keys a block changed, each with its last cause and its state after
        the block."""
        causes: dict[str, tuple[str, bytes]] = {}
        key_causes: dict[tuple[str, PublicKey], tuple[str, bytes]] = {}
        for tx in txs:
            causes[tx.signer_id] = ("transaction_processing", tx.hash)
            key_causes[(tx.signer_id, tx.public_key)] = ("transaction_processing", tx.hash)
        for receipt, o in executed:
            causes.pop(o.executor_id, None)  # keep the order of the last change
            causes[o.executor_id] = ("receipt_processing", o.id)
            if receipt.free:
                if _restores_allowance(receipt, self.accounts.get(receipt.receiver_id)):
                    key_causes.pop((receipt.receiver_id, receipt.signer_pk), None)
                    key_causes[(receipt.receiver_id, receipt.signer_pk)] = (
                        "receipt_processing",
                        o.id,
                    )
                continue
            if "Failure" in o.status:
                continue
            for pk in _keys_touched(receipt.actions):
                key_causes.pop((receipt.receiver_id, pk), None)
                key_causes[(receipt.receiver_id, pk)] = ("receipt_processing", o.id)
        changes = BlockChanges()
        for account_id, cause in causes.items():
            acc = self.accounts.get(account_id)
            state = (
                None
                if acc is None
                else (acc.amount, acc.locked, acc.code_name, acc.storage_usage())
            )
            changes.accounts.append(AccountChange(account_id, cause[0], cause[1], state))
        for (account_id, pk), cause in key_causes.items():
            holder = self.accounts.get(account_id)
            key = None if holder is None else holder.keys.get(pk)
            snapshot = None
            if key is not None:  # a copy: the key's nonce moves on with later blocks
                snapshot = AccessKey(
                    key.nonce, key.full_access, key.allowance, key.receiver_id, key.method_names
                )
            changes.keys.append(KeyChange(account_id, pk, cause[0], cause[1], snapshot))
        return changes

    # -- transaction validation -------------------------------------------------------------

    def _accept(
        self,
        tx: SignedTransaction,
        height: int,
        verify_signature: bool = True,
    ) -> tuple[Outcome, Receipt]:
        """Validate and charge ``tx`` as nearcore does; InvalidTx leaves the state untouched."""
        if not valid_account_id(tx.signer_id):
            raise InvalidTx({"InvalidSignerId": {"signer_id": tx.signer_id}})
        if not valid_account_id(tx.receiver_id):
            raise InvalidTx({"InvalidReceiverId": {"receiver_id": tx.receiver_id}})
        if verify_signature and not signature_valid(tx):
            raise InvalidTx("InvalidSignature")
        if self.blocks.by_hash(tx.block_hash) is None:
            raise InvalidTx("Expired")
        _validate_actions(tx)
        signer = self.accounts.get(tx.signer_id)
        if signer is None:
            raise InvalidTx({"SignerDoesNotExist": {"signer_id": tx.signer_id}})
        key = signer.keys.get(tx.public_key)
        if key is None:
            raise InvalidTx(
                {
                    "InvalidAccessKeyError": {
                        "AccessKeyNotFound": {
                            "account_id": tx.signer_id,
                            "public_key": tx.public_key.text(),
                        }
                    }
                }
            )
        if tx.nonce <= key.nonce:
            raise InvalidTx({"InvalidNonce": {"tx_nonce": tx.nonce, "ak_nonce": key.nonce}})
        # runtime/runtime/src/verifier.rs, verify_and_charge_tx_ephemeral: a nonce must stay
        # below the including block's height times AccessKey::ACCESS_KEY_NONCE_RANGE_MULTIPLIER
        upper_bound = height * NONCE_RANGE_MULTIPLIER
        if tx.nonce >= upper_bound:
            raise InvalidTx({"NonceTooLarge": {"tx_nonce": tx.nonce, "upper_bound": upper_bound}})
        tx_gas = gas.send_fee(tx.actions)
        budget = gas.receipt_budget(tx.actions)
        gas_cost = (tx_gas + budget) * gas.GAS_PRICE
        deposit = deposit_of(tx.actions)
        total = gas_cost + deposit
        if signer.amount < total:
            raise InvalidTx(
                {
                    "NotEnoughBalance": {
                        "signer_id": tx.signer_id,
                        "balance": str(signer.amount),
                        "cost": str(total),
                    }
                }
            )
        if not key.full_access and key.allowance is not None and key.allowance < gas_cost:
            raise InvalidTx(
                {
                    "InvalidAccessKeyError": {
                        "NotEnoughAllowance": {
                            "account_id": tx.signer_id,
                            "public_key": tx.public_key.text(),
                            "allowance": str(key.allowance),
                            "cost": str(gas_cost),
                        }
                    }
                }
            )
        lack = storage.lack_for_state(signer, signer.amount - total)
        if lack is not None:
            raise InvalidTx(
                {"LackBalanceForState": {"signer_id": tx.signer_id, "amount": str(lack)}}
            )
        if not key.full_access:
            _check_function_call_key(tx, key)
        key.nonce = tx.nonce
        signer.amount -= total
        if key.allowance is not None and not key.full_access:
            key.allowance -= gas_cost
        first = Receipt(
            id=child_id(tx.hash, 0),
            predecessor_id=tx.signer_id,
            receiver_id=tx.receiver_id,
            signer_id=tx.signer_id,
            signer_pk=tx.public_key,
            actions=tx.actions,
            gas_price=gas.GAS_PRICE,
            budget=budget,
        )
        outcome = Outcome(
            tx.hash,
            tx.signer_id,
            [],
            [first.id],
            tx_gas,
            tx_gas * gas.GAS_PRICE,
            {"SuccessReceiptId": first.id},
        )
        return outcome, first

    def contracts(self) -> Mapping[str, type[Contract]]:
        """The deployable contracts by code name."""
        return self._contracts()

    def find_tx(self, tx_hash: bytes) -> TxRecord | None:
        return self.txs.get(tx_hash)

    def find_recent_tx(self, tx_hash: bytes) -> TxRecord | None:
        """``tx_hash``'s record if still in memory: a check on the way to the pool, where
        :meth:`apply_block` answers an archived resubmission with its record anyway."""
        return self.txs.recent.get(tx_hash)


def _restores_allowance(receipt: Receipt, holder: Account | None) -> bool:
    """Whether this refund gave a function-call key back allowance (a gas refund from system)."""
    if holder is None or receipt.predecessor_id != SYSTEM:
        return False
    key = holder.keys.get(receipt.signer_pk)
    return key is not None and not key.full_access and key.allowance is not None


def _keys_touched(actions: tuple[Action, ...]) -> list[PublicKey]:
    """Keys a successful receipt with these actions added, deleted or (delegating) used."""
    touched: list[PublicKey] = []
    for action in actions:
        if isinstance(action, AddKey | DeleteKey):
            touched.append(action.public_key)
        elif isinstance(action, Delegate):
            touched.append(action.delegate_action.public_key)
    return touched


def _validate_actions(tx: SignedTransaction) -> None:
    delegates = [a for a in tx.actions if isinstance(a, Delegate)]
    if len(delegates) > 1:
        raise InvalidTx({"ActionsValidation": "DelegateActionMustBeOnlyOne"})
    _validate_action_list(tx.actions)
    for signed in delegates:  # the inner actions obey the same rules (verifier.rs)
        _validate_action_list(signed.delegate_action.actions)


def _validate_action_list(actions: tuple[Action, ...]) -> None:
    total_gas = 0
    for index, action in enumerate(actions):
        if isinstance(action, Stake):
            raise InvalidTx(
                {
                    "ActionsValidation": {
                        "UnsupportedProtocolFeature": {
                            "protocol_feature": type(action).__name__,
                            "version": 0,
                        }
                    }
                }
            )
        if isinstance(action, FunctionCall):
            if action.gas == 0:
                raise InvalidTx({"ActionsValidation": "FunctionCallZeroAttachedGas"})
            if not action.method_name:
                raise InvalidTx({"ActionsValidation": "FunctionCallEmptyMethodName"})
            total_gas += action.gas
        if isinstance(action, DeleteAccount):
            if index != len(actions) - 1:
                raise InvalidTx({"ActionsValidation": "DeleteActionMustBeFinal"})
            if not valid_account_id(action.beneficiary_id):
                raise InvalidTx(
                    {
                        "ActionsValidation": {
                            "InvalidAccountId": {"account_id": action.beneficiary_id}
                        }
                    }
                )
        if isinstance(action, AddKey) and not isinstance(action.access_key.permission, str):
            receiver = action.access_key.permission.receiver_id
            if not valid_account_id(receiver):
                raise InvalidTx(
                    {"ActionsValidation": {"InvalidAccountId": {"account_id": receiver}}}
                )
    if total_gas > gas.MAX_TOTAL_PREPAID_GAS:
        raise InvalidTx(
            {
                "ActionsValidation": {
                    "TotalPrepaidGasExceeded": {
                        "total_prepaid_gas": total_gas,
                        "limit": gas.MAX_TOTAL_PREPAID_GAS,
                    }
                }
            }
        )


def _check_function_call_key(tx: SignedTransaction, key: AccessKey) -> None:
    if len(tx.actions) != 1 or not isinstance(tx.actions[0], FunctionCall):
        raise InvalidTx({"InvalidAccessKeyError": "RequiresFullAccess"})
    call = tx.actions[0]
    if call.deposit:
        raise InvalidTx({"InvalidAccessKeyError": "DepositWithFunctionCall"})
    if tx.receiver_id != key.receiver_id:
        raise InvalidTx(
            {
                "InvalidAccessKeyError": {
                    "ReceiverMismatch": {
                        "tx_receiver": tx.receiver_id,
                        "ak_receiver": key.receiver_id,
                    }
                }
            }
        )
    if key.method_names and call.method_name not in key.method_names:
        raise InvalidTx(
            {"InvalidAccessKeyError": {"MethodNameMismatch": {"method_name": call.method_name}}}
        )


__all__ = [
    "Runtime",
    "TxRecord",
    "SetupCallFailed",
    "StateGarbageCollected",
    "SYSTEM",
    "default_contracts",
]
