"""Conversation test files beside each domain, inherited like the domain, checked at file:line.

Rules (documented in docs/testing.md): the tests of a domain are those of its own
`tests/*.yaml` files plus those its ancestors let it inherit. Domains are taken in resolution
order, farthest ancestor first; at each one, `tests-: [id, ...]` removes inherited tests, then
its tests are added, replacing an inherited test of the same id. A file (or a test) with
`inherit: false` is about its own domain's data: its tests run for that domain only. An
inherited test that expects a crew or a tool the domain does not have (it removed it) is
skipped, with the reason; in a domain's own tests the same is an error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from chatwootai.config.errors import ConfigError, ConfigIssue, did_you_mean
from chatwootai.config.loader import DomainLoader
from chatwootai.config.model_errors import issues_from_validation
from chatwootai.config.schema import DomainConfig
from chatwootai.config.source import Located, issue_at, locate, parse_yaml_bytes
from chatwootai.convtest.schema import ConversationTest, Defaults, TestFile

TESTS_DIR = "tests"
"""The directory of a domain holding its conversation test files."""

PSEUDO_CREWS = frozenset({"handoff", "non_text"})
"""Crew names of turns answered without a crew (a handoff by the hub, a non-text message)."""


class TestFileError(ConfigError):
    """Conversation test files are invalid; `issues` lists every problem with file:line."""

    __test__ = False  # not a pytest class


@dataclass(frozen=True)
class LoadedTest:
    """A conversation test as it runs against one domain."""

    __test__ = False  # not a pytest class

    domain: str
    """The domain it runs against."""
    id: str
    test: ConversationTest
    defaults: Defaults
    file: Path
    line: int
    origin: str
    """The domain whose file defines it (an ancestor when inherited)."""
    turn_lines: list[int] = field(default_factory=list)
    skip: str | None = None
    """Why the test does not apply to this domain (None: it runs)."""

    @property
    def name(self) -> str:
        """`domain::id`."""
        return f"{self.domain}::{self.id}"

    @property
    def where(self) -> str:
        """`file:line` of the test."""
        return f"{self.file}:{self.line}"


@dataclass
class _Parsed:
    file: Path
    root: Located
    content: TestFile


class ConversationTestLoader:
    """Finds, parses and inherits the conversation tests of domains."""

    __test__ = False  # not a pytest class

    def __init__(self, domains: DomainLoader) -> None:
        self.domains = domains

    def files(self, domain: str) -> list[Path]:
        """The test files of `domain` (its own, not inherited), sorted by name."""
        directory = self.domains.domains_dir / domain / TESTS_DIR
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            return []
        return [
            directory / n
            for n in names
            if n.endswith((".yaml", ".yml")) and (directory / n).is_file()
        ]

    def read(self, file: Path) -> tuple[TestFile, Located]:
        """One test file parsed and validated; raises TestFileError with file:line."""
        root: Located = self.domains.files.get(file, "yaml", parse_yaml_bytes)
        if not isinstance(root.value, dict):
            issue = ConfigIssue(file, root.line, root.column, "", "a test file must be a mapping")
            raise TestFileError([issue])
        try:
            content = TestFile.model_validate(root.plain())
        except ValidationError as exc:
            issues = issues_from_validation(exc, root, TestFile)
            raise TestFileError([_alias(i) for i in issues]) from None
        return content, root

    def tests_for(self, domain: str, config: DomainConfig) -> list[LoadedTest]:
        """The tests `domain` runs (own and inherited), in file order; raises TestFileError."""
        order = self.domains.resolve(domain).order
        issues: list[ConfigIssue] = []
        current: dict[str, LoadedTest] = {}
        for origin in reversed(order):
            parsed: list[_Parsed] = []
            for file in self.files(origin):
                try:
                    content, root = self.read(file)
                except ConfigError as exc:
                    issues += exc.issues
                    continue
                parsed.append(_Parsed(file, root, content))
            for item in parsed:
                for index, test_id in enumerate(item.content.remove):
                    if test_id in current:
                        del current[test_id]
                    elif origin == domain:
                        issues.append(
                            issue_at(
                                item.root,
                                ["tests-", index],
                                f"no inherited test {test_id!r} to remove",
                                suggestion=did_you_mean(test_id, current),
                                at_key=False,
                            )
                        )
            seen: dict[str, LoadedTest] = {}
            for item in parsed:
                for test_id, test in item.content.tests.items():
                    loaded = _loaded(domain, origin, test_id, test, item)
                    first = seen.get(test_id)
                    if first is not None:
                        issues.append(
                            issue_at(
                                item.root,
                                ["tests", test_id],
                                f"test id {test_id!r} is already used at {first.where}",
                            )
                        )
                        continue
                    seen[test_id] = loaded
                    inherit = test.inherit if test.inherit is not None else item.content.inherit
                    if origin == domain or inherit:
                        current[test_id] = loaded
        result = []
        for loaded in current.values():
            problems = _unknown_names(loaded, config)
            if problems and loaded.origin == domain:
                issues += problems
            elif problems:
                reason = problems[0].message.split(";")[0]
                result.append(_skipped(loaded, f"not applicable here: {reason}"))
            else:
                result.append(loaded)
        if issues:
            raise TestFileError(issues)
        return sorted(result, key=lambda t: (str(t.file), t.line))


def _alias(issue: ConfigIssue) -> ConfigIssue:
    """Name the `tests-` key as written (its model field is called `remove`)."""
    if issue.path.count(".") == 0 and "remove" in issue.message:
        message = issue.message.replace("remove", "tests-")
        return ConfigIssue(
            issue.file, issue.line, issue.column, issue.path, message, issue.suggestion
        )
    return issue


def _loaded(
    domain: str, origin: str, test_id: str, test: ConversationTest, item: _Parsed
) -> LoadedTest:
    node, _ = locate(item.root, ["tests", test_id])
    turns = node.value.get("turns") if isinstance(node.value, dict) else None
    lines = (
        [t.line for t in turns.value] if turns is not None and isinstance(turns.value, list) else []
    )
    return LoadedTest(
        domain=domain,
        id=test_id,
        test=test,
        defaults=item.content.defaults,
        file=item.file,
        line=node.anchor[0],
        origin=origin,
        turn_lines=lines,
    )


def _skipped(loaded: LoadedTest, reason: str) -> LoadedTest:
    return LoadedTest(
        domain=loaded.domain,
        id=loaded.id,
        test=loaded.test,
        defaults=loaded.defaults,
        file=loaded.file,
        line=loaded.line,
        origin=loaded.origin,
        turn_lines=loaded.turn_lines,
        skip=reason,
    )


def _unknown_names(loaded: LoadedTest, config: DomainConfig) -> list[ConfigIssue]:
    """Crews and tools a test expects that `config` does not have, located in the test file."""
    issues: list[ConfigIssue] = []
    crews = sorted(config.crews)
    tools = sorted(config.tools)
    for index, turn in enumerate(loaded.test.turns):
        expect = turn.expect
        line = loaded.turn_lines[index] if index < len(loaded.turn_lines) else loaded.line
        path = f"tests.{loaded.id}.turns[{index}].expect"
        if expect.crew is not None and expect.crew not in {*config.crews, *PSEUDO_CREWS}:
            issues.append(
                ConfigIssue(
                    loaded.file,
                    line,
                    None,
                    f"{path}.crew",
                    f"domain {config.name!r} has no crew {expect.crew!r}; crews: "
                    + ", ".join(crews),
                    did_you_mean(expect.crew, crews),
                )
            )
        named = [c.tool for c in expect.tools or ()] + list(expect.not_tools)
        for tool in named:
            if tool not in config.tools:
                issues.append(
                    ConfigIssue(
                        loaded.file,
                        line,
                        None,
                        f"{path}.tools",
                        f"domain {config.name!r} has no tool {tool!r}; tools: " + ", ".join(tools),
                        did_you_mean(tool, tools),
                    )
                )
    return issues
