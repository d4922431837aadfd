"""`make up`'s .env: fresh keys for a new file, only missing variables for an existing one."""

from pathlib import Path

from api.common.auth import parse_api_keys
from ops.env_file import assigned, ensure_env

EXAMPLE = "LOG_LEVEL=INFO\n# the shared key\nSPAMOPS_API_KEY=\nSPAMOPS_API_KEYS=\nFORWARDED_ALLOW_IPS=\n"


def test_new_env_gets_generated_keys_the_settings_accept(tmp_path: Path) -> None:
    example, env = tmp_path / ".env.example", tmp_path / ".env"
    example.write_text(EXAMPLE)
    assert ensure_env(env, example) == ["SPAMOPS_API_KEY", "SPAMOPS_API_KEYS"]
    values = assigned(env.read_text().splitlines())
    keys = {key.name: key.scopes for key in parse_api_keys(values["SPAMOPS_API_KEYS"], values["SPAMOPS_API_KEY"])}
    assert keys == {"web": {"read"}, "inbox": {"read", "write"}, "ops": {"admin"}, "shared": {"admin"}}
    assert values["LOG_LEVEL"] == "INFO" and values["FORWARDED_ALLOW_IPS"] == ""
    assert env.stat().st_mode & 0o077 == 0


def test_existing_env_is_never_overwritten_and_gets_missing_keys(tmp_path: Path) -> None:
    example, env = tmp_path / ".env.example", tmp_path / ".env"
    example.write_text(EXAMPLE)
    env.write_text("SPAMOPS_API_KEY=mine\nLOG_LEVEL=DEBUG\n")
    assert ensure_env(env, example) == ["SPAMOPS_API_KEYS"]
    lines = env.read_text().splitlines()
    assert lines[:2] == ["SPAMOPS_API_KEY=mine", "LOG_LEVEL=DEBUG"]
    assert parse_api_keys(assigned(lines)["SPAMOPS_API_KEYS"])
    before = env.read_text()
    assert ensure_env(env, example) == []
    assert env.read_text() == before
