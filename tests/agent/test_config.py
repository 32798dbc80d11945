from pathlib import Path

import pytest

from agent.config import ConfigError, load_config

REPO = Path(__file__).resolve().parents[2]


def test_shipped_example_is_valid_and_paths_are_relative_to_the_file() -> None:
    config = load_config(REPO / "agent.yaml")
    assert config.network == "devnet"
    assert config.key_file == REPO / "devnet/keys/alice.test.near.json"
    assert config.planner.kind == "offline"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("account_id: a.near\nnetwork: moon\n", "network"),
        ("account_id: a.near\nplanner: {kind: llm}\n", "base_url"),
        ("account_id: a.near\nnetwork: custom\n", "rpc_url"),
        ("account_id: a.near\nsurprise: 1\n", "surprise"),
        ("network: devnet\n", "account_id"),
        ("- a\n- b\n", "mapping"),
        ("account_id: [\n", "YAML"),
    ],
)
def test_invalid_config_names_the_problem(tmp_path: Path, body: str, needle: str) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(body)
    with pytest.raises(ConfigError, match=needle):
        load_config(path)


def test_missing_config_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="near-agent init"):
        load_config(tmp_path / "agent.yaml")


def test_every_network_setting_is_documented_in_the_shipped_agent_yaml() -> None:
    from agent.config import AgentConfig, ContractsConfig, Defaults, TokenConfig

    text = (REPO / "agent.yaml").read_text()
    for model in (AgentConfig, ContractsConfig, TokenConfig, Defaults):
        missing = [name for name in model.model_fields if f"{name}:" not in text]
        assert missing == [], f"{model.__name__} fields not documented in agent.yaml: {missing}"
