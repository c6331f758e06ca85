"""--tools FILE.py: each annotation kind becomes the API's schema, and calls run the functions in-process."""

from __future__ import annotations

import asyncio
import re
import textwrap
import threading
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livecli.errors import UsageError
from livecli.tools.api_schema import check_declaration, check_schema
from livecli.tools.base import ToolFailed
from livecli.tools.python_schema import schema_of
from livecli.tools.python_source import PythonSource

MODULE = '''
from __future__ import annotations

import asyncio
import dataclasses
import enum
from typing import Annotated, Literal, Optional, TypedDict

from os.path import join  # imported, not defined here: not declared


class Place(TypedDict):
    city: str
    country: Optional[str]


@dataclasses.dataclass
class Window:
    start: int
    days: int = 1


class Unit(enum.Enum):
    C = "celsius"
    F = "fahrenheit"


def get_weather(
    place: Place,
    unit: Literal["C", "F"] = "C",
    window: Window | None = None,
    tags: list[str] | None = None,
    note: Annotated[str, "free text for the forecaster"] = "",
) -> dict:
    """Get the weather for a place.

    This second paragraph is not part of the description.
    """
    days = window.days if window is not None else 0
    return {"city": place["city"], "unit": unit, "days": days, "window_is": type(window).__name__}


def add(a: int, b: float) -> float:
    "Add two numbers."
    return a + b


async def slow(seconds: float, temperature: Unit = Unit.C) -> str:
    await asyncio.sleep(seconds)
    return temperature.value


def fails(flag: bool) -> None:
    raise RuntimeError("the backend is down")


def _private(x: int) -> int:
    return x
'''


async def started(tmp_path: Path, text: str = MODULE, name: str = "tools.py") -> PythonSource:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    source = PythonSource(str(path))
    await source.start()
    return source


def by_name(source: PythonSource) -> dict[str, dict[str, Any]]:
    return {decl["name"]: decl for decl in source.declarations()}


async def test_public_functions_defined_in_the_module_are_declared(tmp_path: Path) -> None:
    decls = by_name(await started(tmp_path))
    assert sorted(decls) == ["add", "fails", "get_weather", "slow"]


async def test_the_first_docstring_paragraph_is_the_description(tmp_path: Path) -> None:
    decls = by_name(await started(tmp_path))
    assert decls["get_weather"]["description"] == "Get the weather for a place."
    assert decls["add"]["description"] == "Add two numbers."
    assert "description" not in decls["slow"]


async def test_scalars_map_to_uppercase_types_and_defaults_are_optional(tmp_path: Path) -> None:
    add = by_name(await started(tmp_path))["add"]["parameters"]
    assert add == {
        "type": "OBJECT",
        "properties": {"a": {"type": "INTEGER"}, "b": {"type": "NUMBER"}},
        "required": ["a", "b"],
    }
    fails = by_name(await started(tmp_path))["fails"]["parameters"]
    assert fails["properties"]["flag"] == {"type": "BOOLEAN"}


async def test_literal_enum_list_typeddict_dataclass_optional_and_annotated(tmp_path: Path) -> None:
    decls = by_name(await started(tmp_path))
    params = decls["get_weather"]["parameters"]
    props = params["properties"]
    assert params["required"] == ["place"]
    assert props["unit"] == {"type": "STRING", "enum": ["C", "F"]}
    assert props["place"] == {
        "type": "OBJECT",
        "properties": {"city": {"type": "STRING"}, "country": {"type": "STRING", "nullable": True}},
        "required": ["city", "country"],
    }
    assert props["window"] == {
        "type": "OBJECT",
        "properties": {"start": {"type": "INTEGER"}, "days": {"type": "INTEGER"}},
        "required": ["start"],
        "nullable": True,
    }
    assert props["tags"] == {"type": "ARRAY", "items": {"type": "STRING"}, "nullable": True}
    assert props["note"] == {"type": "STRING", "description": "free text for the forecaster"}
    assert decls["slow"]["parameters"]["properties"]["temperature"] == {
        "type": "STRING",
        "enum": ["celsius", "fahrenheit"],
    }


async def test_every_declaration_passes_the_api_subset_check(tmp_path: Path) -> None:
    for decl in (await started(tmp_path)).declarations():
        assert check_declaration(decl) == decl


async def test_a_dict_result_is_the_response_and_dataclasses_are_built(tmp_path: Path) -> None:
    source = await started(tmp_path)
    args = {"place": {"city": "Paris", "country": None}, "window": {"start": 1, "days": 3}}
    response = await source.call("get_weather", args, call_id="c1")
    assert response == {"city": "Paris", "unit": "C", "days": 3, "window_is": "Window"}


async def test_another_value_answers_result(tmp_path: Path) -> None:
    source = await started(tmp_path)
    assert await source.call("add", {"a": 2, "b": 0.5}, call_id="c1") == {"result": 2.5}
    assert await source.call("slow", {"seconds": 0, "temperature": "fahrenheit"}, call_id="c2") == {
        "result": "fahrenheit"
    }


async def test_a_function_that_raises_is_a_tool_failure_with_its_message(tmp_path: Path) -> None:
    source = await started(tmp_path)
    with pytest.raises(ToolFailed, match="RuntimeError: the backend is down"):
        await source.call("fails", {"flag": True}, call_id="c1")


async def test_arguments_that_do_not_fit_the_signature_are_a_tool_failure(tmp_path: Path) -> None:
    source = await started(tmp_path)
    with pytest.raises(ToolFailed, match="bad arguments for add"):
        await source.call("add", {"a": 1}, call_id="c1")
    with pytest.raises(ToolFailed, match="bad arguments for slow"):
        await source.call("slow", {"seconds": 0, "temperature": "kelvin"}, call_id="c2")


async def test_sync_functions_run_off_the_event_loop(tmp_path: Path) -> None:
    source = await started(
        tmp_path, "import threading\ndef where() -> str:\n    return threading.current_thread().name\n"
    )
    response = await source.call("where", {}, call_id="c1")
    assert response["result"] != threading.current_thread().name


async def test_a_cancelled_coroutine_stops(tmp_path: Path) -> None:
    source = await started(tmp_path)
    task = asyncio.create_task(source.call("slow", {"seconds": 30}, call_id="c1"))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("def f(x):\n    pass\n", "f(x): needs a type annotation"),
        ("def f(*xs: int):\n    pass\n", "*args and **kwargs"),
        ("def f(x: dict):\n    pass\n", "f(x): dict has no schema"),
        ("def f(x: list):\n    pass\n", "say what the list holds"),
        ("from typing import Literal\ndef f(x: Literal[1, 2]):\n    pass\n", "Literal values must be strings"),
        ("def f(:\n", "line 1"),
        ("raise ImportError('no such backend')\n", "importing it failed: ImportError: no such backend"),
        ("X = 1\n", "defines no public function"),
        ("def " + "f" * 65 + "() -> None:\n    pass\n", "is not a function name the API takes"),
    ],
)
async def test_a_module_that_cannot_be_declared_is_a_usage_error_naming_it(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(UsageError, match=re.escape(message)) as caught:
        await started(tmp_path, text)
    assert str(caught.value).startswith(f"--tools {tmp_path / 'tools.py'}: ")
    assert "\n" not in str(caught.value)


async def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    source = PythonSource(str(tmp_path / "absent.py"))
    with pytest.raises(UsageError, match=r"absent\.py: no such file"):
        await source.start()


async def test_the_module_can_import_its_siblings(tmp_path: Path) -> None:
    (tmp_path / "helper_for_tools_test.py").write_text("VALUE = 42\n")
    source = await started(
        tmp_path, "from helper_for_tools_test import VALUE\ndef f() -> int:\n    return VALUE\n"
    )
    assert await source.call("f", {}, call_id="c1") == {"result": 42}


SCALARS = st.sampled_from([str, int, float, bool])


def _annotations(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        inner.map(lambda t: list[t]),
        inner.map(lambda t: t | None),
        st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=3, unique=True).map(
            lambda values: Literal[tuple(values)]
        ),
    )


@given(st.recursive(SCALARS, _annotations, max_leaves=6))
def test_every_annotation_the_converter_takes_passes_the_api_subset_check(annotation: Any) -> None:
    schema = schema_of(annotation, "x")
    assert check_schema(schema, "x") == schema
