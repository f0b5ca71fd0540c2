"""A role's `prompt`: inline Jinja text, or a path to a `.j2` file next to the playbook."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.resources import Templates, prompt_file
from runtime.errors import ApigenError


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("prompts/proposer.j2", "prompts/proposer.j2"),
        ("  proposer.j2 ", "proposer.j2"),
        ("You are a careful reviewer.", None),
        ("{{instruction}}", None),
        ("Answer in JSON.\n", None),
    ],
)
def test_a_value_without_whitespace_is_a_file(value: str, expected: str | None) -> None:
    assert prompt_file(value) == expected


@pytest.mark.parametrize("value", ["x.jinja", "prompts/proposer", "proposer.j2.txt", "Hello"])
def test_a_path_like_value_must_end_in_j2(value: str) -> None:
    with pytest.raises(ApigenError, match=r"looks like a file path but does not end in \.j2"):
        prompt_file(value)


def test_a_prompt_file_is_read_relative_to_the_playbook_folder(tmp_path: Path) -> None:
    (tmp_path / "p.j2").write_text("Hi {{ name }}")
    assert Templates(tmp_path).render("p.j2", "unused.j2", name="Ann") == "Hi Ann"


def test_a_jinja_error_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "p.j2").write_text("line one\n{{ name \n")
    with pytest.raises(ApigenError) as error:
        Templates(tmp_path).get("p.j2", "unused.j2")
    assert str(error.value).startswith(f"{tmp_path / 'p.j2'} line 2: Jinja syntax error: ")
