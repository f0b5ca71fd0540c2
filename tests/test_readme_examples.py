"""The README's example output is the code's: the quick start, run here, prints every line the
README quotes under a `<!-- quick-start output: COMMAND ... -->` marker.

When this fails, the code changed what the quick start prints (new numbers, a new layout):
paste the lines printed in the failure message into the README block it names.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"
QUICK_START = "playbooks/apigen_mt.yaml"
_BLOCK = re.compile(r"<!-- quick-start output: (\w+)[^>]*-->\n```\n(.*?)```", re.DOTALL)

pytestmark = pytest.mark.slow


def quoted_blocks(text: str) -> dict[str, list[str]]:
    """Marked README blocks by command: their lines, without prompts (`$ ...`) and elisions."""
    blocks: dict[str, list[str]] = {}
    for command, body in _BLOCK.findall(text):
        lines = [line.strip() for line in body.splitlines()]
        blocks[command] = [line for line in lines if line and line != "..." and line[0] != "$"]
    return blocks


def _cli(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "runtime.run", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What the quick start prints (run from the repository, as the README says), and what
    `inspect` then prints."""
    store = tmp_path_factory.mktemp("quick-start") / "apigen_mt"
    ran = _cli(QUICK_START, "--store", str(store), "--no-progress")
    return {"run": ran, "inspect": _cli("inspect", str(store))}


def test_the_readme_marks_the_quick_start_output_it_quotes() -> None:
    assert set(quoted_blocks(README.read_text())) == {"run", "inspect"}


@pytest.mark.parametrize("command", ["run", "inspect"])
def test_every_quoted_line_is_printed_by_the_quick_start(
    printed: dict[str, str], command: str
) -> None:
    quoted = quoted_blocks(README.read_text())[command]
    output = [line.strip() for line in printed[command].splitlines()]
    drifted = [line for line in quoted if line not in output]
    assert not drifted, (
        f"README's quick-start `{command}` block has lines the code no longer prints:\n"
        + "\n".join(f"  - {line}" for line in drifted)
        + f"\nthe quick start now prints:\n{printed[command]}"
    )
