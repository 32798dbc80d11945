"""The JSON shapes nearcore answers with: outcomes, blocks, status, accounts and keys."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import base58

from devnet import gas
from devnet.context import encode_result
from devnet.receipts import Outcome, Receipt, StateChange
from devnet.runtime import FINALITY_LAG, AccountChange, KeyChange, Runtime, TxRecord
from devnet.state import AccessKey, Account, Block, chunk_hash, code_hash_of
from devnet.transaction import (
    Action,
    AddKey,
    CreateAccount,
    Delegate,
    DeleteAccount,
    DeleteKey,
    DeployContract,
    FunctionCall,
    SignedTransaction,
    Stake,
    Transfer,
)

PROTOCOL_VERSION = 73
NODE_KEY = "ed25519:" + "1" * 32
EMPTY_HASH = "11111111111111111111111111111111"
METADATA = {"version": 3, "gas_profile": []}
BLOCK_PRODUCER = "devnet"  # the one validator that authors every block
SIGNATURE = "ed25519:" + "1" * 64


@lru_cache(maxsize=8192)
def b58(raw: bytes) -> str:
    """Cached: block hashes and keys repeat across the outcomes of every response."""
    return base58.b58encode(raw).decode()


def permission_view(key: AccessKey) -> Any:
    if key.full_access:
        return "FullAccess"
    return {
        "FunctionCall": {
            "allowance": None if key.allowance is None else str(key.allowance),
            "receiver_id": key.receiver_id,
            "method_names": list(key.method_names),
        }
    }


def access_key_view(key: AccessKey) -> dict[str, Any]:
    return {"nonce": key.nonce, "permission": permission_view(key)}


def account_view(acc: Account, block: Block) -> dict[str, Any]:
    return {
        "amount": str(acc.amount),
        "locked": str(acc.locked),
        "code_hash": b58(acc.code_hash()),
        "storage_usage": acc.storage_usage(),
        "storage_paid_at": 0,
        "block_height": block.height,
        "block_hash": b58(block.hash),
    }


def action_view(action: Action) -> Any:
    if isinstance(action, CreateAccount):
        return "CreateAccount"
    if isinstance(action, DeployContract):
        return {
            "DeployContract": {
                "code": base64.b64encode(hashlib.sha256(action.code).digest()).decode()
            }
        }
    if isinstance(action, FunctionCall):
        return {
            "FunctionCall": {
                "method_name": action.method_name,
                "args": base64.b64encode(action.args).decode(),
                "gas": action.gas,
                "deposit": str(action.deposit),
            }
        }
    if isinstance(action, Transfer):
        return {"Transfer": {"deposit": str(action.deposit)}}
    if isinstance(action, Stake):
        return {"Stake": {"stake": str(action.stake), "public_key": action.public_key.text()}}
    if isinstance(action, AddKey):
        perm = action.access_key.permission
        if isinstance(perm, str):  # FULL_ACCESS, the only permission that is a string
            perm_view: Any = "FullAccess"
        else:
            perm_view = {
                "FunctionCall": {
                    "allowance": None if perm.allowance is None else str(perm.allowance),
                    "receiver_id": perm.receiver_id,
                    "method_names": list(perm.method_names),
                }
            }
        return {
            "AddKey": {
                "public_key": action.public_key.text(),
                "access_key": {"nonce": action.access_key.nonce, "permission": perm_view},
            }
        }
    if isinstance(action, DeleteKey):
        return {"DeleteKey": {"public_key": action.public_key.text()}}
    if isinstance(action, DeleteAccount):
        return {"DeleteAccount": {"beneficiary_id": action.beneficiary_id}}
    if isinstance(action, Delegate):
        d = action.delegate_action
        return {
            "Delegate": {
                "delegate_action": {
                    "sender_id": d.sender_id,
                    "receiver_id": d.receiver_id,
                    "actions": [action_view(a) for a in d.actions],
                    "nonce": d.nonce,
                    "max_block_height": d.max_block_height,
                    "public_key": d.public_key.text(),
                },
                "signature": action.signature.text(),
            }
        }
    raise TypeError(f"no view for {action!r}")


def status_json(status: Any) -> Any:
    if not isinstance(status, dict):  # "Started": the first receipt has not run yet
        return status
    receipt_id = status.get("SuccessReceiptId")
    if isinstance(receipt_id, bytes):
        return {"SuccessReceiptId": b58(receipt_id)}
    return status


def outcome_view(outcome: Outcome, block: Block) -> dict[str, Any]:
    return {
        "id": b58(outcome.id),
        "outcome": {
            "logs": outcome.logs,
            "receipt_ids": [b58(r) for r in outcome.receipt_ids],
            "gas_burnt": outcome.gas_burnt,
            "tokens_burnt": str(outcome.tokens_burnt),
            "executor_id": outcome.executor_id,
            "status": status_json(outcome.status),
            "metadata": METADATA,
        },
        "block_hash": b58(block.hash),
        "proof": [],
    }


def receipt_view(r: Receipt) -> dict[str, Any]:
    return {
        "predecessor_id": r.predecessor_id,
        "receiver_id": r.receiver_id,
        "receipt_id": b58(r.id),
        "priority": 0,
        "receipt": {
            "Action": {
                "signer_id": r.signer_id,
                "signer_public_key": r.signer_pk.text(),
                "gas_price": str(r.gas_price),
                "output_data_receivers": [
                    {"data_id": b58(d), "receiver_id": rid} for d, rid in r.output_data_receivers
                ],
                "input_data_ids": [b58(d) for d in r.input_data_ids],
                "actions": [action_view(a) for a in r.actions],
                "is_promise_yield": False,
            }
        },
    }


def transaction_view(tx: SignedTransaction) -> dict[str, Any]:
    """SignedTransactionView, as outcomes and chunks show a transaction."""
    return {
        "signer_id": tx.signer_id,
        "public_key": tx.public_key.text(),
        "nonce": tx.nonce,
        "receiver_id": tx.receiver_id,
        "actions": [action_view(a) for a in tx.actions],
        "signature": tx.signature.text(),
        "hash": b58(tx.hash),
        "priority_fee": 0,
    }


def final_outcome_view(
    rt: Runtime, record: TxRecord, *, with_receipts: bool = False
) -> dict[str, Any]:
    """FinalExecutionOutcome as far as execution has come (``tx``/``send_tx``): the receipt
    outcomes recorded so far, depth first, with ``final_execution_status`` the level reached.
    Cached once FINAL, since it never changes again."""
    key = "with_receipts" if with_receipts else "plain"
    cached = record.view_cache.get(key)
    if cached is not None:
        return cached
    progress = rt.progress(record)
    level = rt.execution_level(record, progress)
    view: dict[str, Any] = {
        "final_execution_status": level,
        "status": status_json(rt.final_status(record, progress)),
        "transaction": transaction_view(record.tx),
        "transaction_outcome": outcome_view(record.outcome, record.block),
        "receipts_outcome": [outcome_view(o, block) for o, block in progress],
    }
    if with_receipts:  # chain.rs, get_transaction_result_with_receipt: in the same order
        view["receipts"] = [receipt_view(rt.receipts[o.id]) for o, _ in progress]
    if level == "FINAL":
        record.view_cache[key] = view
    return view


def _iso(timestamp_ns: int) -> str:
    dt = datetime.fromtimestamp(timestamp_ns // 1_000_000_000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{timestamp_ns % 1_000_000_000:09d}Z"


def status_view(rt: Runtime, uptime_sec: int, rpc_addr: str | None) -> dict[str, Any]:
    head, genesis = rt.head, rt.blocks[0]
    return {
        "chain_id": rt.chain_id,
        "genesis_hash": b58(genesis.hash),
        "latest_protocol_version": PROTOCOL_VERSION,
        "protocol_version": PROTOCOL_VERSION,
        "node_public_key": NODE_KEY,
        "node_key": None,
        "rpc_addr": rpc_addr,
        "sync_info": {
            "latest_block_hash": b58(head.hash),
            "latest_block_height": head.height,
            "latest_block_time": _iso(head.timestamp_ns),
            "latest_state_root": b58(head.hash),
            "syncing": False,
            "earliest_block_hash": b58(genesis.hash),
            "earliest_block_height": genesis.height,
            "earliest_block_time": _iso(genesis.timestamp_ns),
        },
        "uptime_sec": uptime_sec,
        "validators": [],
        "version": {
            "build": "devnet",
            "commit": "devnet",
            "version": "2.0.0-devnet",
            "rustc_version": "",
        },
    }


def chunk_header_view(block: Block) -> dict[str, Any]:
    h = b58(block.hash)
    return {
        "chunk_hash": b58(chunk_hash(block)),
        "prev_block_hash": b58(block.prev_hash),
        "outcome_root": h,
        "prev_state_root": h,
        "encoded_merkle_root": h,
        "encoded_length": 0,
        "height_created": block.height,
        "height_included": block.height,
        "shard_id": 0,
        "gas_used": block.gas_burnt,
        "gas_limit": 1_000 * gas.TGAS,
        "rent_paid": "0",
        "validator_reward": "0",
        "balance_burnt": str(block.tokens_burnt),
        "outgoing_receipts_root": h,
        "tx_root": h,
        "validator_proposals": [],
        "signature": SIGNATURE,
    }


def chunk_view(rt: Runtime, block: Block) -> dict[str, Any]:
    """A block's one chunk: its transactions and the receipts executed with them."""
    records = [rt.txs[h] for h in block.tx_hashes]
    return {
        "author": BLOCK_PRODUCER,
        "header": chunk_header_view(block),
        "transactions": [transaction_view(r.tx) for r in records],
        "receipts": [receipt_view(rt.receipts[i]) for i in block.receipt_ids if i in rt.receipts],
    }


def validators_view(rt: Runtime) -> dict[str, Any]:
    """EpochValidatorInfo: the devnet's one block producer, in its one epoch."""
    produced = rt.head.height - rt.blocks[0].height
    stake = str(0)
    return {
        "current_validators": [
            {
                "account_id": BLOCK_PRODUCER,
                "public_key": NODE_KEY,
                "is_slashed": False,
                "stake": stake,
                "shards": [0],
                "num_produced_blocks": produced,
                "num_expected_blocks": produced,
                "num_produced_chunks": produced,
                "num_expected_chunks": produced,
                "num_produced_chunks_per_shard": [produced],
                "num_expected_chunks_per_shard": [produced],
                "num_produced_endorsements": produced,
                "num_expected_endorsements": produced,
                "num_produced_endorsements_per_shard": [produced],
                "num_expected_endorsements_per_shard": [produced],
                "shards_endorsed": [0],
            }
        ],
        "next_validators": [
            {"account_id": BLOCK_PRODUCER, "public_key": NODE_KEY, "stake": stake, "shards": [0]}
        ],
        "current_fishermen": [],
        "next_fishermen": [],
        "current_proposals": [],
        "prev_epoch_kickout": [],
        "epoch_start_height": rt.blocks[0].height,
        "epoch_height": 1,
    }


def _ancestor(rt: Runtime, block: Block, back: int) -> Block:
    """The block ``back`` heights below ``block`` (the genesis at most)."""
    return rt.block_at(max(rt.blocks[0].height, block.height - back)) or rt.blocks[0]


def block_view(rt: Runtime, block: Block) -> dict[str, Any]:
    h = b58(block.hash)
    header = {
        "height": block.height,
        "prev_height": block.height - 1 if block.height > 1 else None,
        "epoch_id": EMPTY_HASH,
        "next_epoch_id": EMPTY_HASH,
        "hash": h,
        "prev_hash": b58(block.prev_hash),
        "prev_state_root": h,
        "chunk_receipts_root": h,
        "chunk_headers_root": h,
        "chunk_tx_root": h,
        "outcome_root": h,
        "chunks_included": 1,
        "challenges_root": EMPTY_HASH,
        "timestamp": block.timestamp_ns,
        "timestamp_nanosec": str(block.timestamp_ns),
        "random_value": h,
        "validator_proposals": [],
        "chunk_mask": [True],
        "gas_price": str(gas.GAS_PRICE),
        "block_ordinal": block.height,
        "total_supply": str(block.total_supply),
        # nearcore still returns these, always zero since rent and rewards were removed
        # (core/primitives/src/views.rs, BlockHeaderView and ChunkHeaderView)
        "rent_paid": "0",
        "validator_reward": "0",
        "challenges_result": [],
        # Doomslug with one producer: the previous block is doomslug-final, the one before final
        "last_final_block": b58(_ancestor(rt, block, FINALITY_LAG).hash),
        "last_ds_final_block": b58(_ancestor(rt, block, 1).hash),
        "next_bp_hash": EMPTY_HASH,
        "block_merkle_root": h,
        "epoch_sync_data_hash": None,
        "approvals": [],
        "signature": SIGNATURE,
        "latest_protocol_version": PROTOCOL_VERSION,
    }
    return {"author": BLOCK_PRODUCER, "header": header, "chunks": [chunk_header_view(block)]}


def _cause_view(cause: str, cause_hash: bytes) -> dict[str, Any]:
    hash_field = "tx_hash" if cause == "transaction_processing" else "receipt_hash"
    return {"type": cause, hash_field: b58(cause_hash)}


def key_change_view(change: KeyChange) -> dict[str, Any]:
    """One entry of ``EXPERIMENTAL_changes`` for the access key change types."""
    cause = _cause_view(change.cause, change.cause_hash)
    body: dict[str, Any] = {
        "account_id": change.account_id,
        "public_key": change.public_key.text(),
    }
    if change.key is None:
        return {"cause": cause, "type": "access_key_deletion", "change": body}
    body["access_key"] = access_key_view(change.key)
    return {"cause": cause, "type": "access_key_update", "change": body}


def account_change_view(change: AccountChange) -> dict[str, Any]:
    """One entry of ``EXPERIMENTAL_changes`` for ``account_changes`` (StateChangeWithCauseView)."""
    cause = _cause_view(change.cause, change.cause_hash)
    if change.state is None:
        return {
            "cause": cause,
            "type": "account_deletion",
            "change": {"account_id": change.account_id},
        }
    amount, locked, code_name, storage_usage = change.state
    return {
        "cause": cause,
        "type": "account_update",
        "change": {
            "account_id": change.account_id,
            "amount": str(amount),
            "locked": str(locked),
            "code_hash": b58(code_hash_of(code_name)),
            "storage_usage": storage_usage,
            "storage_paid_at": 0,
        },
    }


def state_change_view(change: StateChange) -> dict[str, Any]:
    """One ``data_changes`` or ``contract_code_changes`` entry of ``EXPERIMENTAL_changes``
    (StateChangeWithCauseView): storage values and code as the bytes the node holds."""
    cause = _cause_view("receipt_processing", change.cause)
    if change.key is None:
        if change.deleted:
            body: dict[str, Any] = {"account_id": change.account_id}
            return {"cause": cause, "type": "contract_code_deletion", "change": body}
        code = base64.b64encode(f"pycontract:{change.value}".encode()).decode()
        body = {"account_id": change.account_id, "code_base64": code}
        return {"cause": cause, "type": "contract_code_update", "change": body}
    body = {
        "account_id": change.account_id,
        "key_base64": base64.b64encode(change.key.encode()).decode(),
    }
    if change.deleted:
        return {"cause": cause, "type": "data_deletion", "change": body}
    body["value_base64"] = base64.b64encode(encode_result(change.value)).decode()
    return {"cause": cause, "type": "data_update", "change": body}
