"""CPU per second of audio: `livecli send --speed 0` vs the google-genai SDK, same PCM, same server, over TLS.

Both clients run as whole processes (reply included) against one local wss server (in this process, so its
CPU is not counted); each sends a 16 kHz mono WAV in 40 ms chunks bracketed by activityStart/activityEnd
and reads the reply to turnComplete. Start-up is removed by timing a long and a short input:
CPU/s = (cpu(long) - cpu(short)) / (long_s - short_s). Target: livecli ≤ 0.2× the SDK.
"""

from __future__ import annotations

import argparse
import os
import resource
import ssl
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import soundfile as sf
import trustme

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from livecli.protocol.endpoints import GEMINI_DEFAULT_VERSION, gemini_path
from livecli.server import ServerConfig, ServerThread

TARGET_RATIO = 0.2
PATH = gemini_path(GEMINI_DEFAULT_VERSION)

SDK_CLIENT = textwrap.dedent(
    """
    import asyncio, sys, wave
    from google import genai
    from google.genai import types

    async def main(path, base_url):
        with wave.open(path, "rb") as w:
            pcm = w.readframes(w.getnframes())
        options = types.HttpOptions(base_url=base_url, api_version="v1beta")
        client = genai.Client(api_key="bench-key", http_options=options)
        config = {"response_modalities": ["AUDIO"],
                  "realtime_input_config": {"automatic_activity_detection": {"disabled": True}}}
        reply = 0
        async with client.aio.live.connect(model="gemini-3.8-live", config=config) as session:
            await session.send_realtime_input(activity_start=types.ActivityStart())
            for i in range(0, len(pcm), 1280):
                blob = types.Blob(data=pcm[i:i + 1280], mime_type="audio/pcm;rate=16000")
                await session.send_realtime_input(audio=blob)
            await session.send_realtime_input(activity_end=types.ActivityEnd())
            async for message in session.receive():
                if message.data:
                    reply += len(message.data)
                if message.server_content and message.server_content.turn_complete:
                    break
        assert reply > 0, "no reply"

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


def child_cpu(argv: list[str], env: dict[str, str]) -> float:
    """User+system CPU seconds of one child process run to completion."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(argv, env=env, capture_output=True, timeout=600)
    if proc.returncode != 0:
        raise SystemExit(f"{argv[:4]}… failed ({proc.returncode}):\n{proc.stderr.decode()[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def make_wav(path: Path, seconds: float) -> str:
    rng = np.random.default_rng(1)
    samples = (rng.standard_normal(int(seconds * 16000)) * 3000).clip(-32768, 32767).astype(np.int16)
    sf.write(path, samples, 16000, subtype="PCM_16")
    return str(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="long input duration (default 600)")
    parser.add_argument("--short", type=float, default=5.0, help="short input duration (default 5)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the minimum counts")
    parser.add_argument("--quick", action="store_true", help="30 s long input, 2 runs")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.repeat = 30.0, 2
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ca = trustme.CA()
        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
        ca.cert_pem.write_to_path(str(folder / "ca.pem"))
        env = {**os.environ, "SSL_CERT_FILE": str(folder / "ca.pem")}
        # No proxies; and compiled bytecode may be cached, so start-up costs the same in every run (a shell
        # with PYTHONDONTWRITEBYTECODE recompiles every module each time, which swamps the difference measured).
        for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "PYTHONDONTWRITEBYTECODE"):
            env.pop(name, None)
        (folder / "sdk_client.py").write_text(SDK_CLIENT)
        long_wav, short_wav = (
            make_wav(folder / "long.wav", args.seconds),
            make_wav(folder / "short.wav", args.short),
        )
        config = ServerConfig(host="127.0.0.1", port=0, reply_speed=0, ssl_context=server_ctx)
        with ServerThread(config) as server:
            port = server.port
            clients = {
                "livecli send": lambda wav: [
                    sys.executable, "-m", "livecli", "send", wav, "--endpoint", f"wss://127.0.0.1:{port}{PATH}",
                    "--speed", "0", "-q", "-o", str(folder / "reply.wav"),
                ],
                "google-genai SDK": lambda wav: [
                    sys.executable, str(folder / "sdk_client.py"), wav, f"https://127.0.0.1:{port}"
                ],
            }  # fmt: skip
            per_second = {}
            for name, argv in clients.items():
                long_cpu = min(child_cpu(argv(long_wav), env) for _ in range(args.repeat))
                short_cpu = min(child_cpu(argv(short_wav), env) for _ in range(args.repeat))
                per_second[name] = (long_cpu - short_cpu) / (args.seconds - args.short)
                print(
                    f"{name:<18} cpu {short_cpu:6.2f} s ({args.short:g} s input), {long_cpu:6.2f} s "
                    f"({args.seconds:g} s input) → {per_second[name] * 1000:7.2f} ms CPU per second of audio"
                )
    ratio = per_second["livecli send"] / per_second["google-genai SDK"]
    print(f"livecli / SDK = {ratio:.3f} (target ≤ {TARGET_RATIO})")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
