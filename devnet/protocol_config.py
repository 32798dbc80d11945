"""``EXPERIMENTAL_protocol_config``: the chain's genesis parameters and runtime config in the shape
nearcore answers (RpcProtocolConfigResponse), holding the devnet's own fees and limits.

Clients read it for the storage price (near-api-js's ``getState``/``getBalance``) and fee
estimates, so the values that the devnet charges come from the modules that charge them
(devnet.gas, devnet.storage). The VM's host-function costs and limits, which the Python contracts
never meet, are nearcore's mainnet values (core/parameters/res/runtime_configs/parameters.yaml;
the JSON form is core/parameters/src/snapshots/near_parameters__config_store__tests__*.json.snap).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from devnet import gas, storage
from devnet.transaction import (
    AddKey,
    CreateAccount,
    Delegate,
    DeleteAccount,
    DeleteKey,
    DeployContract,
    FunctionCall,
    Stake,
    Transfer,
)

U128_MAX = 2**128 - 1
CHUNK_GAS_LIMIT = 1_000 * gas.TGAS
EPOCH_LENGTH = 43_200
TRANSACTION_VALIDITY_PERIOD = 86_400
REGISTRAR = "registrar"

_EXT_COSTS = {
    "alt_bn128_g1_multiexp_base": 713_000_000_000,
    "alt_bn128_g1_multiexp_element": 320_000_000_000,
    "alt_bn128_g1_sum_base": 3_000_000_000,
    "alt_bn128_g1_sum_element": 5_000_000_000,
    "alt_bn128_pairing_check_base": 9_686_000_000_000,
    "alt_bn128_pairing_check_element": 5_102_000_000_000,
    "base": 264_768_111,
    "bls12381_g1_multiexp_base": 16_500_000_000,
    "bls12381_g1_multiexp_element": 930_000_000_000,
    "bls12381_g2_multiexp_base": 18_600_000_000,
    "bls12381_g2_multiexp_element": 1_995_000_000_000,
    "bls12381_map_fp2_to_g2_base": 1_500_000_000,
    "bls12381_map_fp2_to_g2_element": 900_000_000_000,
    "bls12381_map_fp_to_g1_base": 1_500_000_000,
    "bls12381_map_fp_to_g1_element": 252_000_000_000,
    "bls12381_p1_decompress_base": 15_000_000_000,
    "bls12381_p1_decompress_element": 81_000_000_000,
    "bls12381_p1_sum_base": 16_500_000_000,
    "bls12381_p1_sum_element": 6_000_000_000,
    "bls12381_p2_decompress_base": 15_000_000_000,
    "bls12381_p2_decompress_element": 165_000_000_000,
    "bls12381_p2_sum_base": 18_600_000_000,
    "bls12381_p2_sum_element": 15_000_000_000,
    "bls12381_pairing_base": 2_130_000_000_000,
    "bls12381_pairing_element": 2_130_000_000_000,
    "contract_compile_base": 0,
    "contract_compile_bytes": 0,
    "contract_loading_base": 35_445_963,
    "contract_loading_bytes": 1_089_295,
    "ecrecover_base": 278_821_988_457,
    "ed25519_verify_base": 210_000_000_000,
    "ed25519_verify_byte": 9_000_000,
    "keccak256_base": 5_879_491_275,
    "keccak256_byte": 21_471_105,
    "keccak512_base": 5_811_388_236,
    "keccak512_byte": 36_649_701,
    "log_base": 3_543_313_050,
    "log_byte": 13_198_791,
    "promise_and_base": 1_465_013_400,
    "promise_and_per_promise": 5_452_176,
    "promise_return": 560_152_386,
    "read_cached_trie_node": 2_280_000_000,
    "read_memory_base": 2_609_863_200,
    "read_memory_byte": 3_801_333,
    "read_register_base": 2_517_165_186,
    "read_register_byte": 98_562,
    "ripemd160_base": 853_675_086,
    "ripemd160_block": 680_107_584,
    "sha256_base": 4_540_970_250,
    "sha256_byte": 24_117_351,
    "storage_has_key_base": 54_039_896_625,
    "storage_has_key_byte": 30_790_845,
    "storage_iter_create_from_byte": 0,
    "storage_iter_create_prefix_base": 0,
    "storage_iter_create_prefix_byte": 0,
    "storage_iter_create_range_base": 0,
    "storage_iter_create_to_byte": 0,
    "storage_iter_next_base": 0,
    "storage_iter_next_key_byte": 0,
    "storage_iter_next_value_byte": 0,
    "storage_large_read_overhead_base": 1,
    "storage_large_read_overhead_byte": 1,
    "storage_read_base": 56_356_845_749,
    "storage_read_key_byte": 30_952_533,
    "storage_read_value_byte": 5_611_004,
    "storage_remove_base": 53_473_030_500,
    "storage_remove_key_byte": 38_220_384,
    "storage_remove_ret_value_byte": 11_531_556,
    "storage_write_base": 64_196_736_000,
    "storage_write_evicted_byte": 32_117_307,
    "storage_write_key_byte": 70_482_867,
    "storage_write_value_byte": 31_018_539,
    "touching_trie_node": 2_280_000_000,
    "utf16_decoding_base": 3_543_313_050,
    "utf16_decoding_byte": 163_577_493,
    "utf8_decoding_base": 3_111_779_061,
    "utf8_decoding_byte": 291_580_479,
    "validator_stake_base": 911_834_726_400,
    "validator_total_stake_base": 911_834_726_400,
    "write_memory_base": 2_803_794_861,
    "write_memory_byte": 2_723_772,
    "write_register_base": 2_865_522_486,
    "write_register_byte": 3_801_564,
    "yield_create_base": 153_411_779_276,
    "yield_create_byte": 15_643_988,
    "yield_resume_base": 1_195_627_285_210,
    "yield_resume_byte": 47_683_715,
}

_LIMITS = {
    "account_id_validity_rules_version": 1,
    "initial_memory_pages": 1024,
    "max_actions_per_receipt": 100,
    "max_arguments_length": 4_194_304,
    "max_contract_size": 4_194_304,
    "max_elements_per_contract_table": 10_000,
    "max_functions_number_per_contract": 10_000,
    "max_gas_burnt": gas.MAX_TOTAL_PREPAID_GAS,
    "max_length_method_name": 256,
    "max_length_returned_data": 4_194_304,
    "max_length_storage_key": 2048,
    "max_length_storage_value": 4_194_304,
    "max_locals_per_contract": 1_000_000,
    "max_memory_pages": 2048,
    "max_number_bytes_method_names": 2000,
    "max_number_input_data_dependencies": 128,
    "max_number_logs": 100,
    "max_number_registers": 100,
    "max_promises_per_function_call_action": 1024,
    "max_receipt_size": 4_194_304,
    "max_register_size": 104_857_600,
    "max_stack_height": 262_144,
    "max_tables_per_contract": 1,
    "max_total_log_length": 16_384,
    "max_total_prepaid_gas": gas.MAX_TOTAL_PREPAID_GAS,
    "max_transaction_size": 1_572_864,
    "max_yield_payload_size": 1024,
    "per_receipt_storage_proof_size_limit": 4_000_000,
    "registers_memory_limit": 1_073_741_824,
    "yield_timeout_length_in_blocks": 200,
}


def _fee(gas_units: int) -> dict[str, int]:
    """One fee as nearcore lists it; the devnet charges the same to send and to execute."""
    return {"send_sir": gas_units, "send_not_sir": gas_units, "execution": gas_units}


def _action_fee(kind: type) -> dict[str, int]:
    return _fee(gas.action_kind_fee(kind))


def _transaction_costs() -> dict[str, Any]:
    per_byte = _fee(0)  # the devnet charges nothing per byte of arguments, code or data
    return {
        "action_receipt_creation_config": _fee(gas.RECEIPT_BASE_GAS),
        "data_receipt_creation_config": {"base_cost": _fee(0), "cost_per_byte": per_byte},
        "action_creation_config": {
            "create_account_cost": _action_fee(CreateAccount),
            "deploy_contract_cost": _action_fee(DeployContract),
            "deploy_contract_cost_per_byte": per_byte,
            "function_call_cost": _action_fee(FunctionCall),
            "function_call_cost_per_byte": per_byte,
            "transfer_cost": _action_fee(Transfer),
            "stake_cost": _action_fee(Stake),
            "add_key_cost": {
                "full_access_cost": _action_fee(AddKey),
                "function_call_cost": _action_fee(AddKey),
                "function_call_cost_per_byte": per_byte,
            },
            "delete_key_cost": _action_fee(DeleteKey),
            "delete_account_cost": _action_fee(DeleteAccount),
            "delegate_cost": _action_fee(Delegate),
        },
        "storage_usage_config": {
            "num_bytes_account": storage.NUM_BYTES_ACCOUNT,
            "num_extra_bytes_record": storage.NUM_EXTRA_BYTES_RECORD,
        },
        "burnt_gas_reward": [0, 1],
        "pessimistic_gas_price_inflation_ratio": [1, 1],
    }


def runtime_config_view() -> dict[str, Any]:
    return {
        "storage_amount_per_byte": str(storage.STORAGE_AMOUNT_PER_BYTE),
        "transaction_costs": _transaction_costs(),
        "wasm_config": {
            "ext_costs": dict(_EXT_COSTS),
            "grow_mem_cost": 1,
            "regular_op_cost": 822_756,
            "vm_kind": "NearVm",
            "discard_custom_sections": True,
            "global_contract_host_fns": True,
            "reftypes_bulk_memory": True,
            "saturating_float_to_int": True,
            "storage_get_mode": "FlatStorage",
            "fix_contract_loading_cost": True,
            "implicit_account_creation": True,
            "eth_implicit_accounts": False,
            "limit_config": dict(_LIMITS),
        },
        "account_creation_config": {
            "min_allowed_top_level_account_length": 65,
            "registrar_account_id": REGISTRAR,
        },
        "congestion_control_config": {
            "max_congestion_incoming_gas": 400_000_000_000_000_000,
            "max_congestion_outgoing_gas": 10_000_000_000_000_000,
            "max_congestion_memory_consumption": 1_000_000_000,
            "max_congestion_missed_chunks": 125,
            "max_outgoing_gas": 300_000_000_000_000_000,
            "min_outgoing_gas": 1_000_000_000_000_000,
            "allowed_shard_outgoing_gas": 1_000_000_000_000_000,
            "max_tx_gas": 500_000_000_000_000,
            "min_tx_gas": 20_000_000_000_000,
            "reject_tx_congestion_threshold": 0.8,
            "outgoing_receipts_usual_size_limit": 102_400,
            "outgoing_receipts_big_size_limit": 4_718_592,
        },
        "witness_config": {
            "main_storage_proof_size_soft_limit": 4_000_000,
            "combined_transactions_size_limit": 4_194_304,
            "new_transactions_validation_state_size_soft_limit": 572_864,
        },
    }


def protocol_config_view(
    chain_id: str, genesis_time_ns: int, genesis_height: int, protocol_version: int
) -> dict[str, Any]:
    """One shard, one validator, one epoch that never ends: the devnet as nearcore describes it."""
    genesis_time = datetime.fromtimestamp(genesis_time_ns // 1_000_000_000, tz=UTC)
    return {
        "protocol_version": protocol_version,
        "genesis_time": genesis_time.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{genesis_time_ns % 1_000_000_000:09d}Z",
        "chain_id": chain_id,
        "genesis_height": genesis_height,
        "num_block_producer_seats": 1,
        "num_block_producer_seats_per_shard": [1],
        "avg_hidden_validator_seats_per_shard": [0],
        "dynamic_resharding": False,
        "protocol_upgrade_stake_threshold": [4, 5],
        "epoch_length": EPOCH_LENGTH,
        "gas_limit": CHUNK_GAS_LIMIT,
        "min_gas_price": str(gas.GAS_PRICE),
        "max_gas_price": str(gas.GAS_PRICE),
        "block_producer_kickout_threshold": 80,
        "chunk_producer_kickout_threshold": 80,
        "chunk_validator_only_kickout_threshold": 70,
        "online_min_threshold": [9, 10],
        "online_max_threshold": [99, 100],
        "gas_price_adjustment_rate": [0, 1],  # the devnet's gas price never moves
        "runtime_config": runtime_config_view(),
        "transaction_validity_period": TRANSACTION_VALIDITY_PERIOD,
        "protocol_reward_rate": [0, 1],
        "max_inflation_rate": [0, 1],
        "num_blocks_per_year": 31_536_000,
        "protocol_treasury_account": "devnet",
        "fishermen_threshold": str(U128_MAX),
        "minimum_stake_divisor": 10,
        "shard_layout": {"V0": {"num_shards": 1, "version": 0}},
        "minimum_validators_per_shard": 1,
        "max_kickout_stake_perc": 100,
        "minimum_stake_ratio": [1, 6250],
        "shuffle_shard_assignment_for_chunk_producers": False,
        "target_validator_mandates_per_shard": 68,
    }
