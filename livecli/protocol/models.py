"""The one table of known Live models and what each accepts (docs/wire.md, "Models").

The client's preflight and the local server both read it, and both apply it through `setup_refusals`, so they
agree on what a model refuses and on the close the service answers it with.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from livecli.protocol.close_reasons import CloseReason

__all__ = [
    "BUILTIN_TOOLS",
    "DEFAULT_MODEL",
    "MODELS",
    "VOICES",
    "ClientContentRule",
    "ModelInfo",
    "Refused",
    "Thinking",
    "bare_model_id",
    "lookup",
    "setup_refusals",
]

DEFAULT_MODEL = "gemini-3.8-live"


class Thinking(enum.Enum):
    """Which thinkingConfig a model takes."""

    NONE = "none"  # thinkingConfig is refused with 1007 (gemini-3.8-live)
    BUDGET = "budget"  # thinkingBudget (2.5)
    LEVEL = "level"  # thinkingLevel minimal|low|medium|high (3.1, default minimal)
    LEVEL_NO_MINIMAL = "level-no-minimal"  # thinkingLevel LOW/MEDIUM/HIGH (3.8 extended thinking)


class ClientContentRule(enum.Enum):
    """When a model accepts `clientContent`."""

    ANY = "any"  # whenever (2.5, 3.8 with explicit roles)
    SEED_ONLY = "seed-only"  # only to seed history, and only with historyConfig (3.1)
    NONE = "none"  # never (translate)


# docs/wire.md, "Built-in tools": the tools the service runs itself, each a `tools` entry `{"<name>": {}}`.
BUILTIN_TOOLS = ("googleSearch", "codeExecution", "urlContext")


@dataclass(frozen=True)
class ModelInfo:
    """What one Live model accepts."""

    id: str
    modalities: frozenset[str]
    thinking: Thinking
    affective_dialog: bool
    builtin_tools: frozenset[str]  # of BUILTIN_TOOLS
    client_content: ClientContentRule
    system_instruction: bool = True
    proactive_audio: str = "optional"  # "optional" | "always" (false refused) | "no"
    backends: frozenset[str] = frozenset({"gemini"})

    @property
    def code_execution(self) -> bool:
        return "codeExecution" in self.builtin_tools


_AUDIO = frozenset({"AUDIO"})
# docs/wire.md, "Models": code execution is not supported on 3.1 and 3.8; search and URL context everywhere but
# the translation model, which takes no tools (livecli's choice where the record is silent).
_ALL_TOOLS = frozenset(BUILTIN_TOOLS)
_NO_CODE = frozenset({"googleSearch", "urlContext"})
_NO_TOOLS: frozenset[str] = frozenset()

MODELS: dict[str, ModelInfo] = {
    m.id: m
    for m in (
        ModelInfo(
            "gemini-3.8-live",
            _AUDIO,
            Thinking.NONE,
            affective_dialog=False,
            builtin_tools=_NO_CODE,
            client_content=ClientContentRule.ANY,
            proactive_audio="always",
            backends=frozenset({"gemini", "vertex"}),
        ),
        ModelInfo(
            "gemini-3.8-live-extended-thinking",
            _AUDIO,
            Thinking.LEVEL_NO_MINIMAL,
            affective_dialog=False,
            builtin_tools=_NO_CODE,
            client_content=ClientContentRule.ANY,
            proactive_audio="always",
        ),
        ModelInfo(
            "gemini-3.1-flash-live-preview",
            _AUDIO,
            Thinking.LEVEL,
            affective_dialog=False,
            builtin_tools=_NO_CODE,
            client_content=ClientContentRule.SEED_ONLY,
            proactive_audio="no",
        ),
        ModelInfo(
            "gemini-2.5-flash-native-audio-preview-12-2025",
            _AUDIO,
            Thinking.BUDGET,
            affective_dialog=True,
            builtin_tools=_ALL_TOOLS,
            client_content=ClientContentRule.ANY,
        ),
        ModelInfo(
            "gemini-2.5-flash-native-audio-preview-09-2025",
            _AUDIO,
            Thinking.BUDGET,
            affective_dialog=True,
            builtin_tools=_ALL_TOOLS,
            client_content=ClientContentRule.ANY,
        ),
        ModelInfo(
            "gemini-3.5-live-translate-preview",
            _AUDIO,
            Thinking.NONE,
            affective_dialog=False,
            builtin_tools=_NO_TOOLS,
            client_content=ClientContentRule.NONE,
            system_instruction=False,
            proactive_audio="no",
        ),
        ModelInfo(
            "gemini-live-2.5-flash-native-audio",
            _AUDIO,
            Thinking.BUDGET,
            affective_dialog=True,
            builtin_tools=_ALL_TOOLS,
            client_content=ClientContentRule.ANY,
            backends=frozenset({"vertex"}),
        ),
        ModelInfo(
            "gemini-live-2.5-flash-preview-native-audio-09-2025",
            _AUDIO,
            Thinking.BUDGET,
            affective_dialog=True,
            builtin_tools=_ALL_TOOLS,
            client_content=ClientContentRule.ANY,
            backends=frozenset({"vertex"}),
        ),
    )
}

# docs/wire.md, "Models": the 30 prebuilt voices; an unknown one is closed with 1007
# "No matching speaker voice found".
VOICES: frozenset[str] = frozenset(
    "Zephyr Puck Charon Kore Fenrir Leda Orus Aoede Callirrhoe Autonoe Enceladus Iapetus Umbriel Algieba "
    "Despina Erinome Algenib Rasalgethi Laomedeia Achernar Alnilam Schedar Gacrux Pulcherrima Achird "
    "Zubenelgenubi Vindemiatrix Sadachbia Sadaltager Sulafat".split()
)


def bare_model_id(model: str) -> str:
    """`models/x`, `publishers/google/models/x` or `projects/.../models/x` → `x`."""
    return model.rsplit("/", 1)[-1]


def lookup(model: str) -> ModelInfo | None:
    """The table entry for a model name in any of its wire forms, or None when unknown."""
    return MODELS.get(bare_model_id(model))


@dataclass(frozen=True)
class Refused:
    """One part of a setup that a model refuses: the setup field (a camelCase dotted path), what the model table
    says about it, and the close the service answers it with."""

    field: str
    why: str
    close: CloseReason


_LEVELS = {
    Thinking.LEVEL: ("MINIMAL", "LOW", "MEDIUM", "HIGH"),
    Thinking.LEVEL_NO_MINIMAL: ("LOW", "MEDIUM", "HIGH"),
}


def _thinking_refusal(thinking: Mapping[str, Any], info: ModelInfo) -> str | None:
    """Why `info` refuses this thinkingConfig (docs/wire.md, "Models"), or None."""
    if info.thinking is Thinking.NONE:
        return "takes no thinkingConfig"
    if info.thinking is Thinking.BUDGET:
        return "takes thinkingBudget, not thinkingLevel" if "thinkingLevel" in thinking else None
    if "thinkingBudget" in thinking:
        return "takes thinkingLevel, not thinkingBudget"
    levels = _LEVELS[info.thinking]
    level = thinking.get("thinkingLevel")
    if level is not None and str(level).upper() not in levels:
        return f"takes thinkingLevel {'/'.join(levels)}, not {level!r}"
    return None


def setup_refusals(setup: Mapping[str, Any], info: ModelInfo) -> list[Refused]:
    """What in a camelCase `setup` body the model table says `info` refuses, in the order the server checks it.

    The modality and the voice come first (their closes have their own reasons); the rest is 1007, or 1008 for a
    built-in tool the model lacks (docs/wire.md, "Close codes").
    """
    from livecli.protocol import close_reasons as cr  # here: `livecli --help` reads this table, not the closes

    refused: list[Refused] = []
    generation = setup.get("generationConfig") or {}
    modalities = generation.get("responseModalities") or ["AUDIO"]
    if any(m not in info.modalities for m in modalities):
        close = cr.NON_AUDIO if "AUDIO" not in modalities else cr.INVALID_ARGUMENT
        answers = "/".join(sorted(info.modalities))
        refused.append(Refused("generationConfig.responseModalities", f"answers only in {answers}", close))
    voice = ((generation.get("speechConfig") or {}).get("voiceConfig") or {}).get("prebuiltVoiceConfig") or {}
    if voice.get("voiceName") is not None and voice["voiceName"] not in VOICES:
        refused.append(Refused("generationConfig.speechConfig", "has no such prebuilt voice", cr.NO_VOICE))
    thinking = generation.get("thinkingConfig")
    why = _thinking_refusal(thinking, info) if thinking is not None else None
    if why is not None:
        refused.append(Refused("generationConfig.thinkingConfig", why, cr.INVALID_ARGUMENT))
    if generation.get("enableAffectiveDialog") is True and not info.affective_dialog:
        refused.append(
            Refused("generationConfig.enableAffectiveDialog", "has no affective dialog", cr.INVALID_ARGUMENT)
        )
    if "systemInstruction" in setup and not info.system_instruction:
        refused.append(Refused("systemInstruction", "takes no system instruction", cr.INVALID_ARGUMENT))
    proactivity = setup.get("proactivity")
    if proactivity is not None and info.proactive_audio == "no":
        refused.append(Refused("proactivity", "has no proactive audio", cr.INVALID_ARGUMENT))
    elif (
        proactivity is not None and info.proactive_audio == "always" and proactivity.get("proactiveAudio") is False
    ):
        refused.append(Refused("proactivity.proactiveAudio", "always has proactive audio on", cr.INVALID_ARGUMENT))
    for tool in setup.get("tools") or []:
        for name in BUILTIN_TOOLS:
            if name in tool and name not in info.builtin_tools:
                refused.append(Refused(f"tools.{name}", f"has no {name} tool", cr.NOT_SUPPORTED))
    return refused
