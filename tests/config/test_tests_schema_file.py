"""The committed JSON Schema of conversation test files is the one `chatwootai test --schema`
prints, and every test file names it."""

from __future__ import annotations

from pathlib import Path

from chatwootai.convtest import jsonschema

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "schema" / "tests.schema.json"


def test_committed_tests_schema_is_up_to_date() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == jsonschema.tests_schema_json(), (
        "schema/tests.schema.json is stale: run "
        "`chatwootai test --schema > schema/tests.schema.json`"
    )


def test_schema_accepts_text_or_lists_and_local_times() -> None:
    schema = jsonschema.tests_schema()
    expect = schema["$defs"]["Expect"]["properties"]
    assert {"type": "string"} in expect["reply_contains"]["anyOf"]
    assert "tests-" in schema["properties"]
    assert "date-time" not in str(schema)


def test_every_test_file_names_the_schema() -> None:
    files = sorted((ROOT / "domains").glob("*/tests/*.yaml"))
    assert files
    for file in files:
        first = file.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../../../schema/tests.schema.json", file
