"""`--dry-run`: print the resolved URL, headers, which credential would be used, the exact setup and the chunk
plan (or the prompt's frame, for `text`) with every secret redacted.

Opens no socket and needs no credential: resolve the target with `fetch_credentials=False` first, which puts a
placeholder where a credential is missing and says what a real run would need.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

from livecli.auth.target import describe_credentials
from livecli.env import Env
from livecli.protocol.client_messages import client_content_message, text_message
from livecli.protocol.endpoints import Target
from livecli.protocol.redact import MASK, printable, redact, redact_url
from livecli.protocol.wire import INPUT_BYTES_PER_S

if TYPE_CHECKING:
    from livecli.media.images import ImageFrame

__all__ = ["dry_run", "dry_run_report", "prompt_frame", "redacted_headers"]

# Headers whose whole value is a credential, whatever the secrets list says.
SECRET_HEADERS = frozenset({"x-goog-api-key", "authorization", "proxy-authorization", "cookie"})

ChunkPlan = Sequence[int] | Mapping[str, Sequence[int]]


def redacted_headers(headers: Mapping[str, str], secrets: Sequence[str]) -> dict[str, str]:
    """Headers with credential values masked; `Authorization: Bearer ***` keeps its scheme."""
    shown = {}
    for name, value in headers.items():
        if name.lower() in SECRET_HEADERS:
            scheme, space, _rest = value.partition(" ")
            shown[name] = f"{scheme} {MASK}" if space and name.lower() == "authorization" else MASK
        else:
            shown[name] = redact(value, secrets)
    return shown


def _runs(sizes: Sequence[int]) -> list[list[int]]:
    """Chunk sizes as [size, count] runs (a long file's plan stays short)."""
    runs: list[list[int]] = []
    for size in sizes:
        if runs and runs[-1][0] == size:
            runs[-1][1] += 1
        else:
            runs.append([size, 1])
    return runs


def _plans(chunk_plan: ChunkPlan) -> list[dict[str, Any]]:
    items = chunk_plan.items() if isinstance(chunk_plan, Mapping) else [("input", chunk_plan)]
    return [
        {
            "input": name,
            "chunks": len(sizes),
            "bytes": sum(sizes),
            "duration_s": round(sum(sizes) / INPUT_BYTES_PER_S, 3),
            "sizes": _runs(sizes),
        }
        for name, sizes in items
    ]


def prompt_frame(prompt: str | None, client_content: bool) -> str | None:
    """The frame `text` sends its prompt in (None for audio inputs): `realtimeInput.text` or `clientContent`."""
    if prompt is None:
        return None
    return client_content_message(prompt) if client_content else text_message(prompt)


def _images(images: Sequence[ImageFrame]) -> list[dict[str, Any]]:
    """What each --image becomes (its content's type, and whether it goes as it is or as a JPEG)."""
    return [
        {
            "file": image.name,
            "type": image.source_type,
            "mime": image.mime,
            "bytes": len(image.data),
            "width": image.width,
            "height": image.height,
            "transcoded": image.transcoded,
        }
        for image in images
    ]


def dry_run_report(
    target: Target,
    setup_payload: Mapping[str, Any] | str,
    chunk_plan: ChunkPlan,
    prompt: str | None = None,
    images: Sequence[ImageFrame] = (),
) -> dict[str, Any]:
    """Everything --dry-run shows, already redacted; `prompt` is the frame that carries `text`'s prompt;
    `images` the --image frames sent with the first turn."""
    secrets = target.secrets
    setup_text = (
        setup_payload if isinstance(setup_payload, str) else json.dumps(setup_payload, separators=(",", ":"))
    )
    setup_text = redact(setup_text, secrets)
    return {
        "type": "dry_run",
        "backend": target.backend,
        "url": redact_url(target.url, secrets),
        "headers": redacted_headers(target.headers, secrets),
        "model": target.model,
        "proxy_from_env": target.use_env_proxy,
        "credentials": redact(describe_credentials(target), secrets),
        "sources": {k: redact(v, secrets) for k, v in target.sources.items()},
        "setup": json.loads(setup_text),
        "setup_frame": setup_text,
        "chunk_plan": _plans(chunk_plan),
        **({"prompt_frame": redact(prompt, secrets)} if prompt is not None else {}),
        **({"images": _images(images)} if images else {}),
    }


def dry_run(
    target: Target,
    setup_payload: Mapping[str, Any] | str,
    chunk_plan: ChunkPlan,
    env: Env,
    json: bool,  # the contract's name; shadows the module only inside this function
    prompt: str | None = None,
    images: Sequence[ImageFrame] = (),
) -> int:
    """Print the dry-run report (text, or one JSON object with json=True) on stdout; returns exit status 0."""
    report = dry_run_report(target, setup_payload, chunk_plan, prompt, images)
    _write(env.stdout, _as_json(report) if json else _as_text(report))
    return 0


def _as_json(report: Mapping[str, Any]) -> str:
    return json.dumps(report) + "\n"


def _as_text(report: Mapping[str, Any]) -> str:
    lines = [
        f"backend: {report['backend']}",
        f"url: {report['url']}",
        f"proxy from environment: {'yes' if report['proxy_from_env'] else 'no (direct)'}",
        "headers:",
        *(f"  {name}: {value}" for name, value in report["headers"].items()),
        f"credentials: {report['credentials']}",
        f"model: {report['model']}",
        "setup (sent as the first frame):",
        f"  {report['setup_frame']}",
    ]
    if "prompt_frame" in report:
        lines += ["prompt (sent after setupComplete):", f"  {report['prompt_frame']}"]
    else:
        lines.append("chunk plan:")
    for plan in report["chunk_plan"]:
        runs = ", ".join(f"{count}×{size} B" for size, count in plan["sizes"]) or "no chunks"
        lines.append(
            f"  {plan['input']}: {plan['chunks']} chunks, {plan['bytes']} B, {plan['duration_s']} s ({runs})"
        )
    if "images" in report:
        lines.append("images (sent with the first turn, before its audio or text):")
        lines += [
            f"  {i['file']}: {i['type']}, sent as {i['mime']} {i['width']}x{i['height']}, {i['bytes']} B"
            + (" (transcoded)" if i["transcoded"] else " (as it is)")
            for i in report["images"]
        ]
    # The credentials line above already says where the credential came from.
    sources = {name: source for name, source in report["sources"].items() if name != "credentials"}
    if sources:
        lines.append("from: " + ", ".join(f"{k}={v}" for k, v in sources.items()))
    lines.append("dry run: nothing was sent")
    return "".join(printable(line) + "\n" for line in lines)


def _write(stream: BinaryIO, text: str) -> None:
    stream.write(text.encode("utf-8"))
    stream.flush()
