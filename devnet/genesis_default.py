"""The devnet's default world: users, tokens, an exchange with liquidity, open tasks, a notary.

Everything is set up through ordinary contract calls (``setup_calls``), so the starting state is
exactly what the same calls would produce on testnet. Prices: about 3 USDC per NEAR and 6 REF per
NEAR in deep pools, plus a shallow USDC/REF pool, so a large USDC->REF swap is better routed
through wNEAR than sent directly.
"""

from __future__ import annotations

import time
from typing import Any

from devnet.contracts.exchange import LP_STORAGE_COST, POOL_STORAGE_COST
from devnet.contracts.fungible_token import STORAGE_BALANCE
from devnet.genesis import Genesis, GenesisAccount, SetupCall
from tools.keypair import KeyPair

NEAR = 10**24
ROOT = "test.near"
ALICE, BOB, CAROL = "alice.test.near", "bob.test.near", "carol.test.near"
VENDOR, MARKET = "vendor.test.near", "market.test.near"
WRAP, USDC, REF = "wrap.test.near", "usdc.test.near", "ref.test.near"
EXCHANGE, TASKS, NOTARY = "exchange.test.near", "tasks.test.near", "notary.test.near"

# symbol, contract, decimals, supply minted to the market maker (whole tokens)
TOKENS: tuple[tuple[str, str, int, int], ...] = (
    ("wNEAR", WRAP, 24, 0),
    ("USDC", USDC, 6, 10_000_000),
    ("REF", REF, 18, 10_000_000),
)
DECIMALS = {contract: decimals for _, contract, decimals, _ in TOKENS}
POOL_FEE_BPS = 30
# pools in creation order (their ids): reserves in whole tokens
POOLS: tuple[tuple[str, int, str, int], ...] = (
    (WRAP, 100_000, USDC, 300_000),  # deep: 3 USDC per NEAR
    (WRAP, 50_000, REF, 300_000),  # deep: 6 REF per NEAR
    (USDC, 1_000, REF, 2_000),  # shallow: same price, little depth
)
ALICE_TOKENS = {USDC: 1_000, REF: 500}

ACCOUNTS: tuple[tuple[str, int, str | None], ...] = (
    (ROOT, 1_000_000_000 * NEAR, None),
    (ALICE, 100 * NEAR, None),
    (BOB, 100 * NEAR, None),
    (CAROL, 100 * NEAR, None),
    (VENDOR, 1_000 * NEAR, None),
    (MARKET, 500_000 * NEAR, None),
    (WRAP, 50 * NEAR, "wrapped_near"),
    (USDC, 50 * NEAR, "fungible_token"),
    (REF, 50 * NEAR, "fungible_token"),
    (EXCHANGE, 50 * NEAR, "exchange"),
    (TASKS, 50 * NEAR, "tasks"),
    (NOTARY, 50 * NEAR, "notary"),
)

TASK_SPECS: tuple[dict[str, Any], ...] = (
    {
        "title": "Sentiment of product reviews",
        "description": "Label each review as positive, negative or neutral.",
        "items": [
            "Battery lasts two days, love it.",
            "Arrived broken and support ignored me.",
            "It is a phone case. It holds the phone.",
            "Best purchase this year!",
            "Stopped charging after a week.",
        ],
        "reward_per_label": str(NEAR // 100),
        "labels_per_item": 1,
        "allowed_labels": ["positive", "negative", "neutral"],
        "auto_accept": False,
    },
    {
        "title": "Does the caption match the image description?",
        "description": "Answer yes or no; three taskers per item, the majority is accepted.",
        "items": [
            "Image: a red bicycle by a wall. Caption: a red bike parked outside.",
            "Image: two cats on a sofa. Caption: a dog in the snow.",
            "Image: Mount Fuji at dawn. Caption: a mountain at sunrise.",
        ],
        "reward_per_label": str(NEAR // 200),
        "labels_per_item": 3,
        "allowed_labels": ["yes", "no"],
        "auto_accept": True,
    },
    {
        "title": "Translate short greetings into English",
        "description": "Free text: give the English meaning of each greeting.",
        "items": ["おはようございます", "你好", "Bonjour"],
        "reward_per_label": str(NEAR // 50),
        "labels_per_item": 1,
        "allowed_labels": None,
        "auto_accept": False,
    },
)


def units(contract: str, whole: int) -> int:
    """Whole tokens in base units of ``contract``."""
    return whole * 10 ** DECIMALS[contract]


def _accounts() -> list[GenesisAccount]:
    return [
        GenesisAccount(
            account_id=account,
            balance=balance,
            secret_keys=[KeyPair.generate().secret_key],
            code_name=code,
        )
        for account, balance, code in ACCOUNTS
    ]


def _init_calls() -> list[SetupCall]:
    calls = [SetupCall(signer_id=WRAP, receiver_id=WRAP, method_name="new", args={})]
    for symbol, contract, decimals, supply in TOKENS:
        if contract == WRAP:
            continue
        metadata = {
            "spec": "ft-1.0.0",
            "name": symbol,
            "symbol": symbol,
            "icon": None,
            "reference": None,
            "reference_hash": None,
            "decimals": decimals,
        }
        calls.append(
            SetupCall(
                signer_id=contract,
                receiver_id=contract,
                method_name="new",
                args={
                    "owner_id": MARKET,
                    "total_supply": str(units(contract, supply)),
                    "metadata": metadata,
                },
            )
        )
    calls += [
        SetupCall(
            signer_id=EXCHANGE,
            receiver_id=EXCHANGE,
            method_name="new",
            args={"owner_id": ROOT, "exchange_fee": 0, "referral_fee": 0},
        ),
        SetupCall(
            signer_id=ROOT,
            receiver_id=EXCHANGE,
            method_name="extend_whitelisted_tokens",
            args={"tokens": [contract for _, contract, _, _ in TOKENS]},
        ),
        SetupCall(signer_id=TASKS, receiver_id=TASKS, method_name="new", args={"owner_id": ROOT}),
    ]
    return calls


def _registration_calls() -> list[SetupCall]:
    """Storage on every token for the exchange, the market maker and alice."""
    calls = []
    for _, contract, _, _ in TOKENS:
        for account in (EXCHANGE, MARKET, ALICE):
            if account == MARKET and contract != WRAP:
                continue  # the owner was registered by ``new``
            calls.append(
                SetupCall(
                    signer_id=ROOT,
                    receiver_id=contract,
                    method_name="storage_deposit",
                    args={"account_id": account},
                    deposit=STORAGE_BALANCE,
                )
            )
    return calls


def _liquidity_calls() -> list[SetupCall]:
    wrapped = sum(amount for left, amount, _, _ in POOLS if left == WRAP)
    calls = [
        SetupCall(
            signer_id=MARKET,
            receiver_id=WRAP,
            method_name="near_deposit",
            args={},
            deposit=wrapped * NEAR,
        ),
        SetupCall(
            signer_id=MARKET,
            receiver_id=EXCHANGE,
            method_name="storage_deposit",
            args={},
            deposit=NEAR,
        ),
    ]
    deposits: dict[str, int] = {}
    for left, left_amount, right, right_amount in POOLS:
        deposits[left] = deposits.get(left, 0) + units(left, left_amount)
        deposits[right] = deposits.get(right, 0) + units(right, right_amount)
    for token, amount in deposits.items():
        calls.append(
            SetupCall(
                signer_id=MARKET,
                receiver_id=token,
                method_name="ft_transfer_call",
                args={"receiver_id": EXCHANGE, "amount": str(amount), "msg": ""},
                deposit=1,
            )
        )
    for pool_id, (left, left_amount, right, right_amount) in enumerate(POOLS):
        calls.append(
            SetupCall(
                signer_id=MARKET,
                receiver_id=EXCHANGE,
                method_name="add_simple_pool",
                args={"tokens": [left, right], "fee": POOL_FEE_BPS},
                deposit=POOL_STORAGE_COST,
            )
        )
        calls.append(
            SetupCall(
                signer_id=MARKET,
                receiver_id=EXCHANGE,
                method_name="add_liquidity",
                args={
                    "pool_id": pool_id,
                    "amounts": [str(units(left, left_amount)), str(units(right, right_amount))],
                },
                deposit=LP_STORAGE_COST,
            )
        )
    return calls


def _user_calls() -> list[SetupCall]:
    calls = [
        SetupCall(
            signer_id=MARKET,
            receiver_id=token,
            method_name="ft_transfer",
            args={"receiver_id": ALICE, "amount": str(units(token, amount))},
            deposit=1,
        )
        for token, amount in ALICE_TOKENS.items()
    ]
    for spec in TASK_SPECS:
        pool = int(spec["reward_per_label"]) * len(spec["items"]) * spec["labels_per_item"]
        calls.append(
            SetupCall(
                signer_id=VENDOR,
                receiver_id=TASKS,
                method_name="create_task",
                args=dict(spec),
                deposit=pool,
            )
        )
    return calls


def _manifest() -> dict[str, Any]:
    return {
        "root_account": ROOT,
        "user_account": ALICE,
        "vendor_account": VENDOR,
        "market_account": MARKET,
        "wrap_id": WRAP,
        "tokens": [
            {"symbol": symbol, "contract_id": contract, "decimals": decimals}
            for symbol, contract, decimals, _ in TOKENS
        ],
        "exchange": {
            "contract_id": EXCHANGE,
            "pools": [
                {"pool_id": pool_id, "token_account_ids": [left, right], "total_fee": POOL_FEE_BPS}
                for pool_id, (left, _, right, _) in enumerate(POOLS)
            ],
        },
        "tasks": {"contract_id": TASKS},
        "notary": {"contract_id": NOTARY},
    }


def build_default_genesis() -> Genesis:
    """A fresh default genesis: new keys, genesis time now."""
    return Genesis(
        genesis_time_ns=time.time_ns(),
        accounts=_accounts(),
        setup_calls=_init_calls() + _registration_calls() + _liquidity_calls() + _user_calls(),
        manifest=_manifest(),
    )
