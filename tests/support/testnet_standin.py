"""A devnet standing in for testnet: testnet's account names, the token ids near-agent ships for it.

The genesis deploys wrap.testnet, Circle's testnet USDC (a 64-hex implicit account) and Ref's
fake USDt (usdtt.fakes.testnet) at the ids in ``tools.network_catalog``, and a Ref-compatible
exchange at ref-finance-101.testnet with deep wNEAR/USDC and wNEAR/USDt pools (about 3 USD per
NEAR). A home configured with ``network: testnet`` and ``rpc_url`` at this node then runs on the
shipped testnet configuration exactly as it would on testnet. Everything is set up through the
same contract calls the default genesis uses (devnet/genesis_default.py).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml

from agent.home import Home
from devnet.contracts.exchange import LP_STORAGE_COST, POOL_STORAGE_COST
from devnet.contracts.fungible_token import STORAGE_BALANCE
from devnet.genesis import Genesis, GenesisAccount, SetupCall
from devnet.server import RunningDevnet
from tools.keypair import KeyPair
from tools.network_catalog import shipped

NEAR = 10**24
CATALOG = shipped("testnet")
assert CATALOG is not None
ROOT, ALICE, MARKET = "testnet", "alice.testnet", "market.testnet"
EXCHANGE = CATALOG.contracts["exchange"] or ""
WRAP = CATALOG.contracts["wrap"] or ""
LISTED = {t.symbol: t for t in CATALOG.tokens}
USDC, USDT = LISTED["USDC"].contract_id, LISTED["USDt"].contract_id
STABLES = ((USDC, "USDC"), (USDT, "USDt"))  # 6 decimals each
POOLS = ((WRAP, 100_000, USDC, 300_000), (WRAP, 100_000, USDT, 300_000))
ALICE_USDC = 1_000


def _units(contract: str, whole: int) -> int:
    return whole * 10 ** (24 if contract == WRAP else 6)


def _account(account_id: str, balance: int, code: str | None = None) -> GenesisAccount:
    return GenesisAccount(
        account_id=account_id,
        balance=balance,
        secret_keys=[KeyPair.generate().secret_key],
        code_name=code,
    )


def _call(signer: str, receiver: str, method: str, args: dict[str, Any], deposit: int = 0) -> Any:
    return SetupCall(
        signer_id=signer, receiver_id=receiver, method_name=method, args=args, deposit=deposit
    )


def standin_genesis() -> Genesis:
    """Testnet's names on a fresh devnet: accounts, tokens, the exchange and its pools."""
    accounts = [
        _account(ROOT, 1_000_000_000 * NEAR),
        _account(ALICE, 100 * NEAR),
        _account(MARKET, 500_000 * NEAR),
        _account(WRAP, 50 * NEAR, "wrapped_near"),
        _account(USDC, 50 * NEAR, "fungible_token"),
        _account(USDT, 50 * NEAR, "fungible_token"),
        _account(EXCHANGE, 50 * NEAR, "exchange"),
    ]
    calls = [_call(WRAP, WRAP, "new", {})]
    for contract, symbol in STABLES:
        metadata = {"spec": "ft-1.0.0", "name": symbol, "symbol": symbol, "decimals": 6}
        supply = str(_units(contract, 10_000_000))
        calls.append(
            _call(
                contract,
                contract,
                "new",
                {"owner_id": MARKET, "total_supply": supply, "metadata": metadata},
            )
        )
    calls += [
        _call(
            EXCHANGE,
            EXCHANGE,
            "new",
            {"owner_id": ROOT, "exchange_fee": 0, "referral_fee": 0},
        ),
        _call(ROOT, EXCHANGE, "extend_whitelisted_tokens", {"tokens": [WRAP, USDC, USDT]}),
    ]
    for contract in (WRAP, USDC, USDT):
        for account in (EXCHANGE, ALICE, *((MARKET,) if contract == WRAP else ())):
            calls.append(
                _call(
                    ROOT,
                    contract,
                    "storage_deposit",
                    {"account_id": account},
                    STORAGE_BALANCE,
                )
            )
    wrapped = sum(left_amount for _, left_amount, _, _ in POOLS)
    calls += [
        _call(MARKET, WRAP, "near_deposit", {}, wrapped * NEAR),
        _call(MARKET, EXCHANGE, "storage_deposit", {}, NEAR),
    ]
    deposits: dict[str, int] = {}
    for left, left_amount, right, right_amount in POOLS:
        deposits[left] = deposits.get(left, 0) + _units(left, left_amount)
        deposits[right] = deposits.get(right, 0) + _units(right, right_amount)
    for token, amount in deposits.items():
        args = {"receiver_id": EXCHANGE, "amount": str(amount), "msg": ""}
        calls.append(_call(MARKET, token, "ft_transfer_call", args, 1))
    for pool_id, (left, left_amount, right, right_amount) in enumerate(POOLS):
        calls.append(
            _call(
                MARKET,
                EXCHANGE,
                "add_simple_pool",
                {"tokens": [left, right], "fee": 30},
                POOL_STORAGE_COST,
            )
        )
        amounts = [str(_units(left, left_amount)), str(_units(right, right_amount))]
        calls.append(
            _call(
                MARKET,
                EXCHANGE,
                "add_liquidity",
                {"pool_id": pool_id, "amounts": amounts},
                LP_STORAGE_COST,
            )
        )
    args = {"receiver_id": ALICE, "amount": str(_units(USDC, ALICE_USDC))}
    calls.append(_call(MARKET, USDC, "ft_transfer", args, 1))
    return Genesis(
        chain_id="testnet-standin",
        genesis_time_ns=time.time_ns(),
        accounts=accounts,
        setup_calls=calls,
        manifest={"user_account": ALICE},
    )


def swap_grants(expires_at: str, per_action_usd: str = "50") -> dict[str, Any]:
    """A grants file for swaps between NEAR and testnet's USDC on Ref's testnet exchange."""
    return {
        "tokens": {
            "wNEAR": {"contract_id": WRAP, "decimals": 24},
            "USDC": {"contract_id": USDC, "decimals": 6},
        },
        "grants": [
            {
                "id": "testnet-swaps",
                "expires_at": expires_at,
                "kinds": ["swap"],
                "tokens": ["NEAR", "wNEAR", "USDC"],
                "exchanges": [EXCHANGE],
                "per_action_usd": per_action_usd,
                "max_slippage_bps": 100,
                "quote_max_age": "60s",
            }
        ],
    }


def write_testnet_home(home: Home, node: RunningDevnet, **extra: Any) -> Path:
    """HOME/agent.yaml as a testnet user writes it, pointed at ``node``; ``extra`` settings
    (contracts, tokens, stablecoins, planner, ...) are added as written."""
    key_file = node.state_dir / "keys" / f"{ALICE}.json"
    body: dict[str, Any] = {
        "network": "testnet",
        "rpc_url": node.rpc_url,
        "account_id": ALICE,
        "key_file": str(key_file),
        **extra,
    }
    home.root.mkdir(parents=True, exist_ok=True)
    home.config_file.write_text(yaml.safe_dump(body, sort_keys=False))
    return home.config_file
