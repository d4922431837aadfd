"""Execute a training notebook headless, in a fresh kernel, as `make` and the tests do."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient


def run_notebook(path: Path, *, timeout_seconds: int, kernel_name: str = "python3") -> nbformat.NotebookNode:
    """Run every cell; raise nbclient's CellExecutionError (with the cell's traceback) on failure.

    The kernel inherits this process's environment, so SPAMOPS_* settings reach the notebook.
    """
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=timeout_seconds, kernel_name=kernel_name, resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    return notebook
