"""Audio benchmarks: livecli's resampler beside soxr (shared anchors), and send-path CPU per second of audio.

1. Runs ../shared/bench/resample_anchors.py with `--extra ours=livecli.audio:resample` (throughput, streaming,
   quality), single-threaded BLAS, so livecli's rows print beside soxr HQ/VHQ from the same run.
2. Send path after decoding (mono mix → resample → int16 → base64 → JSON text, 40 ms chunks), CPU ms per second
   of audio, livecli vs a soxr HQ + json.dumps reference, on the same 44.1k/48k WAV and FLAC files; decode cost
   is printed on its own.

Usage: bench/bench_audio.py [--quick] [--skip-anchors] [--seconds S]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy loads: the targets are single-threaded

import argparse  # noqa: E402
import base64  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

from livecli.audio import decode as audio  # noqa: E402
from livecli.audio.chunks import chunk_bytes  # noqa: E402

ANCHORS = Path(__file__).resolve().parents[1].parent / "shared/bench/resample_anchors.py"
CHUNK_MS = 40
MIME = "audio/pcm;rate=16000"


def run_anchors(quick: bool) -> None:
    print("## Resampler anchors (livecli = `ours`, single-threaded)\n", flush=True)
    if not ANCHORS.exists():
        print(f"skipped: {ANCHORS} not found (it lives outside this repository)\n")
        return
    cmd = [sys.executable, str(ANCHORS), "--extra", "ours=livecli.audio:resample", "--threads", "1"]
    cmd += ["--sections", "throughput,stream,quality", "--only", "soxr_hq,soxr_vhq,ours"]
    cmd += ["--quick"] if quick else ["--reps", "5", "--duration", "30"]
    subprocess.run(cmd, check=False, cwd=tempfile.gettempdir())


def audio_message() -> Callable[[bytes], str]:
    try:
        from livecli.protocol.client_messages import audio_message as build
    except ImportError:
        return lambda pcm: json.dumps({"realtimeInput": {"audio": {"data": _b64(pcm), "mimeType": MIME}}})
    return build


def _b64(pcm: bytes) -> str:
    return base64.b64encode(pcm).decode("ascii")


def make_files(folder: Path, seconds: float) -> list[Path]:
    """Speech-like stereo test files: noise shaped by a slow envelope, plus a sweep."""
    paths = []
    for rate in (44100, 48000):
        t = np.arange(int(rate * seconds)) / rate
        rng = np.random.default_rng(rate)
        envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)
        left = 0.2 * envelope * rng.standard_normal(len(t)).clip(-4, 4) / 4
        right = 0.3 * np.sin(2 * np.pi * (100 + 5000 * t / seconds) * t)
        stereo = np.column_stack([left, right])
        for fmt in ("WAV", "FLAC"):
            path = folder / f"in_{rate // 100 / 10:g}k.{fmt.lower()}"
            sf.write(path, stereo, rate, format=fmt, subtype="PCM_16")
            paths.append(path)
    return paths


def decode_only(path: Path) -> list[np.ndarray]:
    """Decode with livecli's block size into memory, nothing else (float32 frames × channels)."""
    with sf.SoundFile(path) as f:
        block = audio.decode_block(f.samplerate, f.channels)
        blocks = []
        while len(data := f.read(block, dtype="float32", always_2d=True)):
            blocks.append(data)
        return blocks


def livecli_path(path: Path, blocks: list[np.ndarray]) -> int:
    """livecli's own send path from already-decoded blocks: mono mix → resample → int16 → chunks → JSON text."""
    build = audio_message()
    n = 0
    with audio.open_input(str(path)) as a:
        a._read_blocks = lambda block, dtype: iter(blocks)  # type: ignore[method-assign]  # skip the decode
        for chunk in a.pcm16(CHUNK_MS):
            n += len(build(chunk))
    return n


def soxr_path(path: Path, blocks: list[np.ndarray]) -> int:
    """Reference from the same blocks: mean → soxr HQ stream → int16 → 40 ms chunks → base64 → json.dumps."""
    import soxr

    n = 0
    size = chunk_bytes(CHUNK_MS)
    rate, channels = sf.info(str(path)).samplerate, blocks[0].shape[1]
    stream = soxr.ResampleStream(rate, 16000, 1, dtype="float32", quality="HQ")
    weights = np.full(channels, 1 / channels, np.float32)
    pending = b""

    def emit(y: np.ndarray, last: bool) -> Iterator[bytes]:
        nonlocal pending
        data = pending + np.clip(np.rint(y * 32768), -32768, 32767).astype("<i2").tobytes()
        end = len(data) if last else len(data) - len(data) % size
        for i in range(0, end, size):
            yield data[i : i + size]
        pending = data[end:]

    for data in blocks:
        for chunk in emit(stream.resample_chunk(data @ weights), False):
            n += len(json.dumps({"realtimeInput": {"audio": {"data": _b64(chunk), "mimeType": MIME}}}))
    for chunk in emit(stream.resample_chunk(np.zeros(0, np.float32), last=True), True):
        n += len(json.dumps({"realtimeInput": {"audio": {"data": _b64(chunk), "mimeType": MIME}}}))
    return n


def cpu_ms(fns: list[Callable[[], object]], reps: int) -> list[float]:
    """CPU ms of each function: runs interleaved round-robin (same machine load for all), minimum kept."""
    for fn in fns:
        fn()  # warm-up: plans, caches, page cache
    best = [float("inf")] * len(fns)
    for _ in range(reps):
        for i, fn in enumerate(fns):
            start = time.process_time()
            fn()
            best[i] = min(best[i], time.process_time() - start)
    return [b * 1000 for b in best]


def send_path(seconds: float, reps: int) -> None:
    print(
        f"## Send path CPU per second of audio ({CHUNK_MS} ms chunks, best of {reps} interleaved runs, 1 thread)\n"
    )
    print("both paths start from the same blocks decoded in memory; decode measured alone; lower is better\n")
    print("| file | decode ms/s | livecli after decode ms/s | soxr+json.dumps after decode ms/s | ratio |")
    print("|---|---|---|---|---|")
    try:
        import soxr  # noqa: F401
    except ImportError:
        print("soxr not installed: reference skipped")
        return
    with tempfile.TemporaryDirectory(prefix="livecli-bench-") as folder:
        for path in make_files(Path(folder), seconds):
            blocks = decode_only(path)
            decode, ours, ref = (
                ms / seconds
                for ms in cpu_ms(
                    [
                        functools.partial(decode_only, path),
                        functools.partial(livecli_path, path, blocks),
                        functools.partial(soxr_path, path, blocks),
                    ],
                    reps,
                )
            )
            print(f"| {path.name} | {decode:.3f} | {ours:.3f} | {ref:.3f} | {ours / ref:.2f} |", flush=True)
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short signals, fewer repetitions")
    parser.add_argument("--skip-anchors", action="store_true", help="only the send-path measurement")
    parser.add_argument("--seconds", type=float, default=None, help="length of the send-path test files")
    args = parser.parse_args()
    if not args.skip_anchors:
        run_anchors(args.quick)
    send_path(args.seconds or (10.0 if args.quick else 30.0), 3 if args.quick else 7)


if __name__ == "__main__":
    main()
