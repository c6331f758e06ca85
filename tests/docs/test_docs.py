"""The project's own docs stay true to the tree: cited wire sections and named modules exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WIRE = ROOT / "docs" / "wire.md"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
SOURCES = [
    path
    for folder in ("livecli", "tests", "bench", "scripts")
    if (ROOT / folder).is_dir()
    for path in sorted((ROOT / folder).rglob("*.py"))
    if path != Path(__file__).resolve()
]


def wire_sections() -> set[str]:
    """The `##` headings of docs/wire.md."""
    return set(re.findall(r"^## (.+)$", WIRE.read_text(encoding="utf-8"), flags=re.MULTILINE))


def cited_sections() -> dict[str, set[str]]:
    """Every `docs/wire.md, "Section"` cited in the code (a citation may wrap onto the next comment line)."""
    cited: dict[str, set[str]] = {}
    for path in SOURCES:
        text = re.sub(r"\s*\n\s*(#\s*)?", " ", path.read_text(encoding="utf-8"))
        for match in re.finditer(r'docs/wire\.md,? ((?:"[^"]+"(?:,? (?:and )?)?)+)', text):
            for section in re.findall(r'"([^"]+)"', match.group(1)):
                cited.setdefault(section, set()).add(str(path.relative_to(ROOT)))
    return cited


def test_every_cited_wire_section_exists() -> None:
    """A comment citing docs/wire.md names one of its section headings."""
    sections = wire_sections()
    for section, files in cited_sections().items():
        assert section in sections, f'docs/wire.md has no section "{section}" (cited in {sorted(files)})'


def test_wire_sections_are_cited() -> None:
    """The citation finder sees the citations the code makes (it would pass vacuously otherwise)."""
    assert "Close codes" in cited_sections()


def test_modules_named_in_the_architecture_exist() -> None:
    """Every `package/module.py` docs/architecture.md names is a file under livecli/."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    named = set(re.findall(r"`(?:livecli/)?((?:[a-z_]+/)?[a-z_]+\.py)`", text))
    assert "commands/send.py" in named
    for module in sorted(named):
        assert (ROOT / "livecli" / module).is_file(), f"docs/architecture.md names livecli/{module}, which is gone"


def test_architecture_lists_every_package_and_module() -> None:
    """Each sub-package of livecli has a row in docs/architecture.md's package table naming each of its modules."""
    rows = dict(
        re.findall(r"^\| `livecli/(\w+)/` \| (.*) \|$", ARCHITECTURE.read_text(encoding="utf-8"), re.MULTILINE)
    )
    for package in sorted(p for p in (ROOT / "livecli").iterdir() if (p / "__init__.py").is_file()):
        assert package.name in rows, f"livecli/{package.name}/ is missing from docs/architecture.md"
        for module in sorted(m.stem for m in package.glob("[!_]*.py")):
            assert f"`{module}`" in rows[package.name], f"livecli/{package.name}/{module}.py: not in its row"


def test_no_citation_of_notes_outside_the_repository() -> None:
    """Comments cite docs/wire.md, never the notes the project started from (they are not in the repository)."""
    outside = re.compile(r"(?:protocol|peers)(?:\.md\b|_md)")
    for path in SOURCES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not outside.search(line), (
                f"{path.relative_to(ROOT)}:{number} cites a note outside the repository"
            )
