"""A devnet world with many exchange pools: the default one, plus USDT, a deep USDT/USDC stable
pool, a wNEAR/REF rated pool (REF rated at 1/6 wNEAR) and ``junk`` empty simple pools, as
anyone may create on mainnet.

Pool ids: 0-2 the default pools (wNEAR/USDC, wNEAR/REF, USDC/REF), 3 the stable pool, 4 the
rated pool, then the junk pools; :func:`add_pools` creates more on a running node, as a user
would.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from devnet.contracts.exchange import LP_STORAGE_COST
from devnet.contracts.fungible_token import STORAGE_BALANCE
from devnet.genesis import Genesis, GenesisAccount, SetupCall
from devnet.genesis_default import (
    ALICE,
    EXCHANGE,
    MARKET,
    NEAR,
    REF,
    ROOT,
    USDC,
    WRAP,
    build_default_genesis,
)
from tools.keypair import KeyPair

USDT = "usdt.test.near"
STABLE_POOL = 3
RATED_POOL = 4
REAL_POOLS = 5  # pools before the junk ones
REF_RATE = 10**24 // 6  # one REF is worth a sixth of a wNEAR in the rated pool
RATED_NEAR = 1_000 * NEAR
RATED_REF = 6_000 * 10**18
STABLE_DEPTH = 100_000 * 10**6  # each side of the stable pool, in base units (6 decimals)
ALICE_USDT = 1_000 * 10**6
POOL_DEPOSIT = NEAR // 100  # covers any pool's storage; the rest is refunded


def _call(signer: str, receiver: str, method: str, args: dict[str, Any], deposit: int = 0) -> Any:
    return SetupCall(
        signer_id=signer, receiver_id=receiver, method_name=method, args=args, deposit=deposit
    )


def pool_world_genesis(junk: int) -> Genesis:
    genesis = build_default_genesis()
    genesis.accounts.append(
        GenesisAccount(
            account_id=USDT,
            balance=50 * NEAR,
            secret_keys=[KeyPair.generate().secret_key],
            code_name="fungible_token",
        )
    )
    metadata = {
        "spec": "ft-1.0.0",
        "name": "USDT",
        "symbol": "USDT",
        "icon": None,
        "reference": None,
        "reference_hash": None,
        "decimals": 6,
    }
    calls = [
        _call(
            USDT,
            USDT,
            "new",
            {"owner_id": MARKET, "total_supply": str(10**7 * 10**6), "metadata": metadata},
        ),
        *(
            _call(ROOT, USDT, "storage_deposit", {"account_id": a}, STORAGE_BALANCE)
            for a in (EXCHANGE, ALICE)
        ),
        _call(ROOT, EXCHANGE, "extend_whitelisted_tokens", {"tokens": [USDT]}),
        *(
            _call(
                MARKET,
                token,
                "ft_transfer_call",
                {"receiver_id": EXCHANGE, "amount": str(STABLE_DEPTH + 10**6), "msg": ""},
                1,
            )
            for token in (USDT, USDC)
        ),
        _call(
            ROOT,
            EXCHANGE,
            "add_stable_swap_pool",
            {"tokens": [USDT, USDC], "decimals": [6, 6], "fee": 5, "amp_factor": 240},
            POOL_DEPOSIT,
        ),
        _call(
            MARKET,
            EXCHANGE,
            "add_stable_liquidity",
            {
                "pool_id": STABLE_POOL,
                "amounts": [str(STABLE_DEPTH), str(STABLE_DEPTH)],
                "min_shares": "1",
            },
            LP_STORAGE_COST,
        ),
        _call(MARKET, USDT, "ft_transfer", {"receiver_id": ALICE, "amount": str(ALICE_USDT)}, 1),
        _call(ROOT, EXCHANGE, "register_rated_token", {"rate_type": "STNEAR", "token_id": REF}, 1),
        _call(ROOT, EXCHANGE, "set_token_rate", {"token_id": REF, "rate": str(REF_RATE)}, 1),
        _call(MARKET, WRAP, "near_deposit", {}, RATED_NEAR),
        *(
            _call(
                MARKET,
                token,
                "ft_transfer_call",
                {"receiver_id": EXCHANGE, "amount": str(amount), "msg": ""},
                1,
            )
            for token, amount in ((WRAP, RATED_NEAR), (REF, RATED_REF))
        ),
        _call(
            ROOT,
            EXCHANGE,
            "add_rated_swap_pool",
            {"tokens": [WRAP, REF], "decimals": [24, 18], "fee": 5, "amp_factor": 240},
            POOL_DEPOSIT,
        ),
        _call(
            MARKET,
            EXCHANGE,
            "add_stable_liquidity",
            {
                "pool_id": RATED_POOL,
                "amounts": [str(RATED_NEAR), str(RATED_REF)],
                "min_shares": "1",
            },
            LP_STORAGE_COST,
        ),
    ]
    pairs = [(WRAP, USDC), (USDC, REF), (WRAP, REF)]
    for n in range(junk):
        left, right = pairs[n % len(pairs)]
        calls.append(
            _call(
                MARKET,
                EXCHANGE,
                "add_simple_pool",
                {"tokens": [left, right], "fee": 30},
                POOL_DEPOSIT,
            )
        )
    genesis.setup_calls.extend(calls)
    genesis.manifest["tokens"].append({"symbol": "USDT", "contract_id": USDT, "decimals": 6})
    return genesis


async def add_pools(ctx: Any, count: int) -> None:
    """``count`` new empty wNEAR/USDC pools created by ``ctx``'s account, as anyone may."""
    from tools.action import FunctionCallSpec, TransactionSpec

    for _ in range(count):
        spec = TransactionSpec(
            signer_id=ctx.account_id,
            receiver_id=EXCHANGE,
            actions=(
                FunctionCallSpec(
                    method_name="add_simple_pool",
                    args={"tokens": [WRAP, USDC], "fee": 30},
                    gas=30 * 10**12,
                    deposit=POOL_DEPOSIT,
                ),
            ),
        )
        await ctx.chain.send(ctx.credentials, spec)


def decode_view(params: Any) -> tuple[str, dict[str, Any]]:
    """(method_name, args) of a ``query call_function`` request."""
    args = base64.b64decode(params.get("args_base64") or "")
    return params["method_name"], json.loads(args or b"{}")
