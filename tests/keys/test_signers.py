"""The key ring picks the narrowest key the chain would accept for a transaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.action import FunctionCallSpec, TransactionSpec, TransferSpec
from tools.errors import CredentialsError
from tools.keypair import KeyPair
from tools.keys import Credentials
from tools.keystore import FunctionCallPermission, Keystore
from tools.signers import KeyRing, keyring_from_keystore
from tools.signing import KeyTransaction

ALICE, TASKS = "alice.test.near", "tasks.test.near"
GAS = 30 * 10**12


def _call(
    method: str, *, receiver: str = TASKS, deposit: int = 0, signer: str = ALICE, extra: int = 0
) -> TransactionSpec:
    actions = [FunctionCallSpec(method_name=method, args={}, gas=GAS, deposit=deposit)]
    actions += [TransferSpec(deposit=1)] * extra
    return TransactionSpec(signer_id=signer, receiver_id=receiver, actions=tuple(actions))


@pytest.fixture
def ring() -> KeyRing:
    full = Credentials(ALICE, KeyPair.generate())
    ring = KeyRing.of(full)
    ring.add_function_call(
        Credentials(ALICE, KeyPair.generate()),
        FunctionCallPermission(TASKS, ("submit_label", "claim_rewards")),
    )
    return ring


def test_the_function_call_key_signs_exactly_what_it_may(ring: KeyRing) -> None:
    narrow = ring.function_call[0].public_key
    full = ring.full_access[ALICE].public_key
    assert ring.for_spec(_call("submit_label")).public_key == narrow
    assert ring.for_spec(_call("claim_rewards")).public_key == narrow
    # anything the chain would refuse the narrow key goes to the full-access key
    assert ring.for_spec(_call("create_task")).public_key == full
    assert ring.for_spec(_call("submit_label", deposit=1)).public_key == full
    assert ring.for_spec(_call("submit_label", receiver="other.test.near")).public_key == full
    assert ring.for_spec(_call("submit_label", extra=1)).public_key == full
    transfer = TransactionSpec(
        signer_id=ALICE, receiver_id=TASKS, actions=(TransferSpec(deposit=5),)
    )
    assert ring.for_spec(transfer).public_key == full
    assert ring.for_spec(KeyTransaction(signer_id=ALICE, delete=(narrow,))).public_key == full


def test_an_empty_method_list_means_any_method() -> None:
    ring = KeyRing()
    ring.add_function_call(
        Credentials(ALICE, KeyPair.generate()), FunctionCallPermission(TASKS, ())
    )
    assert ring.for_spec(_call("anything")).account_id == ALICE
    with pytest.raises(CredentialsError, match="no key held for alice.test.near"):
        ring.for_spec(_call("anything", deposit=1))


def test_each_signer_gets_its_own_key(ring: KeyRing) -> None:
    trader = Credentials("trading." + ALICE, KeyPair.generate())
    ring.add_full_access(trader)
    spec = _call("ft_transfer_call", receiver="wrap.test.near", deposit=1, signer=trader.account_id)
    assert ring.for_spec(spec) is trader
    with pytest.raises(CredentialsError, match="no key held for bob.test.near"):
        ring.for_spec(_call("submit_label", signer="bob.test.near"))


def test_ring_from_the_keystore_includes_sub_accounts_only_of_the_owner(tmp_path: Path) -> None:
    store = Keystore(tmp_path / "keys")
    fc, trader, stranger = KeyPair.generate(), KeyPair.generate(), KeyPair.generate()
    store.store(ALICE, fc, permission=FunctionCallPermission(TASKS, ("submit_label",)))
    store.store("trading." + ALICE, trader)
    store.store("bob.test.near", stranger)
    ring = keyring_from_keystore(store, [ALICE])
    assert ring.for_spec(_call("submit_label")).public_key == fc.public_key
    assert ring.full_access["trading." + ALICE].public_key == trader.public_key
    assert "bob.test.near" not in ring.accounts()
    assert all(fc.secret_key not in text for text in (repr(ring), str(ring.function_call)))
