#!/usr/bin/env bash
# The system packages `livecli talk`'s real-audio test needs on a bare Debian machine (CI runs as root):
#   libportaudio2       the PortAudio library sounddevice (the talk extra) loads
#   pulseaudio          a sound server with no sound card: null sinks paced by its own clock stand in for the
#                       microphone and the speaker (tests/commands/talk/test_talk_portaudio.py starts a private one)
#   pulseaudio-utils    paplay/parecord: the test plays speech into the "microphone" and records the "speaker"
#   libasound2-plugins  ALSA's pulse plugin: PortAudio reaches the null sinks through ALSA devices of type pulse
# Idempotent: installs only what is missing, so it returns at once where everything is there.
set -euo pipefail

missing=()
ldconfig -p 2>/dev/null | grep -q 'libportaudio\.so\.2' || missing+=(libportaudio2)
command -v pulseaudio >/dev/null || missing+=(pulseaudio)
command -v paplay >/dev/null || missing+=(pulseaudio-utils)
ls /usr/lib/*/alsa-lib/libasound_module_pcm_pulse.so >/dev/null 2>&1 || missing+=(libasound2-plugins)

if ((${#missing[@]} == 0)); then
    echo "audio packages: nothing to install (libportaudio2, pulseaudio, pulseaudio-utils, libasound2-plugins)"
    exit 0
fi
echo "audio packages: installing ${missing[*]}"
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
