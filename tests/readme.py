"""The README's code blocks (bash, or python for the plugin), selected by the HTML comment before them
(`<!-- readme-test -->`, `<!-- astra -->`, `<!-- plugin -->`…).

A marker is explicit, so moving or adding prose never changes which commands a test runs or checks.
"""

import re

from contract.paths import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
_BLOCK = re.compile(r"^<!-- (?P<marker>[\w-]+) -->\n```(?:bash|python)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)


def marked_blocks(marker: str) -> list[str]:
    """The bodies of the code blocks right after `<!-- marker -->`, in README order."""
    return [match["body"] for match in _BLOCK.finditer(README.read_text()) if match["marker"] == marker]


def exported_variables(block: str) -> set[str]:
    """The names an `export A=… B=…` command (continued over lines with backslashes) sets."""
    joined = block.replace("\\\n", " ")
    exports = [line for line in joined.splitlines() if line.startswith("export ")]
    return {name for line in exports for name in re.findall(r"\b([A-Z][A-Z0-9_]*)=", line)}
