#!/bin/sh
# Rebuild samples/ from scratch: speech from Debian's espeak-ng, resampled and re-encoded with sox.
# Needs: espeak-ng, sox (with FLAC support). Dither is off (sox -D) so the files are reproducible.
# Every output stays well under 200 KB; tests and `make demo` read them.
set -eu
cd "$(dirname "$0")/.."
out=samples
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$out"

speak() {  # speak <text> <file>: espeak-ng speech (22.05 kHz mono), leading/trailing quiet trimmed
    espeak-ng -v en-us -s 165 -w "$work/raw.wav" "$1"
    sox -D "$work/raw.wav" "$2" silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse
}

speak "Hello, this is a livecli test." "$work/hello.wav"
speak "Hello, livecli." "$work/short.wav"
speak "Before the pause." "$work/before.wav"
speak "And after it." "$work/after.wav"

# 16 kHz mono 16-bit: the wire format itself (bit-exact path).
sox -D "$work/hello.wav" -r 16000 -c 1 -b 16 -e signed-integer "$out/hello_16k.wav"
# 44.1 kHz stereo FLAC (both channels the same speech, the right one 6 dB lower).
sox -D "$work/hello.wav" -r 44100 -c 1 -b 16 "$work/h44.wav"
sox -D -M "$work/h44.wav" -v 0.5 "$work/h44.wav" -b 16 "$out/hello.flac"
# 48 kHz 32-bit float WAV, kept under one second so it stays small.
sox -D "$work/short.wav" -r 48000 -c 1 -e floating-point -b 32 "$out/hello_48k_float.wav" trim 0 0.95
# 16 kHz mono: speech, exactly one second of digital silence, speech.
sox -D "$work/before.wav" -r 16000 -c 1 -b 16 "$work/b16.wav"
sox -D "$work/after.wav" -r 16000 -c 1 -b 16 "$work/a16.wav"
sox -D -r 16000 -c 1 -n -b 16 "$work/gap.wav" trim 0 16000s
sox -D "$work/b16.wav" "$work/gap.wav" "$work/a16.wav" "$out/pause.wav"

ls -l "$out"
