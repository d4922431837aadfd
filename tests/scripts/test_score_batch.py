"""scripts/score_batch.py: bad input exits 2 with one line, and a SIGKILLed run resumes to the same output."""

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from batch.parts import parts_dir
from contract.paths import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "score_batch.py"
KILL_AFTER_PARTS = 5
CHUNK_SIZE = 200
COPIES = 10  # the dev data ten times over: a run of ~300 chunks that lasts well past the kill


def load_script() -> Any:
    spec = importlib.util.spec_from_file_location("score_batch", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


score_batch = load_script()
Cli = Callable[..., tuple[int, str]]  # argv -> (exit status, stderr)


@pytest.fixture
def cli(models_dir: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    def call(*args: str) -> tuple[int, str]:
        code = score_batch.main([*args, "--models-dir", str(models_dir), "--no-progress"])
        return code, capsys.readouterr().err

    return call


@pytest.fixture
def texts_csv(raw_dev: pd.DataFrame, tmp_path: Path) -> Path:
    path = tmp_path / "texts.csv"
    raw_dev.head(50).to_csv(path, index=False)
    return path


def assert_one_line_error(code: int, err: str, expected: str) -> None:
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and expected in err, err


def test_missing_text_column_exits_2(cli: Cli, texts_csv: Path, tmp_path: Path) -> None:
    code, err = cli("--version", "v3", "--input", str(texts_csv), "--output", str(tmp_path / "o.csv"),
                    "--text-column", "body")
    assert_one_line_error(code, err, "has no column 'body' (it has: sms_id, text, label)")


def test_missing_id_column_exits_2(cli: Cli, texts_csv: Path, tmp_path: Path) -> None:
    code, err = cli("--version", "v3", "--input", str(texts_csv), "--output", str(tmp_path / "o.csv"),
                    "--id-column", "key")
    assert_one_line_error(code, err, "has no id column 'key'")


@pytest.mark.parametrize(("name", "content"), [("absent.csv", None), ("broken.parquet", b"not parquet at all")])
def test_unreadable_input_exits_2(cli: Cli, tmp_path: Path, name: str, content: bytes | None) -> None:
    source = tmp_path / name
    if content is not None:
        source.write_bytes(content)
    code, err = cli("--version", "v3", "--input", str(source), "--output", str(tmp_path / "o.csv"))
    assert_one_line_error(code, err, f"cannot read input {source}")


def test_undecodable_csv_exits_2(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "latin1.csv"
    source.write_bytes(b"sms_id,text\n" + b"a,\xe9t\xe9 " * 20000)
    code, err = cli("--version", "v3", "--input", str(source), "--output", str(tmp_path / "o.csv"))
    assert_one_line_error(code, err, f"input {source}")
    assert not (tmp_path / "o.csv").exists()


def test_unknown_version_exits_2(cli: Cli, texts_csv: Path, tmp_path: Path) -> None:
    code, err = cli("--version", "v9", "--input", str(texts_csv), "--output", str(tmp_path / "o.csv"))
    assert_one_line_error(code, err, "unknown model version 'v9'; known versions: v1, v2, v3")


def test_unknown_output_extension_exits_2(cli: Cli, texts_csv: Path, tmp_path: Path) -> None:
    code, err = cli("--version", "v3", "--input", str(texts_csv), "--output", str(tmp_path / "o.json"))
    assert_one_line_error(code, err, "unknown extension '.json'; use .csv or .parquet")


def test_bad_slice_bound_exits_2(cli: Cli, tmp_path: Path) -> None:
    code, err = cli("--version", "v3", "--from-offline-store", "--start", "2020-13-01", "--end", "2021-12-31",
                    "--output", str(tmp_path / "o.csv"))
    assert_one_line_error(code, err, "--start '2020-13-01' is not an ISO 8601 date")


def command(source: Path, output: Path, models_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, str(SCRIPT), "--version", "v3", "--input", str(source), "--output", str(output),
            "--chunk-size", str(CHUNK_SIZE), "--models-dir", str(models_dir), "--no-progress", *extra]


def wait_for_parts(process: subprocess.Popen[bytes], parts: Path) -> None:
    deadline = time.monotonic() + 60
    while len(list(parts.glob("part-*.parquet"))) < KILL_AFTER_PARTS:
        assert process.poll() is None, f"the run ended before it could be killed: {process.stderr.read()}"
        assert time.monotonic() < deadline, "no chunk finished within 60 s"
        time.sleep(0.005)


def kill_after_parts(argv: list[str], parts: Path) -> None:
    """Start the run in its own process group and SIGKILL the group once KILL_AFTER_PARTS chunks are done."""
    process = subprocess.Popen(argv, cwd=PROJECT_ROOT, start_new_session=True, stderr=subprocess.PIPE)
    try:
        wait_for_parts(process, parts)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL


def children(pid: int) -> list[int]:
    pids: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):  # a thread that ended meanwhile
            pids.extend(int(child) for child in (task / "children").read_text().split())
    return pids


def worker_pids(pid: int) -> list[int]:
    """The scoring workers: the fork server's children (the run's other child, the resource tracker, has none)."""
    return [worker for child in children(pid) for worker in children(child)]


def make_input(raw_dev: pd.DataFrame, path: Path) -> int:
    copies = [raw_dev.assign(sms_id=raw_dev["sms_id"] + f"-{copy}") for copy in range(COPIES)]
    pd.concat(copies, ignore_index=True).to_parquet(path, index=False)
    return -(-len(raw_dev) * COPIES // CHUNK_SIZE)  # chunks


def assert_same_output(output: Path, reference: Path) -> None:
    read = pd.read_csv if output.suffix == ".csv" else pd.read_parquet
    pd.testing.assert_frame_equal(read(output), read(reference), check_exact=True)
    assert not parts_dir(output).exists()


def assert_resume_finishes_as_one_run(
    source: Path, output: Path, reference: Path, models_dir: Path, n_chunks: int, *, workers: int
) -> None:
    """After a killed run: no output yet and some parts kept; `--resume` with `workers` keeps them and finishes
    with the output of an uninterrupted in-process run."""
    assert not output.exists()  # no half-written output
    kept = len(list(parts_dir(output).glob("part-*.parquet")))
    assert KILL_AFTER_PARTS <= kept < n_chunks

    resumed = subprocess.run(command(source, output, models_dir, "--resume", "--workers", str(workers)),
                             cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{n_chunks} chunks, {kept} resumed" in resumed.stderr
    subprocess.run(command(source, reference, models_dir, "--workers", "1"), cwd=PROJECT_ROOT, check=True,
                   timeout=300, capture_output=True)
    assert_same_output(output, reference)


@pytest.mark.parametrize("output_name", ["scores.csv", "scores.parquet"])
def test_resume_after_sigkill_equals_an_uninterrupted_run(
    raw_dev: pd.DataFrame, models_dir: Path, tmp_path: Path, output_name: str
) -> None:
    source = tmp_path / "big.parquet"
    n_chunks = make_input(raw_dev, source)
    output, reference = tmp_path / output_name, tmp_path / f"reference-{output_name}"

    kill_after_parts(command(source, output, models_dir, "--workers", "1"), parts_dir(output))
    assert_resume_finishes_as_one_run(source, output, reference, models_dir, n_chunks, workers=1)


def test_sigkilled_worker_fails_the_run_and_resume_continues(
    raw_dev: pd.DataFrame, models_dir: Path, tmp_path: Path
) -> None:
    source, output, reference = tmp_path / "big.parquet", tmp_path / "scores.csv", tmp_path / "reference.csv"
    n_chunks = make_input(raw_dev, source)
    process = subprocess.Popen(command(source, output, models_dir, "--workers", "2"), cwd=PROJECT_ROOT,
                               start_new_session=True, stderr=subprocess.PIPE)
    try:
        wait_for_parts(process, parts_dir(output))
        workers = worker_pids(process.pid)
        assert len(workers) == 2, workers
        os.kill(workers[0], signal.SIGKILL)
        _, err = process.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):  # whatever is left of the group: the fork server, say
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    assert process.returncode == 3, err
    assert err.decode().startswith("error: a scoring worker process died") and err.count(b"\n") == 1, err
    # In-process and two workers, resumed or not: the same values.
    assert_resume_finishes_as_one_run(source, output, reference, models_dir, n_chunks, workers=2)
