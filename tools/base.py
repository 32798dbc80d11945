"""What every tool shares: the context it runs in, its result, and the execute loop.

A tool is ``prepare(args, ctx) -> CanonicalAction`` (read the chain, compute the exact
transactions; nothing is signed) and ``execute(action, ctx) -> ToolResult`` (sign exactly
``action.transactions`` in order, wait for each final outcome, check every receipt, measure the
balance changes). Limits such as the default slippage live in the context (from the user's
configuration), never in the arguments the planner fills in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from tools.action import NEAR, CanonicalAction, TransactionSpec
from tools.amounts import format_amount
from tools.chain import REQUESTS_TO_SEND, ChainClient
from tools.chain_setup import RpcSettings, chain_client_for
from tools.errors import (
    CredentialsError,
    InsufficientBalanceError,
    NotConfiguredError,
    RpcError,
    ToolError,
    TransactionFailedError,
)
from tools.ft import ft_balance_of
from tools.keys import Credentials, find_credentials, load_credentials
from tools.keystore import Keystore
from tools.network import Network, configured_network, devnet_from_manifest
from tools.network_catalog import ContractRole
from tools.nonce_ledger import NonceLedger, NonceSource
from tools.outcome import TxOutcome
from tools.rpc_values import parse_uint, short
from tools.signers import KeyRing, keyring_from_keystore, send_narrowest
from tools.signing import SignedTx
from tools.tokens import NEAR_DECIMALS, TokenRegistry

if TYPE_CHECKING:
    from tools.market import Market

OnSigned = Callable[[SignedTx, TransactionSpec], Any]
"""Called with each signed transaction and its spec before it is first sent: journal it."""

SignedInt = Annotated[int, PlainSerializer(str, return_type=str, when_used="json")]

TGAS = 10**12
ONE_YOCTO = 1


class ToolArgs(BaseModel):
    """Base for argument models: unknown fields are refused, values are never coerced silently."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ToolResult(BaseModel):
    """What happened. Amounts are integers in base units (JSON strings)."""

    model_config = ConfigDict(extra="forbid")

    tool: str
    ok: bool = True
    summary: str = ""
    tx_hashes: list[str] = Field(default_factory=list)
    transactions: list[dict[str, Any]] = Field(default_factory=list)  # per tx: status, receipts
    balance_changes: dict[str, SignedInt] = Field(default_factory=dict)  # flow id -> delta
    explorer_links: list[str] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict)


ArgsT = TypeVar("ArgsT", bound=ToolArgs)

# Every tool class declared so far, by name (filled by ``Tool.__init_subclass__``).
_DECLARED: dict[str, type[Tool[Any]]] = {}


class Tool(Generic[ArgsT]):
    """A tool is declared once, by its class: everything else (the plan's tool names and
    argument models, the planners' schemas, the policy's kinds, what grounding checks) is read
    from the declared classes (see ``tools.registry``).

    Subclasses set the ClassVars below; defining the class declares the tool.
    """

    name: ClassVar[str]
    description: ClassVar[str]  # one line, shown to the model
    Args: ClassVar[type[ToolArgs]]
    read_only: ClassVar[bool] = False  # signs nothing; policy kind "read_only"
    moves_funds: ClassVar[bool] = False  # pays or sells tokens (caps and allowlists apply)
    # contract methods the tool calls directly (no token flow): each is allowlisted per grant
    contract_methods: ClassVar[tuple[str, ...]] = ()
    # the fields an acting step must take unchanged from the user's words (planner grounding)
    grounded_fields: ClassVar[tuple[str, ...]] = ()
    asks_to: ClassVar[str] = ""  # what the user asks for, e.g. "send", for refusals
    # the network contracts it cannot run without (tools.network_catalog.CONTRACT_ROLES); a
    # network without one of them does not offer the tool (tools.registry.unavailable)
    needs_contracts: ClassVar[tuple[ContractRole, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("name")
        if name is None:
            return  # an abstract intermediate class
        known = _DECLARED.get(name)
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise TypeError(f"tool {name!r} is declared twice ({known.__qualname__}, {cls})")
        _DECLARED[name] = cls

    @classmethod
    def implied_kind(cls) -> str:
        """What the policy's decoder must find the action's transactions amount to."""
        return "read_only" if cls.read_only else cls.name

    async def prepare(self, args: ArgsT, ctx: ToolContext) -> CanonicalAction:
        raise NotImplementedError

    async def execute(
        self, action: CanonicalAction, ctx: ToolContext, on_signed: OnSigned | None = None
    ) -> ToolResult:
        raise NotImplementedError


def declared_tools() -> dict[str, type[Tool[Any]]]:
    """The tool classes defined so far, by name (``tools.registry`` imports them all first)."""
    return dict(_DECLARED)


def forget_tool(name: str) -> None:
    """Undeclare a tool (for tests that declare a throwaway one)."""
    _DECLARED.pop(name, None)


@dataclass
class ToolContext:
    """The account, network, keys and user-set limits a tool runs with."""

    network: Network
    chain: ChainClient
    account_id: str
    credentials: Credentials | None = field(default=None, repr=False)
    # the keys to sign with, narrowest first (function-call keys); None = only ``credentials``
    keyring: KeyRing | None = field(default=None, repr=False)
    tokens: TokenRegistry = None  # type: ignore[assignment]  # filled in __post_init__
    max_slippage_bps: int = 50
    quote_max_age_s: float = 30.0
    # the exchange's pools as this intent sees them (tools.market); made on first use if None
    market: Market | None = field(default=None, repr=False)
    # the chain's gas price (yoctoNEAR per gas unit) and when it was read (time.monotonic)
    gas_price_read: tuple[int, float] | None = field(default=None, repr=False)
    gas: dict[str, int] = field(
        default_factory=lambda: {
            "default": 30 * TGAS,
            "ft_transfer": 30 * TGAS,
            "ft_transfer_call": 180 * TGAS,
            "storage_deposit": 30 * TGAS,
            "near_deposit": 10 * TGAS,
            "near_withdraw": 30 * TGAS,
            "claim_lostfound": 100 * TGAS,  # Ref's ft_transfer and its callback
        }
    )

    def __post_init__(self) -> None:
        if self.tokens is None:
            self.tokens = TokenRegistry.for_network(self.chain, self.network)
        if self.credentials is not None and self.credentials.account_id != self.account_id:
            raise CredentialsError(
                f"the key is for {self.credentials.account_id}, not {self.account_id}"
            )
        if not 0 <= self.max_slippage_bps <= 10_000:
            raise ValueError("max_slippage_bps must be within 0..10000")

    @classmethod
    def create(
        cls,
        network: Network,
        account_id: str,
        credentials: Credentials | None = None,
        *,
        max_slippage_bps: int = 50,
        timeout_s: float = 10.0,
        retries: int = 3,
        nonces: NonceSource | None = None,
        rpc: RpcSettings | None = None,
    ) -> ToolContext:
        """``nonces`` defaults to this process's own (see tools.nonce_ledger); ``rpc`` is
        agent.yaml's ``rpc:`` section (endpoints, API key, request budget)."""
        chain = chain_client_for(
            network, timeout_s=timeout_s, retries=retries, nonces=nonces, rpc=rpc
        )
        return cls(
            network=network,
            chain=chain,
            account_id=account_id,
            credentials=credentials,
            max_slippage_bps=max_slippage_bps,
        )

    def gas_for(self, method: str) -> int:
        return self.gas.get(method, self.gas["default"])

    @property
    def wrap_id(self) -> str | None:
        """The wNEAR contract that stands for native NEAR on the exchange: the network's, else
        the token table's (one given on its own); None where neither names one."""
        return self.network.wrap_id or self.tokens.wrap_id

    def require_wrap(self, needed_for: str) -> str:
        """:attr:`wrap_id`, or NotConfiguredError saying what needed it (before anything is
        signed, so a network without wNEAR refuses cleanly)."""
        wrap = self.wrap_id
        if not wrap:
            raise NotConfiguredError(
                f"{needed_for} needs a wNEAR contract, and none is configured on "
                f"{self.network.network_id}"
            )
        return wrap

    def require_credentials(self) -> Credentials:
        if self.credentials is None:
            raise CredentialsError(f"no signing key loaded for {self.account_id}")
        return self.credentials

    def holds_key_for(self, account_id: str) -> bool:
        if self.keyring is not None and self.keyring.holds(account_id):
            return True
        return self.credentials is not None and self.credentials.account_id == account_id

    def credentials_for(self, spec: TransactionSpec) -> Credentials:
        """The narrowest key that can sign ``spec`` (a function-call key when one fits)."""
        if self.keyring is None:
            return self.require_credentials()
        return self.keyring.for_spec(spec)

    async def aclose(self) -> None:
        await self.chain.close()


def context_from_manifest(
    manifest: Path | dict[str, Any],
    account_id: str,
    *,
    key_file: Path | None = None,
    max_slippage_bps: int = 50,
    timeout_s: float = 10.0,
    retries: int = 3,
) -> ToolContext:
    """A context on the local devnet; the key comes from ``key_file`` or the manifest's list."""
    network = devnet_from_manifest(manifest)
    path = key_file or network.key_file_for(account_id)
    creds = load_credentials(path, account_id) if path is not None else None
    return ToolContext.create(
        network,
        account_id,
        creds,
        max_slippage_bps=max_slippage_bps,
        timeout_s=timeout_s,
        retries=retries,
    )


def context_from_config(
    config: Any,
    *,
    home_devnet_dir: Path | None = None,
    require_key: bool = True,
    keys_dir: Path | None = None,
    state_dir: Path | None = None,
) -> ToolContext:
    """From the user's AgentConfig (agent.yaml): network, account, key file, rpc, defaults.

    With ``keys_dir`` (HOME/keys) the keys the agent stored there join the key ring, so that
    actions a function-call key can sign are signed with it. With ``state_dir`` (the user's state
    folder, shared by all their homes) nonces come from the nonce ledger there, shared by every
    process of every home of the user, so that two runs never sign with the same nonce; without
    it they are unique within this process only.
    """
    name = config.network
    network = configured_network(
        name,
        rpc_url=config.rpc_url,
        devnet_manifest=config.devnet_manifest,
        home_devnet_dir=home_devnet_dir,
        overrides=config.network_overrides,
    )
    key_file = config.key_file or (
        network.key_file_for(config.account_id) if name == "devnet" else None
    )
    try:
        creds = find_credentials(
            network.network_id if name != "devnet" else "devnet", config.account_id, key_file
        )
    except CredentialsError:
        if require_key:
            raise
        creds = None
    ctx = ToolContext.create(
        network,
        config.account_id,
        creds,
        max_slippage_bps=config.defaults.max_slippage_bps,
        timeout_s=config.rpc.timeout_s,
        retries=config.rpc.retries,
        nonces=NonceLedger(state_dir) if state_dir is not None else None,
        rpc=RpcSettings.from_config(config),
    )
    if keys_dir is not None and creds is not None:
        try:
            ctx.keyring = keyring_from_keystore(
                Keystore(keys_dir), [config.account_id], KeyRing.of(creds)
            )
        except CredentialsError:
            if require_key:
                raise
    return ctx


# --------------------------------------------------------------------------- execution


async def require_token_balance(
    ctx: ToolContext, contract: str, symbol: str, decimals: int, amount: int, verb: str
) -> int:
    """The account's balance of ``contract``; InsufficientBalanceError when below ``amount``."""
    held = await ft_balance_of(ctx.chain, contract, ctx.account_id)
    if amount > held:
        raise InsufficientBalanceError(
            f"cannot {verb} {format_amount(amount, decimals)} {symbol}: the "
            f"account holds {format_amount(held, decimals)} {symbol}",
            needed=str(amount),
            available=str(held),
            token=contract,
        )
    return held


def attached_cost(transactions: Iterable[TransactionSpec], gas_price: int) -> tuple[int, int]:
    """(deposits, prepaid gas in yoctoNEAR) of ``transactions``: what the signer is charged up
    front. nearcore takes every attached deposit and all prepaid gas at the gas price when a
    transaction is accepted and refunds the unused gas later, so the account must hold both."""
    deposits = gas = 0
    for tx in transactions:
        for spec in tx.actions:
            deposits += spec.deposit
            gas += getattr(spec, "gas", 0)
    return deposits, gas * gas_price


GAS_PRICE_TTL_S = 60.0
"""How long a gas price read from the chain is used: one command reads it once, a long-running
daemon again as it moves (nearcore adjusts it every block, within bounds)."""


async def gas_price(ctx: ToolContext) -> int:
    """The chain's current gas price (yoctoNEAR per gas unit), read at most every minute."""
    now = time.monotonic()
    if ctx.gas_price_read is None or now - ctx.gas_price_read[1] > GAS_PRICE_TTL_S:
        answer = await ctx.chain.rpc("gas_price", [None])
        if not isinstance(answer, Mapping) or "gas_price" not in answer:
            raise RpcError(f"the node answered gas_price with {short(answer)}, not a gas price")
        ctx.gas_price_read = (parse_uint(answer["gas_price"], "the gas price"), now)
    return ctx.gas_price_read[0]


async def require_near_for(
    ctx: ToolContext,
    transactions: Iterable[TransactionSpec],
    what: str,
    available: int | None = None,
) -> int:
    """The NEAR ``transactions`` need (deposits plus prepaid gas at the current gas price);
    InsufficientBalanceError, before anything is signed, when the account's available NEAR is
    less. ``available`` is the account's available balance when the caller has just read it."""
    txs = list(transactions)
    deposits, gas_cost = attached_cost(txs, await gas_price(ctx))
    needed = deposits + gas_cost
    if available is None:
        available = (await ctx.chain.near_balance(ctx.account_id))["available"]
    if needed > available:
        raise InsufficientBalanceError(
            f"{what} needs {format_amount(needed, NEAR_DECIMALS)} NEAR "
            f"({format_amount(deposits, NEAR_DECIMALS)} attached and up to "
            f"{format_amount(gas_cost, NEAR_DECIMALS)} prepaid for gas, unused gas is refunded) "
            f"but {format_amount(available, NEAR_DECIMALS)} NEAR is available",
            needed=str(needed),
            available=str(available),
            deposits=str(deposits),
            prepaid_gas=str(gas_cost),
        )
    return needed


async def snapshot_balances(
    ctx: ToolContext, flow_ids: Iterable[str], account_id: str | None = None
) -> dict[str, int]:
    """Current balances of the account: NEAR (total liquid yocto) and each FT contract."""
    account = account_id or ctx.account_id
    out: dict[str, int] = {}
    for flow_id in dict.fromkeys(flow_ids):
        if flow_id == NEAR:
            out[NEAR] = (await ctx.chain.near_balance(account))["total"]
        else:
            out[flow_id] = await ft_balance_of(ctx.chain, flow_id, account)
    return out


def describe_outcome(outcome: TxOutcome, network: Network) -> dict[str, Any]:
    return {
        "tx_hash": outcome.tx_hash,
        "receiver_id": outcome.receiver_id,
        "status": "success" if outcome.ok else "failure",
        "error": outcome.first_error(),
        "receipts": [r.as_dict() for r in outcome.receipts],
        "explorer": network.explorer_tx_url(outcome.tx_hash),
        "fee": str(outcome.tokens_burnt),  # yoctoNEAR burnt for gas: what the user paid
    }


def _journal_hook(hook: OnSigned | None, spec: TransactionSpec) -> Callable[[Any], None] | None:
    if hook is None:
        return None
    return lambda signed: hook(signed, spec)


async def execute_transactions(
    action: CanonicalAction,
    ctx: ToolContext,
    watch: Iterable[str],
    verify: Callable[[int, TxOutcome], ToolError | None] | None = None,
    on_signed: OnSigned | None = None,
) -> tuple[ToolResult, list[TxOutcome]]:
    """Sign and submit exactly ``action.transactions`` in order; stop at the first failure.

    On failure raises TransactionFailedError whose ``result`` holds what happened so far (hashes,
    receipts, balance changes); the caller may translate it into a more specific error.
    ``verify(index, outcome)`` may refuse a successful outcome (e.g. a swap the exchange refunded)
    so that the transactions depending on it are not sent; its error is raised the same way.
    ``on_signed`` is called with each signed transaction before it is first sent.
    """
    if not ctx.holds_key_for(action.signer_id):
        ctx.require_credentials()
        raise CredentialsError(
            f"the action is signed by {action.signer_id}, "
            f"but this agent holds the key of {ctx.account_id}"
        )
    signers = [ctx.credentials_for(spec) for spec in action.transactions]  # fail before sending
    watch = list(dict.fromkeys([NEAR, *watch]))
    near = await ctx.chain.near_balance(action.signer_id)
    await require_near_for(
        ctx, action.transactions, f"this {action.tool}", available=near["available"]
    )
    before = {NEAR: near["total"]} | await snapshot_balances(
        ctx, [w for w in watch if w != NEAR], action.signer_id
    )
    # every transaction's requests fit the command's budget, or none is sent (no half-done swap);
    # once the first is signed, the budget refuses none of the rest (nor the balances read
    # after): their requests, 429 answers included, are counted but the action is never split
    ctx.chain.requests.require(
        REQUESTS_TO_SEND * len(action.transactions),
        f"the {len(action.transactions)} transaction(s) of this {action.tool}",
    )
    with ExitStack() as under_way:
        under_way_marks: list[Any] = []  # the first signed transaction, once there is one

        def signed_hook(spec: TransactionSpec) -> Callable[[Any], None]:
            journal = _journal_hook(on_signed, spec)

            def hook(signed: Any) -> None:
                if not under_way_marks:
                    under_way.enter_context(ctx.chain.requests.unmetered())
                    under_way_marks.append(signed)
                if journal is not None:
                    journal(signed)

            return hook

        result = ToolResult(tool=action.tool, summary=action.preview)
        outcomes: list[TxOutcome] = []
        failure: ToolError | None = None
        for spec, creds in zip(action.transactions, signers, strict=True):
            try:
                outcome = await send_narrowest(
                    ctx.chain,
                    ctx.keyring,
                    creds,
                    spec,
                    raise_on_failure=False,
                    on_signed=signed_hook(spec),
                )
            except ToolError as exc:
                failure = exc
                break
            outcomes.append(outcome)
            result.tx_hashes.append(outcome.tx_hash)
            result.transactions.append(describe_outcome(outcome, ctx.network))
            link = ctx.network.explorer_tx_url(outcome.tx_hash)
            if link:
                result.explorer_links.append(link)
            if not outcome.ok:
                failure = TransactionFailedError(
                    f"transaction {outcome.tx_hash} to {outcome.receiver_id} failed: "
                    f"{outcome.first_error()}",
                    outcome=outcome,
                    tx_hash=outcome.tx_hash,
                )
                break
            if verify is not None and (failure := verify(len(outcomes) - 1, outcome)) is not None:
                break
        try:
            after = await snapshot_balances(ctx, watch, action.signer_id)
        except ToolError as exc:  # what was executed stays reported even if the node went away
            result.data["balance_changes_error"] = exc.message
            after = before
    result.balance_changes = {k: after[k] - before[k] for k in watch if after[k] != before[k]}
    if failure is not None:
        result.ok = False
        result.data["error"] = failure.to_dict()
        failure.result = result
        raise failure
    return result, outcomes
