"""The one table of known Live models and what each accepts (docs/wire.md, "Models").

The client's preflight and the local server both read it, so they agree on what a model refuses.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "DEFAULT_MODEL",
    "MODELS",
    "VOICES",
    "ClientContentRule",
    "ModelInfo",
    "Thinking",
    "bare_model_id",
    "lookup",
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


@dataclass(frozen=True)
class ModelInfo:
    """What one Live model accepts."""

    id: str
    modalities: frozenset[str]
    thinking: Thinking
    affective_dialog: bool
    code_execution: bool
    client_content: ClientContentRule
    system_instruction: bool = True
    proactive_audio: str = "optional"  # "optional" | "always" (false refused) | "no"
    backends: frozenset[str] = frozenset({"gemini"})


_AUDIO = frozenset({"AUDIO"})

MODELS: dict[str, ModelInfo] = {
    m.id: m
    for m in (
        ModelInfo(
            "gemini-3.8-live",
            _AUDIO,
            Thinking.NONE,
            affective_dialog=False,
            code_execution=False,
            client_content=ClientContentRule.ANY,
            proactive_audio="always",
            backends=frozenset({"gemini", "vertex"}),
        ),
        ModelInfo(
            "gemini-3.8-live-extended-thinking",
            _AUDIO,
            Thinking.LEVEL_NO_MINIMAL,
            affective_dialog=False,
            code_execution=False,
            client_content=ClientContentRule.ANY,
            proactive_audio="always",
        ),
        ModelInfo(
            "gemini-3.1-flash-live-preview",
            _AUDIO,
            Thinking.LEVEL,
            affective_dialog=False,
            code_execution=False,
            client_content=ClientContentRule.SEED_ONLY,
            proactive_audio="no",
        ),
        ModelInfo(
            "gemini-2.5-flash-native-audio-preview-12-2025",
            _AUDIO,
            Thinking.BUDGET,
            affective_dialog=True,
            code_execution=True,
            client_content=ClientContentRule.ANY,
        ),
        ModelInfo(
            "gemini-2.5-flash-native-audio-preview-09-2025",
            _AUDIO,
            Thinking.BUDGET,
            affective_dialog=True,
            code_execution=True,
            client_content=ClientContentRule.ANY,
        ),
        ModelInfo(
            "gemini-3.5-live-translate-preview",
            _AUDIO,
            Thinking.NONE,
            affective_dialog=False,
            code_execution=False,
            client_content=ClientContentRule.NONE,
            system_instruction=False,
            proactive_audio="no",
        ),
        ModelInfo(
            "gemini-live-2.5-flash-native-audio",
            _AUDIO,
            Thinking.BUDGET,
            affective_dialog=True,
            code_execution=True,
            client_content=ClientContentRule.ANY,
            backends=frozenset({"vertex"}),
        ),
        ModelInfo(
            "gemini-live-2.5-flash-preview-native-audio-09-2025",
            _AUDIO,
            Thinking.BUDGET,
            affective_dialog=True,
            code_execution=True,
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
