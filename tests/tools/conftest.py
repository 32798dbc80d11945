"""Helpers for running the tools against the devnet fixtures of tests/conftest.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tools.action import FunctionCallSpec, TransactionSpec
from tools.base import ToolContext
from tools.keys import load_credentials
from tools.network import devnet_from_manifest

T = TypeVar("T")

ALICE = "alice.test.near"


def manifest_of(devnet: Any) -> tuple[dict[str, Any], Path | None]:
    """The manifest as a dict and the folder its relative key paths are relative to."""
    manifest = devnet.manifest
    if isinstance(manifest, str | Path):
        path = Path(manifest)
        return json.loads(path.read_text()), path.parent
    base = None
    for attr in ("manifest_path", "state_dir"):
        value = getattr(devnet, attr, None)
        if value:
            candidate = Path(value)
            base = candidate.parent if candidate.suffix == ".json" else candidate
            break
    return dict(manifest), base


def make_context(devnet: Any, account_id: str = ALICE, **kwargs: Any) -> ToolContext:
    manifest, base = manifest_of(devnet)
    network = devnet_from_manifest(manifest, rpc_url=devnet.rpc_url)
    entry = next(a for a in manifest["accounts"] if a["account_id"] == account_id)
    key_file = Path(entry["key_file"])
    if not key_file.is_absolute() and base is not None:
        key_file = base / key_file
    creds = load_credentials(key_file, account_id)
    kwargs.setdefault("retries", 3)
    return ToolContext.create(network, account_id, creds, **kwargs)


def run(ctx: ToolContext, make: Callable[[], Awaitable[T]]) -> T:
    """Run one coroutine on a fresh loop and close the context's HTTP session afterwards."""

    async def main() -> T:
        try:
            return await make()
        finally:
            await ctx.aclose()

    return asyncio.run(main())


async def call(
    ctx: ToolContext,
    contract: str,
    method: str,
    args: dict[str, Any],
    deposit: int = 0,
    gas: int = 30 * 10**12,
) -> None:
    """One function call signed by ``ctx``'s account outside the agent (as from a wallet)."""
    spec = TransactionSpec(
        signer_id=ctx.account_id,
        receiver_id=contract,
        actions=(FunctionCallSpec(method_name=method, args=args, gas=gas, deposit=deposit),),
    )
    outcome = await ctx.chain.send(ctx.require_credentials(), spec)
    assert outcome.ok, outcome.first_error()


@pytest.fixture
def chain_env(request: pytest.FixtureRequest) -> Any:
    """A fresh devnet (tests/conftest.py's ``fresh_devnet``); skipped where there is none."""
    try:
        return request.getfixturevalue("fresh_devnet")
    except pytest.FixtureLookupError:
        pytest.skip("no devnet fixture available")


@pytest.fixture
def alice(chain_env: Any) -> ToolContext:
    return make_context(chain_env)
