"""Loading tau-bench-format JSON tables, validated record by record with located errors."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from domains.state import Record, Tables
from runtime.errors import DomainError


class StrictRecord(BaseModel):
    """Strict, closed records: a typo in a field name is a data error, not silent data."""

    model_config = ConfigDict(strict=True, extra="forbid")


class PersonName(StrictRecord):
    """A user's name, as both shipped domains store it."""

    first_name: str
    last_name: str


class DataError(DomainError):
    """A data file or record that does not match the domain's format."""

    def __init__(self, file: Path, record: str | None, message: str) -> None:
        self.file = file
        self.record = record
        where = f"{file}: record {record!r}" if record is not None else str(file)
        super().__init__(f"{where}: {message}")


def _problems(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']) or 'record'}: {problem['msg']}"
        for problem in error.errors()
    )


def load_tables(directory: str | Path, schemas: Mapping[str, type[BaseModel]]) -> Tables:
    """Read `<table>.json` for each table and validate every record; keep records verbatim.

    The raw dicts are kept (not the models' dumps) so that key order and number types stay
    exactly as in the files: replayed states must hash the same.
    """
    root = Path(directory)
    if not root.is_dir():
        raise DataError(root, None, "data directory not found")
    tables: Tables = {}
    for table, schema in schemas.items():
        file = root / f"{table}.json"
        if not file.is_file():
            raise DataError(file, None, "file not found")
        try:
            raw = json.loads(file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(file, None, f"invalid JSON at line {exc.lineno}: {exc.msg}") from exc
        if not isinstance(raw, dict):
            raise DataError(file, None, "expected a JSON object keyed by id")
        records: dict[str, Record] = {}
        for key, record in raw.items():
            if not isinstance(record, dict):
                raise DataError(file, key, "expected a JSON object")
            try:
                schema.model_validate(record)
            except ValidationError as exc:
                raise DataError(file, key, _problems(exc)) from exc
            records[key] = record
        tables[table] = records
    return tables


def dump_tables(tables: Tables, directory: str | Path) -> None:
    """Write tables as `<table>.json` files in the format `load_tables` reads."""
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    for table, records in tables.items():
        (root / f"{table}.json").write_text(json.dumps(records, indent=2), encoding="utf-8")
