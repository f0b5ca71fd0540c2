"""Nothing in the shipped packages evaluates text as code: model output stays data."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("runtime", "agents", "domains")
FORBIDDEN = {"eval", "exec", "compile", "__import__"}


def _forbidden_calls(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else None
            if isinstance(func, ast.Attribute) and func.attr in {"eval", "exec"}:
                name = func.attr
            if name in FORBIDDEN:
                found.append(f"{path.relative_to(root)}:{node.lineno}: {name}()")
    return found


def test_no_package_module_calls_eval_exec_or_compile() -> None:
    sources = [path for package in PACKAGES for path in (ROOT / package).rglob("*.py")]
    assert len(sources) > 20
    offenders = [hit for path in sources for hit in _forbidden_calls(path)]
    assert offenders == []


def test_the_checker_finds_an_eval_call(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("x = eval('1+1')\n")
    assert _forbidden_calls(sample, root=tmp_path) == ["sample.py:1: eval()"]
