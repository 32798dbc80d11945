"""A devnet shaped like mainnet (or testnet): its account names, token ids and decimals, and
thousands of Ref-like pools of every kind (see devnet.genesis_pools).

As in the default genesis, everything after the accounts is set up through ordinary contract
calls (``setup_calls``), so the state is what the same calls would produce on a real chain. Five
thousand pools take about ten thousand calls, applied in well under a second or two at start.

The manifest has the default genesis's format (root/user/market accounts, wrap_id, tokens,
exchange with its pools, accounts with key files), and also: ``network_id`` (the network whose
names this devnet uses), ``genesis`` (the shape's name) and, per pool, its ``role``. There is no
tasks or notary contract: mainnet and testnet have none.
"""

from __future__ import annotations

import time
from typing import Any

from devnet.contracts.exchange import LP_STORAGE_COST, POOL_STORAGE_COST
from devnet.contracts.fungible_token import STORAGE_BALANCE
from devnet.genesis import Genesis, GenesisAccount, SetupCall
from devnet.genesis_pools import PoolPlan, plan_pools
from devnet.genesis_shapes import MAINNET, SHAPES, TESTNET, NetworkShape, ShapeToken
from tools.keypair import KeyPair

NEAR = 10**24
DEFAULT_POOLS = {MAINNET.network_id: 5_000, TESTNET.network_id: 1_000}
DEFAULT_SEED = 13
USERS = ("alice", "bob", "carol")
USER_NEAR = 100 * NEAR
# whole tokens each user holds at genesis, by symbol (wNEAR: none; users swap NEAR itself)
USER_TOKENS = {"USDC": 1_000, "USDT": 1_000, "USDC.e": 100, "USDT.e": 100, "REF": 500}
JUNK_SUPPLY_SPARE = 1_000  # whole tokens the market maker keeps outside the pools


def build_public_genesis(
    shape: NetworkShape, pools: int | None = None, seed: int = DEFAULT_SEED
) -> Genesis:
    """A fresh genesis shaped like ``shape``: new keys, genesis time now, ``pools`` pools."""
    count = DEFAULT_POOLS[shape.network_id] if pools is None else pools
    plan = plan_pools(shape, count, seed)
    world = _World(shape, plan)
    return Genesis(
        genesis_time_ns=time.time_ns(),
        accounts=world.accounts(),
        setup_calls=world.setup_calls(),
        manifest=world.manifest(),
    )


def build_mainnet_genesis(pools: int | None = None, seed: int = DEFAULT_SEED) -> Genesis:
    return build_public_genesis(MAINNET, pools, seed)


def build_testnet_genesis(pools: int | None = None, seed: int = DEFAULT_SEED) -> Genesis:
    return build_public_genesis(TESTNET, pools, seed)


def shape_of(genesis: Genesis) -> NetworkShape | None:
    """The shape a genesis was built from (None: the default or another genesis)."""
    return SHAPES.get(str(genesis.manifest.get("genesis")))


class _World:
    """One shape's accounts and the calls that set its contracts up."""

    def __init__(self, shape: NetworkShape, plan: PoolPlan) -> None:
        self.shape = shape
        self.plan = plan
        self.root = shape.root
        self.market = shape.account("market-maker")
        self.users = [shape.account(name) for name in USERS]
        self.deposits = plan.deposits()

    # -- accounts ---------------------------------------------------------------------------

    def accounts(self) -> list[GenesisAccount]:
        s = self.shape
        keyed: list[tuple[str, int, str | None]] = [
            (self.root, 1_000_000_000 * NEAR, None),
            *((user, USER_NEAR, None) for user in self.users),
            (self.market, self._market_near(), None),
            (s.exchange_owner, 1_000 * NEAR, None),
            (s.wrap.contract_id, 50 * NEAR, "wrapped_near"),
            *((t.contract_id, 50 * NEAR, "fungible_token") for t in s.tokens if t is not s.wrap),
            (s.exchange, 50 * NEAR, "exchange"),
        ]
        accounts = [
            GenesisAccount(
                account_id=account,
                balance=balance,
                secret_keys=[KeyPair.generate().secret_key],
                code_name=code,
            )
            for account, balance, code in keyed
        ]
        # worthless tokens: no keys (nobody signs for them), so no key files for hundreds
        accounts += [
            GenesisAccount(
                account_id=t.contract_id,
                balance=5 * NEAR,
                secret_keys=[],
                code_name="fungible_token",
            )
            for t in self.plan.junk
        ]
        return accounts

    def _market_near(self) -> int:
        wrapped = self.deposits[self.shape.wrap.contract_id]
        storage = len(self.plan.pools) * (POOL_STORAGE_COST + LP_STORAGE_COST)
        return wrapped + storage + 10_000 * NEAR

    # -- setup calls ------------------------------------------------------------------------

    def setup_calls(self) -> list[SetupCall]:
        return (
            self._token_calls()
            + self._exchange_calls()
            + self._liquidity_calls()
            + self._user_calls()
        )

    def _token_calls(self) -> list[SetupCall]:
        s = self.shape
        calls = [
            SetupCall(
                signer_id=s.wrap.contract_id,
                receiver_id=s.wrap.contract_id,
                method_name="new",
                args={},
            )
        ]
        for token in s.tokens:
            if token is s.wrap:
                continue
            supply = self.deposits[token.contract_id] + len(self.users) * _units(
                token, USER_TOKENS[token.symbol]
            )
            calls.append(
                _ft_new(
                    token.contract_id, self.market, supply, token.symbol, token.name, token.decimals
                )
            )
        for junk in self.plan.junk:
            spare = JUNK_SUPPLY_SPARE * 10**junk.decimals
            supply = self.deposits[junk.contract_id] + spare
            calls.append(
                _ft_new(
                    junk.contract_id, self.market, supply, junk.symbol, junk.symbol, junk.decimals
                )
            )
        registered = [s.exchange, *self.users]
        for token in s.tokens:
            for account in registered:
                calls.append(self._storage_deposit(token.contract_id, account))
        calls.append(self._storage_deposit(s.wrap.contract_id, self.market))
        calls += [self._storage_deposit(j.contract_id, s.exchange) for j in self.plan.junk]
        return calls

    def _storage_deposit(self, token: str, account: str) -> SetupCall:
        return SetupCall(
            signer_id=self.root,
            receiver_id=token,
            method_name="storage_deposit",
            args={"account_id": account},
            deposit=STORAGE_BALANCE,
        )

    def _exchange_calls(self) -> list[SetupCall]:
        s = self.shape
        junk = [j.contract_id for j in self.plan.junk]
        return [
            SetupCall(
                signer_id=s.exchange,
                receiver_id=s.exchange,
                method_name="new",
                args={"owner_id": s.exchange_owner, "exchange_fee": 0, "referral_fee": 0},
            ),
            SetupCall(
                signer_id=s.exchange_owner,
                receiver_id=s.exchange,
                method_name="extend_whitelisted_tokens",
                args={"tokens": [t.contract_id for t in s.tokens]},
            ),
            SetupCall(
                signer_id=self.market,
                receiver_id=s.exchange,
                method_name="storage_deposit",
                args={},
                deposit=NEAR,
            ),
            # worthless tokens are not whitelisted: the provider registers them for itself
            SetupCall(
                signer_id=self.market,
                receiver_id=s.exchange,
                method_name="register_tokens",
                args={"token_ids": junk},
                deposit=1,
            ),
        ]

    def _liquidity_calls(self) -> list[SetupCall]:
        s = self.shape
        wrap = s.wrap.contract_id
        calls = [
            SetupCall(
                signer_id=self.market,
                receiver_id=wrap,
                method_name="near_deposit",
                args={},
                deposit=self.deposits[wrap],
            )
        ]
        for token, amount in sorted(self.deposits.items()):
            if amount > 0:
                calls.append(
                    SetupCall(
                        signer_id=self.market,
                        receiver_id=token,
                        method_name="ft_transfer_call",
                        args={"receiver_id": s.exchange, "amount": str(amount), "msg": ""},
                        deposit=1,
                    )
                )
        for pool_id, pool in enumerate(self.plan.pools):
            calls.append(
                SetupCall(
                    signer_id=self.market,
                    receiver_id=s.exchange,
                    method_name="add_simple_pool",
                    args={"tokens": list(pool.tokens), "fee": pool.fee_bps},
                    deposit=POOL_STORAGE_COST,
                )
            )
            if any(pool.amounts):
                calls.append(
                    SetupCall(
                        signer_id=self.market,
                        receiver_id=s.exchange,
                        method_name="add_liquidity",
                        args={"pool_id": pool_id, "amounts": [str(a) for a in pool.amounts]},
                        deposit=LP_STORAGE_COST,
                    )
                )
        return calls

    def _user_calls(self) -> list[SetupCall]:
        calls = []
        for token in self.shape.tokens:
            whole = USER_TOKENS.get(token.symbol, 0)
            for user in self.users if whole else ():
                calls.append(
                    SetupCall(
                        signer_id=self.market,
                        receiver_id=token.contract_id,
                        method_name="ft_transfer",
                        args={"receiver_id": user, "amount": str(_units(token, whole))},
                        deposit=1,
                    )
                )
        return calls

    # -- manifest ---------------------------------------------------------------------------

    def manifest(self) -> dict[str, Any]:
        s = self.shape
        return {
            "network_id": s.network_id,
            "genesis": s.network_id,
            "root_account": self.root,
            "user_account": self.users[0],
            "market_account": self.market,
            "wrap_id": s.wrap.contract_id,
            "tokens": [
                {"symbol": t.symbol, "contract_id": t.contract_id, "decimals": t.decimals}
                for t in s.tokens
            ],
            "exchange": {
                "contract_id": s.exchange,
                "pools": [
                    {
                        "pool_id": pool_id,
                        "token_account_ids": list(pool.tokens),
                        "total_fee": pool.fee_bps,
                        "pool_kind": pool.kind,
                        "role": pool.role,
                    }
                    for pool_id, pool in enumerate(self.plan.pools)
                ],
            },
        }


def _units(token: ShapeToken, whole: int) -> int:
    return whole * 10**token.decimals


def _ft_new(
    contract: str, owner: str, supply: int, symbol: str, name: str, decimals: int
) -> SetupCall:
    metadata = {
        "spec": "ft-1.0.0",
        "name": name,
        "symbol": symbol,
        "icon": None,
        "reference": None,
        "reference_hash": None,
        "decimals": decimals,
    }
    return SetupCall(
        signer_id=contract,
        receiver_id=contract,
        method_name="new",
        args={"owner_id": owner, "total_supply": str(supply), "metadata": metadata},
    )
