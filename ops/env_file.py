"""`make up`'s .env: generated API keys, never overwriting what is there.

    python -m ops.env_file [.env] [.env.example]

A missing .env is made from .env.example with fresh keys: the shared SPAMOPS_API_KEY (admin) and
SPAMOPS_API_KEYS for `web` (read: the page's backend), `inbox` (read+write: its calls to user-data and
model serving) and `ops` (admin). An existing .env keeps every line; only variables it lacks are appended.
"""

import re
import secrets
import sys
from pathlib import Path

KEYED_CALLERS = (("web", "read"), ("inbox", "read+write"), ("ops", "admin"))
_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Z][A-Z0-9_]*)=(.*)$")


def new_key() -> str:
    return secrets.token_urlsafe(24)


def generated() -> dict[str, str]:
    callers = ",".join(f"{name}:{new_key()}:{scopes}" for name, scopes in KEYED_CALLERS)
    return {"SPAMOPS_API_KEY": new_key(), "SPAMOPS_API_KEYS": callers}


def assigned(lines: list[str]) -> dict[str, str]:
    """Variables set (uncommented) in these lines, with their values."""
    return {match[1]: match[2] for line in lines if (match := _ASSIGNMENT.match(line))}


def ensure_env(env: Path, example: Path) -> list[str]:
    """Write or complete `env`; returns the names it added values for (never the values)."""
    keys = generated()
    if not env.exists():
        lines = example.read_text().splitlines()
        filled = [_fill(line, keys) for line in lines]
        env.write_text("\n".join(filled) + "\n")
        env.chmod(0o600)
        return [name for name in keys if assigned(lines).get(name) == ""]
    present = assigned(env.read_text().splitlines())
    # A variable already there, even blank, is the user's choice and stays as it is.
    appended = [name for name in keys if name not in present]
    if appended:
        with env.open("a") as out:
            out.write("".join(f"{name}={keys[name]}\n" for name in appended))
    return appended


def _fill(line: str, keys: dict[str, str]) -> str:
    match = _ASSIGNMENT.match(line)
    if match and match[1] in keys and not match[2]:
        return f"{match[1]}={keys[match[1]]}"
    return line


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    env = Path(args[0] if args else ".env")
    example = Path(args[1] if len(args) > 1 else ".env.example")
    added = ensure_env(env, example)
    print(f"{env}: {'added ' + ', '.join(added) if added else 'nothing to add'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
