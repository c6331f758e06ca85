"""`--junit FILE`: the suite as JUnit XML, the format CI reporters read (Jenkins, GitLab, GitHub Actions
reporters, Buildkite).

One `<testsuite>` in a `<testsuites>` root; a `<testcase>` per case (classname: the suite's name, name: the case
id); a fail is a `<failure>` whose message is the first failed expectation and whose text lists all of them, an
error an `<error>` with its exit class; `<system-out>` holds the transcripts. Built from results.jsonl records with
the standard library's ElementTree, which escapes markup; characters XML 1.0 cannot hold at all (controls, lone
surrogates from a server's `\\ud800`) are written as visible escapes. Written atomically (temporary file, then
rename), so a CI job never reads half a file.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from livecli.commands.atomic_write import write_atomically

__all__ = ["junit_xml", "write_junit", "xml_text"]

# Not in XML 1.0's Char production: C0 controls but tab/newline/return, lone surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """`text` with every character XML 1.0 cannot carry written as a visible `\\xNN`/`\\uNNNN` escape."""
    return _NOT_XML.sub(lambda m: repr(m[0])[1:-1] if ord(m[0]) < 0xD800 else f"\\u{ord(m[0]):04x}", text)


def junit_xml(records: Sequence[dict[str, Any]], suite_name: str) -> bytes:
    """The JUnit XML document for these results.jsonl records."""
    failures = sum(r["status"] == "fail" for r in records)
    errors = sum(r["status"] == "error" for r in records)
    total_s = sum(float(r.get("duration_s") or 0) for r in records)
    root = ET.Element("testsuites", name=xml_text(suite_name), tests=str(len(records)))
    root.set("failures", str(failures))
    root.set("errors", str(errors))
    root.set("time", f"{total_s:.3f}")
    suite = ET.SubElement(root, "testsuite", name=xml_text(suite_name), tests=str(len(records)))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", "0")
    suite.set("time", f"{total_s:.3f}")
    for record in records:
        case = ET.SubElement(suite, "testcase", name=xml_text(record["id"]), classname=xml_text(suite_name))
        case.set("time", f"{float(record.get('duration_s') or 0):.3f}")
        messages = [str(f.get("message", "")) for f in record.get("failures", [])]
        if record["status"] == "fail":
            failure = ET.SubElement(case, "failure", message=xml_text(messages[0] if messages else "failed"))
            failure.set("type", "expectation")
            failure.text = xml_text("\n".join(messages))
        elif record["status"] == "error":
            error = ET.SubElement(case, "error", message=xml_text(str(record.get("error") or "error")))
            error.set("type", f"exit {record.get('exit_class')}")
            error.text = xml_text("\n".join([str(record.get("error") or ""), *messages]).strip())
        ET.SubElement(case, "system-out").text = xml_text(_transcripts(record))
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _transcripts(record: dict[str, Any]) -> str:
    """One line per turn: what was sent, what was heard, what the model said; then the attempts."""
    lines = []
    for number, item in enumerate(record.get("inputs", []), 1):
        lines.append(f"input {number} ({item.get('kind')}): {item.get('source')}")
        for turn in item.get("turns", []):
            lines.append(f"  heard: {turn.get('input_transcript') or ''}")
            lines.append(f"  said: {turn.get('output_transcript') or turn.get('text') or ''}")
        if item.get("reply"):
            lines.append(f"  reply: {item['reply']}")
    lines.append(f"attempts: {record.get('attempts')}, exit class {record.get('exit_class')}")
    return "\n".join(lines)


def write_junit(path: str, records: Sequence[dict[str, Any]], suite_name: str) -> None:
    """Write the JUnit XML to `path` atomically."""
    write_atomically(path, junit_xml(records, suite_name), flag="--junit")
