"""A devnet shaped like mainnet (or testnet): its account names, token ids and decimals, and
thousands of Ref-like pools of every kind and role (see devnet.genesis_pools).

As in the default genesis, everything after the accounts is set up through ordinary contract
calls (``setup_calls``), so the state is what the same calls would produce on a real chain: about
ten thousand calls for five thousand pools, applied in a second or two at every start.

The manifest has the default genesis's format (root/user/market accounts, wrap_id, tokens,
exchange with its pools, accounts with key files), and also ``network_id`` (the network whose
names this devnet uses), ``genesis`` (the shape's name) and, per pool, ``pool_kind``, ``role``
and (stable and rated pools) ``amp``. There is no tasks or notary contract: mainnet and testnet
have none. stNEAR answers its price in NEAR as Meta Pool's contract does; the exchange reads it
at genesis (``update_token_rate``) and, as on Ref, that rate expires after 24 hours of chain time
(the rated pool then refuses swaps) until anyone calls ``update_token_rate`` again.
"""

from __future__ import annotations

import time
from typing import Any

from devnet.contracts.exchange import LP_STORAGE_COST, POOL_STORAGE_COST, stable_pool_storage_cost
from devnet.contracts.fungible_token import STORAGE_BALANCE
from devnet.genesis import Genesis, GenesisAccount, SetupCall
from devnet.genesis_pools import (
    RATED_SWAP,
    SIMPLE_POOL,
    STABLE_SWAP,
    JunkToken,
    PlannedPool,
    PoolPlan,
    amount_for_value,
    plan_pools,
)
from devnet.genesis_shapes import (
    DOLLAR,
    MAINNET,
    STNEAR_RATE,
    TESTNET,
    NetworkShape,
    ShapeToken,
)
from tools.keypair import KeyPair

NEAR = 10**24
DEFAULT_POOLS = {MAINNET.network_id: 5_000, TESTNET.network_id: 1_000}
DEFAULT_SEED = 13
USERS = ("alice", "bob", "carol")
USER_NEAR = 100 * NEAR
# whole tokens each user holds at genesis, by symbol (wNEAR: none; users swap NEAR itself)
USER_TOKENS = {"USDC": 1_000, "USDT": 1_000, "USDC.e": 100, "USDT.e": 100, "REF": 500}
JUNK_SUPPLY_SPARE = 1_000  # whole tokens the market maker keeps outside the pools
MARKET_INVENTORY = 1_000_000 * DOLLAR  # of each listed token, for `near-agent devnet --market`
CREATE_METHODS = {STABLE_SWAP: "add_stable_swap_pool", RATED_SWAP: "add_rated_swap_pool"}


def build_public_genesis(
    shape: NetworkShape, pools: int | None = None, seed: int = DEFAULT_SEED
) -> Genesis:
    """A fresh genesis shaped like ``shape``: new keys, genesis time now, ``pools`` pools."""
    count = DEFAULT_POOLS[shape.network_id] if pools is None else pools
    world = _World(shape, plan_pools(shape, count, seed))
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


def _call(
    signer: str, receiver: str, method: str, args: dict[str, Any], deposit: int = 0
) -> SetupCall:
    return SetupCall(
        signer_id=signer, receiver_id=receiver, method_name=method, args=args, deposit=deposit
    )


class _World:
    """One shape's accounts and the calls that set its contracts up."""

    def __init__(self, shape: NetworkShape, plan: PoolPlan) -> None:
        self.shape = shape
        self.plan = plan
        self.root = shape.root
        self.market = shape.account("market-maker")
        self.users = [shape.account(name) for name in USERS]
        self.deposits = plan.deposits()
        self.decimals = {t.contract_id: t.decimals for t in shape.tokens}

    # -- accounts ---------------------------------------------------------------------------

    def accounts(self) -> list[GenesisAccount]:
        s = self.shape
        keyed: list[tuple[str, int, str | None]] = [
            (self.root, 1_000_000_000 * NEAR, None),
            *((user, USER_NEAR, None) for user in self.users),
            (self.market, self._market_near(), None),
            (s.exchange_owner, 1_000 * NEAR, None),
            (s.wrap.contract_id, 50 * NEAR, "wrapped_near"),
            *((t.contract_id, 50 * NEAR, _code(t, s)) for t in s.tokens if t is not s.wrap),
            # Ref keeps outputs in a user's own lost-and-found only while it holds 100 NEAR free
            (s.exchange, 1_000 * NEAR, "exchange"),
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
        # worthless tokens have no keys (nobody signs for them): no key files for a hundred
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
        return wrapped + storage + amount_for_value(self.shape.wrap, MARKET_INVENTORY)

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
        wrap = s.wrap.contract_id
        calls = [_call(wrap, wrap, "new", {})]
        for token in s.tokens:
            if token is not s.wrap:
                user_units = _units(token, USER_TOKENS.get(token.symbol, 0))
                inventory = amount_for_value(token, MARKET_INVENTORY)
                supply = self.deposits[token.contract_id] + len(self.users) * user_units + inventory
                calls.append(self._ft_new(token, supply))
        for junk in self.plan.junk:
            spare = JUNK_SUPPLY_SPARE * 10**junk.decimals
            calls.append(self._ft_new(junk, self.deposits[junk.contract_id] + spare))
        for token in s.tokens:
            calls += [
                self._storage_deposit(token.contract_id, a) for a in (s.exchange, *self.users)
            ]
        calls.append(self._storage_deposit(wrap, self.market))
        calls += [self._storage_deposit(j.contract_id, s.exchange) for j in self.plan.junk]
        return calls

    def _ft_new(self, token: ShapeToken | JunkToken, supply: int) -> SetupCall:
        """Initialise a token with its whole supply minted to the market maker."""
        name = token.name if isinstance(token, ShapeToken) else token.symbol
        metadata = {
            "spec": "ft-1.0.0",
            "name": name,
            "symbol": token.symbol,
            "icon": None,
            "reference": None,
            "reference_hash": None,
            "decimals": token.decimals,
        }
        args = {"owner_id": self.market, "total_supply": str(supply), "metadata": metadata}
        return _call(token.contract_id, token.contract_id, "new", args)

    def _storage_deposit(self, token: str, account: str) -> SetupCall:
        return _call(self.root, token, "storage_deposit", {"account_id": account}, STORAGE_BALANCE)

    def _exchange_calls(self) -> list[SetupCall]:
        s = self.shape
        owner, exchange, stnear = s.exchange_owner, s.exchange, s.stnear.contract_id
        new = {"owner_id": owner, "exchange_fee": 0, "referral_fee": 0}
        listed = [t.contract_id for t in s.tokens]
        junk = [j.contract_id for j in self.plan.junk]
        rated = {"rate_type": "STNEAR", "token_id": stnear}
        return [
            _call(exchange, exchange, "new", new),
            _call(owner, exchange, "extend_whitelisted_tokens", {"tokens": listed}),
            _call(self.market, exchange, "storage_deposit", {}, NEAR),
            # worthless tokens are not whitelisted: the provider registers them for itself
            _call(self.market, exchange, "register_tokens", {"token_ids": junk}, 1),
            # the rated pool's stNEAR: its contract's price, read by the exchange at genesis
            _call(self.market, stnear, "set_price", {"price": str(STNEAR_RATE)}),
            _call(owner, exchange, "register_rated_token", rated, 1),
            _call(self.market, exchange, "update_token_rate", {"token_id": stnear}),
        ]

    def _liquidity_calls(self) -> list[SetupCall]:
        s = self.shape
        wrap = s.wrap.contract_id
        calls = [_call(self.market, wrap, "near_deposit", {}, self.deposits[wrap])]
        for token, amount in sorted(self.deposits.items()):
            if amount > 0:
                args = {"receiver_id": s.exchange, "amount": str(amount), "msg": ""}
                calls.append(_call(self.market, token, "ft_transfer_call", args, 1))
        for pool_id, pool in enumerate(self.plan.pools):
            calls += self._pool_calls(pool_id, pool)
        return calls

    def _pool_calls(self, pool_id: int, pool: PlannedPool) -> list[SetupCall]:
        """Create one pool and fund it. Stable and rated pools are created by the exchange's
        owner (Ref lets only its owner and guardians create them), simple ones by anyone."""
        exchange = self.shape.exchange
        tokens = list(pool.tokens)
        amounts = [str(a) for a in pool.amounts]
        if pool.kind == SIMPLE_POOL:
            args: dict[str, Any] = {"tokens": tokens, "fee": pool.fee_bps}
            create = _call(self.market, exchange, "add_simple_pool", args, POOL_STORAGE_COST)
            add = _call(
                self.market,
                exchange,
                "add_liquidity",
                {"pool_id": pool_id, "amounts": amounts},
                LP_STORAGE_COST,
            )
        else:
            args = {
                "tokens": tokens,
                "decimals": [self.decimals[t] for t in tokens],
                "fee": pool.fee_bps,
                "amp_factor": pool.amp,
            }
            cost = stable_pool_storage_cost(len(tokens))
            create = _call(
                self.shape.exchange_owner, exchange, CREATE_METHODS[pool.kind], args, cost
            )
            add = _call(
                self.market,
                exchange,
                "add_stable_liquidity",
                {"pool_id": pool_id, "amounts": amounts, "min_shares": "0"},
                LP_STORAGE_COST,
            )
        return [create, add] if any(pool.amounts) else [create]

    def _user_calls(self) -> list[SetupCall]:
        calls = []
        for token in self.shape.tokens:
            whole = USER_TOKENS.get(token.symbol, 0)
            for user in self.users if whole else ():
                args = {"receiver_id": user, "amount": str(_units(token, whole))}
                calls.append(_call(self.market, token.contract_id, "ft_transfer", args, 1))
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
                    _pool_entry(pool_id, pool) for pool_id, pool in enumerate(self.plan.pools)
                ],
            },
        }


def _pool_entry(pool_id: int, pool: PlannedPool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "pool_id": pool_id,
        "token_account_ids": list(pool.tokens),
        "total_fee": pool.fee_bps,
        "pool_kind": pool.kind,
        "role": pool.role,
    }
    if pool.amp:
        entry["amp"] = pool.amp
    return entry


def _code(token: ShapeToken, shape: NetworkShape) -> str:
    """The contract a listed token runs: stNEAR also answers its price in NEAR."""
    return "rated_token" if token is shape.stnear else "fungible_token"


def _units(token: ShapeToken, whole: int) -> int:
    return whole * 10**token.decimals
