"""Devnet throughput end to end: signed transfers/s and view calls/s.

Run by hand: ``python -m bench.devnet_bench [--accounts 16] [--seconds 10] [--in-process]``.
The node runs in a separate process (as ``near-agent devnet`` does, blocks every 0.1 s while
busy) unless ``--in-process``. The transfer rate is the node's: transfers signed and sent without
waiting, many in flight per key, counted once all are final. A client that waits for each
transfer (py-near, one in flight per key) is bounded by block time instead, as on nearcore: each
transfer takes two blocks (included, then its receipt); that figure is printed too. Prints
figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from py_near.account import Account

from bench import baseline
from tools.keypair import KeyPair

NEAR = 10**24


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_node(state_dir: Path, in_process: bool) -> tuple[dict[str, Any], Callable[[], None]]:
    if in_process:
        from devnet.server import start_devnet

        node = start_devnet(state_dir, reset=True)
        return node.manifest, node.stop
    port = _free_port()
    code = (
        "import sys; from pathlib import Path; from devnet.server import serve_forever; "
        f"serve_forever(Path({str(state_dir)!r}), port={port}, reset=True)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL)

    def stop() -> None:
        proc.terminate()
        proc.wait(10)

    manifest_file = state_dir / "manifest.json"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if manifest_file.exists():
            manifest = json.loads(manifest_file.read_text())
            if manifest.get("rpc_url", "").endswith(f":{port}"):
                return manifest, stop
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("devnet did not start")


def _funder(manifest: dict[str, Any]) -> tuple[str, str]:
    entry = manifest["accounts"][0]
    with open(entry["key_file"]) as fh:
        return entry["account_id"], json.load(fh)["private_key"]


async def _make_accounts(
    rpc: str, funder_id: str, funder_key: str, n: int
) -> list[tuple[str, str]]:
    funder = Account(funder_id, funder_key, rpc_addr=rpc)
    await funder.startup()
    made = []
    for i in range(n):
        pair = KeyPair.generate()
        account_id = f"bench{i}.{funder_id}"
        outcome = await funder.create_account(account_id, pair.public_key, 50 * NEAR)
        if "Failure" in outcome.status:
            raise RuntimeError(f"cannot create {account_id}: {outcome.status}")
        made.append((account_id, pair.secret_key))
    await funder.shutdown()
    return made


async def _transfers(
    rpc: str, accounts: list[tuple[str, str]], receiver: str, seconds: float
) -> tuple[int, float]:
    clients = []
    for account_id, secret in accounts:
        acc = Account(account_id, secret, rpc_addr=rpc)
        await acc.startup()
        clients.append(acc)
    done = 0
    stop_at = time.monotonic() + seconds

    async def worker(acc: Account) -> None:
        nonlocal done
        while time.monotonic() < stop_at:
            outcome = await acc.send_money(receiver, 1)
            if "SuccessValue" not in outcome.status:
                raise RuntimeError(f"transfer failed: {outcome.status}")
            done += 1

    started = time.monotonic()
    await asyncio.gather(*(worker(c) for c in clients))
    elapsed = time.monotonic() - started
    for c in clients:
        await c.shutdown()
    return done, elapsed


async def _unwaited_transfers(
    rpc: str, accounts: list[tuple[str, str]], receiver: str, seconds: float
) -> tuple[int, float]:
    """Signed transfers sent without waiting (``send_tx`` with ``wait_until: NONE``, nonces
    counted locally, many in flight per key), as a busy client sends them; counted once every
    last one is FINAL, so the figure is what the node accepted and put into blocks."""
    import aiohttp
    import base58
    from py_near import transactions

    async with aiohttp.ClientSession() as session:

        async def call(method: str, params: Any) -> Any:
            body = {"jsonrpc": "2.0", "id": 0, "method": method, "params": params}
            async with session.post(rpc, json=body) as response:
                return (await response.json())["result"]

        head = base58.b58decode((await call("block", {"finality": "final"}))["header"]["hash"])
        keys = []
        for account_id, secret in accounts:
            pk = base58.b58decode(secret.split(":")[1])
            public = "ed25519:" + base58.b58encode(pk[32:]).decode()
            view = {"request_type": "view_access_key", "account_id": account_id}
            key = await call("query", {**view, "public_key": public, "finality": "optimistic"})
            keys.append((account_id, pk, key["nonce"]))
        sent = 0
        last: dict[str, str] = {}
        stop_at = time.monotonic() + seconds
        started = time.monotonic()

        async def worker(account_id: str, pk: bytes, nonce: int) -> None:
            nonlocal sent
            action = transactions.create_transfer_action(1)
            while time.monotonic() < stop_at:
                nonce += 1
                signed = transactions.sign_and_serialize_transaction(
                    account_id, pk, receiver, nonce, [action], head
                )
                answer = await call("send_tx", {"signed_tx_base64": signed, "wait_until": "NONE"})
                if answer != {"final_execution_status": "NONE"}:
                    raise RuntimeError(f"send_tx answered {answer}")
                last[account_id] = signed
                sent += 1

        await asyncio.gather(*(worker(*k) for k in keys))
        for signed in last.values():
            done = await call("send_tx", {"signed_tx_base64": signed, "wait_until": "FINAL"})
            if done["final_execution_status"] != "FINAL":
                raise RuntimeError(f"transfer not final: {done['final_execution_status']}")
        return sent, time.monotonic() - started


async def _views(
    rpc: str,
    account_ids: list[str],
    seconds: float,
    contract: tuple[str, str, dict[str, Any]] | None,
) -> tuple[int, float]:
    reader = Account(account_ids[0], rpc_addr=rpc)
    await reader.startup()
    done = 0
    stop_at = time.monotonic() + seconds

    async def worker(i: int) -> None:
        nonlocal done
        while time.monotonic() < stop_at:
            if contract is not None and i % 2:
                await reader.view_function(*contract)
            else:
                await reader.get_balance(account_ids[i % len(account_ids)])
            done += 1

    started = time.monotonic()
    await asyncio.gather(*(worker(i) for i in range(len(account_ids))))
    elapsed = time.monotonic() - started
    await reader.shutdown()
    return done, elapsed


def memory_probe(transactions: int, state_dir: str) -> None:
    """Apply ``transactions`` signed transfers to a devnet chain (blocks of 100, as a busy node
    makes them) and print the process's peak RSS: what the node holds after that many."""
    import base64
    import resource

    import base58
    from py_near import transactions as near_tx

    from devnet.genesis import Genesis, GenesisAccount
    from devnet.runtime import Runtime
    from devnet.transaction import decode_signed_transaction

    sender, receiver = KeyPair.generate(), KeyPair.generate()
    genesis = Genesis(
        genesis_time_ns=time.time_ns(),
        accounts=[
            GenesisAccount(
                account_id="alice.devnet", balance=10**6 * NEAR, secret_keys=[sender.secret_key]
            ),
            GenesisAccount(
                account_id="bob.devnet", balance=NEAR, secret_keys=[receiver.secret_key]
            ),
        ],
    )
    runtime = Runtime(genesis, {}, archive=Path(state_dir) / "archive.sqlite")
    key = base58.b58decode(sender.secret_key.split(":")[1])
    action = near_tx.create_transfer_action(1)
    nonce = 0
    while nonce < transactions:
        block = []
        for _ in range(min(100, transactions - nonce)):
            nonce += 1
            signed = near_tx.sign_and_serialize_transaction(
                "alice.devnet", key, "bob.devnet", nonce, [action], runtime.head.hash
            )
            block.append(decode_signed_transaction(base64.b64decode(signed)))
        runtime.apply_block(time.time_ns(), block)
    for _ in range(4):  # the last receipts run and become final
        runtime.apply_block(time.time_ns(), [])
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"memory: peak {peak_mib:.0f} MiB after {transactions} transactions")


def _peak_memory(transactions: int) -> str:
    """Run :func:`memory_probe` in its own process, so that its peak is the chain's alone."""
    with tempfile.TemporaryDirectory() as tmp:
        code = f"from bench.devnet_bench import memory_probe; memory_probe({transactions}, {tmp!r})"
        done = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        )
    return done.stdout.strip()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--in-process", action="store_true")
    parser.add_argument(
        "--memory-txs",
        type=int,
        default=100_000,
        help="transfers after which the chain's peak memory is measured (0: skip)",
    )
    args = parser.parse_args(argv)
    if args.memory_txs:
        print(_peak_memory(args.memory_txs))
    with tempfile.TemporaryDirectory() as tmp:
        manifest, stop = _start_node(Path(tmp) / "state", args.in_process)
        try:
            rpc = manifest["rpc_url"]
            funder_id, funder_key = _funder(manifest)
            accounts = asyncio.run(_make_accounts(rpc, funder_id, funder_key, args.accounts))
            sent, elapsed = asyncio.run(_unwaited_transfers(rpc, accounts, funder_id, args.seconds))
            print(
                f"transfers: {sent} in {elapsed:.1f} s = {sent / elapsed:.0f} tx/s, all final "
                f"({args.accounts} accounts, sent without waiting, cpus={os.cpu_count()})"
            )
            sent, elapsed = asyncio.run(_transfers(rpc, accounts, funder_id, args.seconds))
            print(
                f"transfers waited one by one: {sent} in {elapsed:.1f} s = {sent / elapsed:.0f} "
                f"tx/s ({args.accounts} accounts, one tx in flight per key, each waited for until "
                "executed: two blocks apiece)"
            )
            tokens = manifest.get("tokens") or []
            contract = None
            if tokens:
                contract = (tokens[-1]["contract_id"], "ft_balance_of", {"account_id": funder_id})
            ids = [a for a, _ in accounts]
            views, elapsed = asyncio.run(_views(rpc, ids, args.seconds, contract))
            kind = "view_account + call_function" if contract else "view_account"
            print(f"views: {views} in {elapsed:.1f} s = {views / elapsed:.0f} calls/s ({kind})")
            baseline.emit(http_per_s=baseline.http_round_trips_per_s(rpc, min(args.seconds, 2.0)))
        finally:
            stop()


if __name__ == "__main__":
    main()
