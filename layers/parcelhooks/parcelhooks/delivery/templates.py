"""Merchant templates for webhook destinations (bodies, URLs, e-mails), rendered in a sandbox.

A template is hostile input. It runs in Jinja's ImmutableSandboxedEnvironment with no loader,
a short list of filters, tests and globals, attribute access limited to a few harmless
methods per type, and undefined names as errors (StrictUndefined: optional values take
`| default`). Beyond Jinja's sandbox:

- Constructs that load templates, buffer output or recurse ({% include %}, {% macro %},
  {% block %}, {% filter %}, {% set %}...{% endset %}, recursive loops, {% autoescape %}) are
  refused when compiling, so all output streams out of one generator and nothing recurses.
- Every value the template builds is bounded: a string at MAX_OUTPUT_BYTES characters (longer
  could never be printed), a list or object at MAX_CONTAINER_SIZE characters spelled out
  (lists that share lists could otherwise spell out exponentially), an integer at
  MAX_INT_DIGITS, and all the text one render builds at MAX_BUILT_CHARS. `~`, `+`, `*`, `**`
  and `%` and the filters that can grow text check these before they allocate.
- Output stops at MAX_OUTPUT_BYTES, and a render stops after RENDER_BUDGET_S of its thread's
  CPU time: the template's own code is watched (sys.monitoring, on the template's code
  objects only), so a loop or a call past the deadline raises inside it.

Each `{{ }}` output goes through the syntax's escaping (Jinja's `finalize`): JSON escapes for
the inside of a string literal, HTML escapes markup, URL percent-encodes the whole value,
TEXT leaves it. `| tojson` inserts a whole value as JSON.
"""

from __future__ import annotations

import json
import math
import re
import sys
import threading
import time
from collections.abc import Callable, Collection, Generator, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache, wraps
from itertools import chain
from json.encoder import encode_basestring
from types import CodeType, FrameType, GeneratorType, TracebackType
from typing import Any, Final, cast, override
from urllib.parse import quote, unquote, urlencode, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import StrictUndefined, Template, Undefined, nodes, pass_eval_context
from jinja2 import exceptions as jinja_errors
from jinja2.compiler import CodeGenerator, Frame
from jinja2.filters import FILTERS, make_attrgetter
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, LoopContext, markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.tests import TESTS

MAX_TEMPLATE_CHARS = 16 * 1024
MAX_OUTPUT_BYTES = 64 * 1024
# A 1 KB JSON body renders in about 0.15 ms: a quarter second is over a thousand times what an
# honest template needs, and all a hostile one can take from the fan-out for one delivery.
RENDER_BUDGET_S = 0.25
MAX_RANGE_ITEMS = 1000
MAX_INT_DIGITS = 1000
# A string longer than the output could never be printed.
MAX_STRING_CHARS = MAX_OUTPUT_BYTES
MAX_CONTAINER_SIZE = 1024 * 1024
MAX_BUILT_CHARS = 64 * MAX_OUTPUT_BYTES
COMPILED_TEMPLATES = 256
TEMPLATE_FILENAME = "<template>"
FIXED_ORIGIN = "the scheme, host and port are fixed: placeholders go in the path or query"

_MAX_INT_BITS = int(MAX_INT_DIGITS * 3.33)  # log2(10) bits a decimal digit
_JSON_UNSAFE = re.compile("[\u2028\u2029\ud800-\udfff]")
_NOT_DIGIT = re.compile(r"[^0-9]")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)
_ORIGIN = re.compile(r"(?P<origin>[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*)(?P<end>[/?#]|\Z)")
_DELIMITERS = ("{{", "{%", "{#")
_MONITOR_TOOL_NAME = "parcelhooks.templates"
_MONITOR_TOOL_IDS = (4, 3, 5)  # left free by CPython's debugger, coverage and profiler ids


class TemplateError(ValueError):
    """A template that cannot be compiled or rendered: message and 1-based template line when
    known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message, line)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return self.message if self.line is None else f"line {self.line}: {self.message}"


class Syntax(StrEnum):
    """Where the output goes, which fixes how each `{{ }}` output is escaped. A form body is
    written as a JSON object: render_form_body renders it as JSON."""

    JSON = "json"
    FORM = "form"
    TEXT = "text"
    HTML = "html"
    URL = "url"


class JsonText(str):
    """What `| tojson` returns: JSON text that the JSON syntax prints as it is."""

    __slots__ = ()


@dataclass(frozen=True, eq=False)
class CompiledTemplate:
    """A template ready to render; made by compile_template, used by render."""

    syntax: Syntax
    _template: Template


def _brazil_time_zone() -> tzinfo:
    # The Lambda runtime may lack the tz database; São Paulo has kept UTC-03:00 since 2019.
    try:
        return ZoneInfo("America/Sao_Paulo")
    except ZoneInfoNotFoundError:
        return timezone(timedelta(hours=-3), "BRT")


SAO_PAULO = _brazil_time_zone()


# --- One render's bounds -------------------------------------------------------------------


@dataclass
class _Render:
    deadline: float
    built_chars: int = 0


_renders = threading.local()


def _cpu_time() -> float:
    """This thread's CPU time: what a template spends, not how long others kept the CPU
    (a render on a busy machine is not cut short by its neighbours)."""
    return time.thread_time()


def _current_render() -> _Render:
    render: _Render | None = getattr(_renders, "render", None)
    # Template code only runs inside render(); this is for a caller that went around it.
    return render if render is not None else _Render(_cpu_time() + RENDER_BUDGET_S)


def _check_deadline(*_: object) -> None:
    """Raises once the render is past its deadline; also sys.monitoring's callback."""
    render: _Render | None = getattr(_renders, "render", None)
    if render is not None and _cpu_time() > render.deadline:
        raise TemplateError(f"the template ran for more than {RENDER_BUDGET_S} s")


def _spend_chars(chars: int) -> None:
    render = _current_render()
    render.built_chars += chars
    if render.built_chars > MAX_BUILT_CHARS:
        raise TemplateError(f"the template builds more than {MAX_BUILT_CHARS} characters of text")


def _check_string_length(chars: int) -> None:
    if chars > MAX_STRING_CHARS:
        raise TemplateError(f"the template builds a string over {MAX_STRING_CHARS} characters")


def _spelled_size(value: object) -> int:
    """About how many characters `value` takes written out, lists that share lists counted
    in full; refused past MAX_CONTAINER_SIZE without walking further."""
    total = 0
    pending = [value]
    while pending:
        item = pending.pop()
        total += _own_size(item)
        if total > MAX_CONTAINER_SIZE:
            raise TemplateError(
                f"the template builds a list or object over {MAX_CONTAINER_SIZE} characters"
            )
        if _is_container(item):
            pending.extend(_children(item))
            _check_deadline()
    return total


def _own_size(value: object) -> int:
    if isinstance(value, str):
        return len(value) + 3
    if isinstance(value, int):
        return value.bit_length() // 3 + 2
    return 8


def _is_container(value: object) -> bool:
    return isinstance(value, Collection) and not isinstance(value, str | Undefined)


def _children(container: Any) -> Iterable[Any]:
    return chain.from_iterable(container.items()) if isinstance(container, Mapping) else container


# --- Printing: each syntax's finalize ------------------------------------------------------


def _printable(value: Any) -> Any:
    """`value` if it has a text form; an undefined value raises its own error."""
    if isinstance(value, Undefined):
        str(value)  # StrictUndefined raises, naming what is missing
    if value is None or isinstance(value, str | int | float | Decimal | date):
        return value
    if _is_container(value):
        raise TemplateError(
            "a list or object cannot be printed as text: insert it with | tojson, "
            "join it with | join, or print one of its fields"
        )
    raise TemplateError(f"a {type(value).__name__} cannot be printed")


def _escape_json_unsafe(json_text: str) -> str:
    # Valid JSON either way, but U+2028/9 break JavaScript parsers and lone surrogates UTF-8.
    return _JSON_UNSAFE.sub(lambda char: f"\\u{ord(char.group()):04x}", json_text)


def _json_string_content(text: str) -> str:
    """`text` escaped for the inside of a JSON string literal, quotes not added."""
    return _escape_json_unsafe(encode_basestring(text)[1:-1])


def _json_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | Decimal) and not math.isfinite(value):
        raise TemplateError(f"{value} is not a JSON number")
    return str(value)


@pass_eval_context
def _finalize_json(_: EvalContext, value: Any) -> str:
    if type(value) is str:  # the common case, first
        return _json_string_content(value)
    value = _printable(value)
    if isinstance(value, JsonText):
        return value
    if isinstance(value, str):
        return _json_string_content(value)
    if isinstance(value, date):
        return _json_string_content(value.isoformat())
    return _json_scalar(value)


# Taking the eval context keeps Jinja from evaluating constant output at compile time.
@pass_eval_context
def _finalize_text(_: EvalContext, value: Any) -> Any:
    return _printable(value)


@pass_eval_context
def _finalize_url(_: EvalContext, value: Any) -> str:
    return quote(str(_printable(value)), safe="")


_FINALIZERS: Final[dict[Syntax, Callable[..., Any]]] = {
    Syntax.JSON: _finalize_json,
    Syntax.FORM: _finalize_json,
    Syntax.TEXT: _finalize_text,
    Syntax.HTML: _finalize_text,
    Syntax.URL: _finalize_url,
}


# --- Filters, tests, globals ---------------------------------------------------------------


def _text_of(value: Any) -> str:
    """`value` as text (markup stays markup); an undefined value raises its own error."""
    return value if isinstance(value, str) else str(value)


def _collect(items: Iterable[Any]) -> list[Any]:
    """The items of a lazy filter, taken now: the deadline is checked between them, where
    a chain of lazy filters drained at once by a C function would not be."""
    collected = []
    for item in items:
        _check_deadline()
        collected.append(item)
    return collected


def _eager(jinja_filter: Callable[..., Iterable[Any]]) -> Callable[..., list[Any]]:
    @wraps(jinja_filter)  # keeps Jinja's pass_context marker
    def eager(*args: Any, **kwargs: Any) -> list[Any]:
        collected = _collect(jinja_filter(*args, **kwargs))
        # map(attribute=..., default=x) can fill a list with one big value, over and over.
        _spelled_size(collected)
        return collected

    return eager


def _counted(jinja_filter: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(jinja_filter)  # keeps Jinja's pass_* marker
    def counted(*args: Any, **kwargs: Any) -> Any:
        result = jinja_filter(*args, **kwargs)
        if isinstance(result, str):
            _spend_chars(len(result))
        return result

    return counted


@pass_eval_context
def _replace(
    eval_ctx: EvalContext, value: Any, old: Any, new: Any, count: int | None = None
) -> str:
    text, old_text, new_text = _text_of(value), _text_of(old), _text_of(new)
    found = len(text) + 1 if not old_text else text.count(old_text)
    if count is not None and count >= 0:
        found = min(found, count)
    _check_string_length(len(text) + found * (len(new_text) - len(old_text)))
    replaced: str = FILTERS["replace"](eval_ctx, text, old_text, new_text, count)
    return replaced


@pass_eval_context
def _join(eval_ctx: EvalContext, value: Any, d: Any = "", attribute: Any = None) -> str:
    items = list(value)
    if attribute is not None:
        items = list(map(make_attrgetter(eval_ctx.environment, attribute), items))
    texts = [_text_of(item) for item in items]
    separator = _text_of(d)
    _check_string_length(sum(map(len, texts)) + len(separator) * max(len(texts) - 1, 0))
    joined: str = FILTERS["join"](eval_ctx, texts, separator)
    return joined


def _json_default(value: Any) -> Any:
    """How `| tojson` writes what json does not know."""
    if isinstance(value, Undefined):
        str(value)  # StrictUndefined raises, naming what is missing
    if isinstance(value, Decimal) and value.is_finite():
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date):
        return value.isoformat()
    if _is_container(value):
        return list(value)
    raise TemplateError(f"a {type(value).__name__} cannot be written as JSON")


_JSON_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_json_default
)


def _tojson(value: Any) -> JsonText:
    """`value` as compact JSON, written piece by piece and stopped when too long."""
    pieces, size = [], 0
    for piece in _JSON_ENCODER.iterencode(value):
        size += len(piece)
        _check_string_length(size)
        pieces.append(piece)
    _spend_chars(size)
    return JsonText(_escape_json_unsafe("".join(pieces)))


def _parse_moment(text: str) -> date | None:
    """YYYY-MM-DD as a date, RFC 3339 as a date-time, anything else None."""
    try:
        if _DATE.fullmatch(text):
            return date.fromisoformat(text)
        if _DATE_TIME.fullmatch(text):
            return datetime.fromisoformat(text.upper())
    except ValueError as error:  # well shaped but impossible, like 2026-02-30
        raise TemplateError(f"date_br: {error}: {text!r}") from None
    return None


def _moment(value: Any) -> date:
    """A date or an aware date-time from a date, a datetime, YYYY-MM-DD or RFC 3339 text."""
    if isinstance(value, Undefined):
        str(value)  # StrictUndefined raises, naming what is missing
    moment = _parse_moment(value) if isinstance(value, str) else value
    if not isinstance(moment, date):
        raise TemplateError(
            f"date_br needs a date (YYYY-MM-DD) or an RFC 3339 date-time, not {value!r:.60}"
        )
    if isinstance(moment, datetime) and moment.utcoffset() is None:
        raise TemplateError(f"date_br needs a date-time with a UTC offset, not {value!r:.60}")
    return moment


def _date_br(value: Any) -> str:
    """25/12/2026 for a date; 25/12/2026 às 14:30 for a date-time, in São Paulo time."""
    moment = _moment(value)
    if isinstance(moment, datetime):
        local = moment.astimezone(SAO_PAULO)
        return f"{local:%d/%m/%Y} às {local:%H:%M}"
    return f"{moment:%d/%m/%Y}"


def _digits(value: Any) -> str:
    """Only the digits 0-9: a phone number "+55 (81) 99999-0000" is "5581999990000"."""
    return _NOT_DIGIT.sub("", _text_of(value))


def _range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE_ITEMS:
        raise TemplateError(f"range() is limited to {MAX_RANGE_ITEMS} numbers")
    return numbers


_KEPT_FILTERS = (
    *("default", "d", "first", "last", "length", "count", "list", "reverse", "sort"),
    *("lower", "upper", "title", "capitalize", "trim"),
    *("abs", "float", "int", "round", "max", "min"),
)
_LAZY_FILTERS = ("map", "reject", "rejectattr", "select", "selectattr", "unique")
_FILTERS: Final[dict[str, Callable[..., Any]]] = {
    **{name: _counted(FILTERS[name]) for name in _KEPT_FILTERS},
    **{name: _eager(FILTERS[name]) for name in _LAZY_FILTERS},
    "string": _counted(FILTERS["string"]),
    "truncate": _counted(FILTERS["truncate"]),
    "replace": _counted(_replace),
    "join": _counted(_join),
    "tojson": _tojson,
    "date_br": _counted(_date_br),
    "digits": _counted(_digits),
}
_KEPT_TESTS = (
    *("defined", "undefined", "none", "boolean", "true", "false", "sameas", "in"),
    *("number", "integer", "float", "odd", "even", "divisibleby"),
    *("string", "lower", "upper", "mapping", "sequence", "iterable"),
    *("==", "eq", "equalto", "!=", "ne", ">", "gt", "greaterthan", ">=", "ge"),
    *("<", "lt", "lessthan", "<=", "le"),
)
_STRING_METHODS = frozenset(
    {
        *("lower", "upper", "title", "capitalize", "casefold", "swapcase"),
        *("strip", "lstrip", "rstrip", "removeprefix", "removesuffix"),
        *("split", "rsplit", "splitlines", "partition", "rpartition"),
        *("startswith", "endswith", "find", "rfind", "index", "rindex", "count"),
        *("isalnum", "isalpha", "isdecimal", "isdigit", "isnumeric", "isspace"),
        *("islower", "isupper", "istitle"),
    }
)
_LOOP_ATTRIBUTES = frozenset(
    {
        *("index", "index0", "revindex", "revindex0", "first", "last", "length"),
        *("depth", "depth0", "previtem", "nextitem", "cycle", "changed"),
    }
)
# What a template may read of a value, by type: nothing that grows text (ljust, format...).
_SAFE_ATTRIBUTES: Final[tuple[tuple[type | tuple[type, ...], frozenset[str]], ...]] = (
    (str, _STRING_METHODS),
    (Mapping, frozenset({"get", "items", "keys", "values"})),
    ((list, tuple), frozenset({"count", "index"})),
    (LoopContext, _LOOP_ATTRIBUTES),
    (date, frozenset({"day", "hour", "isoformat", "minute", "month", "second", "year"})),
)


# --- The environment -----------------------------------------------------------------------


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator, with `~` and list, tuple and dict literals sent through the
    environment's bounds (the sandbox intercepts operators, but not these)."""

    @override
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded_concat((")
        for part in node.nodes:
            self.visit(part, frame)
            self.write(", ")
        self.write("))")

    @override
    def visit_List(self, node: nodes.List, frame: Frame) -> None:
        self.write("environment.bounded_container(")
        super().visit_List(node, frame)
        self.write(")")

    @override
    def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:
        if node.ctx != "load":  # an assignment target: `{% for key, value in ... %}`
            super().visit_Tuple(node, frame)
            return
        self.write("environment.bounded_container(")
        super().visit_Tuple(node, frame)
        self.write(")")

    @override
    def visit_Dict(self, node: nodes.Dict, frame: Frame) -> None:
        self.write("environment.bounded_container(")
        super().visit_Dict(node, frame)
        self.write(")")


class _Sandbox(ImmutableSandboxedEnvironment):
    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"+", "*", "**", "%"})

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return super().is_safe_attribute(obj, attr, value) and any(
            isinstance(obj, kinds) and attr in names for kinds, names in _SAFE_ATTRIBUTES
        )

    def wrap_str_format(self, value: Any) -> None:
        # str.format can pad to any width: refused like every method not listed above.
        return None

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _check_binop(operator, left, right)
        result = super().call_binop(context, operator, left, right)
        if isinstance(result, str):
            _spend_chars(len(result))
        return result

    def bounded_concat(self, parts: tuple[Any, ...]) -> str:
        """`a ~ b ~ c`, refused before joining if the result would be too long."""
        texts = [_text_of(part) for part in parts]
        size = sum(map(len, texts))
        _check_string_length(size)
        _spend_chars(size)
        joined: str = markup_join(texts) if self.autoescape else str_join(texts)
        return joined

    def bounded_container(self, value: Any) -> Any:
        _spelled_size(value)
        return value


def _check_binop(operator: str, left: Any, right: Any) -> None:
    if operator == "*":
        _check_product(left, right)
    elif operator == "+":
        _check_sum(left, right)
    elif operator == "**":
        _check_power(left, right)
    elif operator == "%" and isinstance(left, str):
        raise TemplateError("% formatting of text is not available: join text with ~")


def _check_product(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int):
        _check_int_bits(abs(left).bit_length() + abs(right).bit_length())
        return
    times, repeated = (left, right) if isinstance(left, int) else (right, left)
    if not isinstance(times, int) or times <= 0:
        return
    if isinstance(repeated, str):
        _check_string_length(len(repeated) * times)
    elif isinstance(repeated, list | tuple):
        _check_container_size(_spelled_size(repeated) * times)


def _check_sum(left: Any, right: Any) -> None:
    if isinstance(left, str) and isinstance(right, str):
        _check_string_length(len(left) + len(right))
    elif isinstance(left, list | tuple) and isinstance(right, list | tuple):
        _check_container_size(_spelled_size(left) + _spelled_size(right))


def _check_power(base: Any, exponent: Any) -> None:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        _check_int_bits(math.ceil(math.log2(abs(base)) * exponent))


def _check_int_bits(bits: int) -> None:
    if bits > _MAX_INT_BITS:
        raise TemplateError(f"the template builds a number over {MAX_INT_DIGITS} digits")


def _check_container_size(size: int) -> None:
    if size > MAX_CONTAINER_SIZE:
        raise TemplateError(
            f"the template builds a list or object over {MAX_CONTAINER_SIZE} characters"
        )


def _environment(syntax: Syntax) -> _Sandbox:
    environment = _Sandbox(
        undefined=StrictUndefined,
        autoescape=syntax is Syntax.HTML,
        finalize=_FINALIZERS[syntax],
        # No constant folding: it would run filters at compile time, outside the deadline.
        optimized=False,
    )
    environment.globals = {"range": _range}
    environment.filters = dict(_FILTERS)
    environment.tests = {name: TESTS[name] for name in _KEPT_TESTS}
    return environment


_ENVIRONMENTS: Final[dict[Syntax, _Sandbox]] = {syntax: _environment(syntax) for syntax in Syntax}


# --- The deadline --------------------------------------------------------------------------


def _claim_monitoring_tool() -> int | None:
    """A sys.monitoring tool id of our own (the same one again after a reload), or None
    when other tools hold all we may take."""
    monitoring = sys.monitoring
    for tool in _MONITOR_TOOL_IDS:
        holder = monitoring.get_tool(tool)
        if holder not in (None, _MONITOR_TOOL_NAME):
            continue
        if holder is None:
            monitoring.use_tool_id(tool, _MONITOR_TOOL_NAME)
        monitoring.register_callback(tool, monitoring.events.JUMP, _check_deadline)
        monitoring.register_callback(tool, monitoring.events.CALL, _check_deadline)
        return tool
    return None


_MONITOR_TOOL = _claim_monitoring_tool()


def _code_objects(code: CodeType) -> Iterator[CodeType]:
    yield code
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            yield from _code_objects(constant)


def _watch(code: CodeType) -> None:
    """Check the deadline at every loop turn and call in the template's own code, and
    nowhere else: other code runs at full speed."""
    if _MONITOR_TOOL is None:
        return
    events = sys.monitoring.events.JUMP | sys.monitoring.events.CALL
    for each in _code_objects(code):
        sys.monitoring.set_local_events(_MONITOR_TOOL, each, events)


def _trace_template_frames(frame: FrameType, event: str, arg: object) -> Any:
    """The fallback when no monitoring tool id is free: a tracer on template frames only."""
    if frame.f_code.co_filename != TEMPLATE_FILENAME:
        return None
    _check_deadline()
    return _trace_template_step


def _trace_template_step(frame: FrameType, event: str, arg: object) -> Any:
    _check_deadline()
    return _trace_template_step


@contextmanager
def _rendering() -> Iterator[None]:
    """One render's deadline and counters, for this thread; a tracer if there is no
    monitoring. Whatever was there before is put back, however the render ends."""
    previous_render = getattr(_renders, "render", None)
    previous_tracer = sys.gettrace()
    _renders.render = _Render(_cpu_time() + RENDER_BUDGET_S)
    if _MONITOR_TOOL is None:
        sys.settrace(_trace_template_frames)
    try:
        yield
    finally:
        if _MONITOR_TOOL is None:
            sys.settrace(previous_tracer)
        _renders.render = previous_render


# --- Compiling -----------------------------------------------------------------------------

_REFUSED_NODES: Final[tuple[tuple[type[nodes.Node], str], ...]] = (
    (nodes.Extends, "{% extends %} is not available: a template cannot load another"),
    (nodes.Include, "{% include %} is not available: a template cannot load another"),
    (nodes.Import, "{% import %} is not available: a template cannot load another"),
    (nodes.FromImport, "{% from ... import %} is not available: a template cannot load another"),
    (nodes.Macro, "{% macro %} is not available"),
    (nodes.CallBlock, "{% call %} is not available"),
    (nodes.Block, "{% block %} is not available"),
    (nodes.FilterBlock, "{% filter %} is not available: apply filters to values"),
    (nodes.AssignBlock, "{% set %}...{% endset %} is not available: use {% set x = ... %}"),
    (nodes.EvalContextModifier, "{% autoescape %} is not available: the syntax fixes escaping"),
)


def _refusal(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.For) and node.recursive:
        return "recursive loops are not available"
    return next((why for kind, why in _REFUSED_NODES if isinstance(node, kind)), None)


def _check_constructs(tree: nodes.Template) -> None:
    for node in tree.find_all(nodes.Node):
        why = _refusal(node)
        if why is not None:
            raise TemplateError(why, node.lineno)


def _parse(environment: _Sandbox, source: str) -> nodes.Template:
    try:
        return environment.parse(source)
    except jinja_errors.TemplateSyntaxError as error:
        raise TemplateError(error.message or "syntax error", error.lineno) from None
    except (RecursionError, MemoryError) as error:
        raise TemplateError(f"the template is nested too deeply ({error})") from None


@lru_cache(maxsize=COMPILED_TEMPLATES)
def compile_template(source: str, syntax: Syntax) -> CompiledTemplate:
    """The template, compiled once and kept: the same subscription's template renders for
    every event. Raises TemplateError (too long, a syntax error, a refused construct)."""
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateError(f"a template is at most {MAX_TEMPLATE_CHARS} characters")
    environment = _ENVIRONMENTS[syntax]
    tree = _parse(environment, source)
    _check_constructs(tree)
    try:
        code = environment.compile(tree, filename=TEMPLATE_FILENAME)
    except jinja_errors.TemplateSyntaxError as error:
        raise TemplateError(error.message or "syntax error", error.lineno) from None
    except Exception as error:  # hostile input: Python's compiler may refuse what Jinja wrote
        raise TemplateError(f"the template cannot be compiled ({error})") from None
    _watch(code)
    template = environment.template_class.from_code(
        environment, code, environment.make_globals(None)
    )
    return CompiledTemplate(syntax, template)


# --- Rendering -----------------------------------------------------------------------------


def _template_line(traceback: TracebackType | None) -> int | None:
    """The template line of the innermost template frame (Jinja rewrites the template's
    frames to carry template lines when a render raises)."""
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == TEMPLATE_FILENAME:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def _as_template_error(error: Exception) -> TemplateError:
    line = _template_line(error.__traceback__)
    if isinstance(error, TemplateError):
        return TemplateError(error.message, error.line or line)
    if isinstance(error, jinja_errors.TemplateError):
        return TemplateError(error.message or type(error).__name__, line)
    return TemplateError(f"{type(error).__name__}: {error}", line)


def _stream_line(stream: Iterator[str], template: Template) -> int | None:
    """The template line a paused render stream is at."""
    line = None
    generator: Any = stream
    while isinstance(generator, GeneratorType):
        frame = generator.gi_frame
        if frame is not None and frame.f_code.co_filename == TEMPLATE_FILENAME:
            line = template.get_corresponding_lineno(frame.f_lineno)
        generator = generator.gi_yieldfrom
    return line


def _drain(stream: Iterator[str], template: Template) -> str:
    pieces, size = [], 0
    for piece in stream:
        size += len(piece) if piece.isascii() else len(piece.encode("utf-8", "surrogatepass"))
        if size > MAX_OUTPUT_BYTES:
            raise TemplateError(
                f"the template renders more than {MAX_OUTPUT_BYTES} bytes",
                _stream_line(stream, template),
            )
        pieces.append(piece)
    return "".join(pieces)


def render(template: CompiledTemplate, variables: Mapping[str, Any]) -> str:
    """The template rendered with `variables`: plain data (dicts, lists, strings, numbers,
    booleans, None), whose attributes templates cannot reach. Raises TemplateError, with the
    template line when known, for any failure: an error, output over MAX_OUTPUT_BYTES, or a
    render past RENDER_BUDGET_S."""
    jinja_template = template._template
    stream = cast(Generator[str], jinja_template.generate(dict(variables)))
    try:
        with _rendering():
            return _drain(stream, jinja_template)
    except Exception as error:  # hostile input: whatever it raises is the template's fault
        raise _as_template_error(error) from error
    finally:
        stream.close()  # once the deadline is gone, so closing cannot trip it


# --- JSON and form bodies ------------------------------------------------------------------


class _JsonNumber(str):
    """A number as the rendered JSON wrote it (a form field keeps its exact text)."""

    __slots__ = ()


@dataclass(frozen=True)
class _JsonObject:
    pairs: list[tuple[str, Any]]


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse_json(text: str) -> Any:
    """The rendered text parsed as strict JSON (no NaN or Infinity; objects keep their pairs,
    duplicates and order; numbers keep their text), or TemplateError naming the problem."""
    try:
        return json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_int=_JsonNumber,
            parse_float=_JsonNumber,
            object_pairs_hook=_JsonObject,
        )
    except json.JSONDecodeError as error:
        near = text[max(error.pos - 20, 0) : error.pos + 20]
        raise TemplateError(
            f"the template did not render valid JSON: {error} (near {near!r})"
        ) from None
    except (ValueError, RecursionError) as error:
        raise TemplateError(f"the template did not render valid JSON: {error}") from None


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate in the template's own text
        raise TemplateError("the template renders text that is not valid UTF-8") from None


def render_json_body(source: str, variables: Mapping[str, Any]) -> bytes:
    """The JSON body: rendered (Syntax.JSON), checked to be strict JSON, sent as rendered."""
    text = render(compile_template(source, Syntax.JSON), variables)
    _parse_json(text)
    return _utf8(text)


def _form_value(name: str, value: Any) -> str | None:
    if value is None:
        return None  # null leaves the field out
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    raise TemplateError(f"form field {name!r} must be a string, number, boolean or null")


def render_form_body(source: str, variables: Mapping[str, Any]) -> bytes:
    """An application/x-www-form-urlencoded body from a template that renders a JSON object
    of fields (Syntax.JSON): null leaves a field out, true/false are "true"/"false", fields
    keep their order."""
    parsed = _parse_json(render(compile_template(source, Syntax.JSON), variables))
    if not isinstance(parsed, _JsonObject):
        raise TemplateError("a form body template must render a JSON object of fields")
    fields = [(name, _form_value(name, value)) for name, value in parsed.pairs]
    return urlencode([(name, value) for name, value in fields if value is not None]).encode()


# --- URLs ----------------------------------------------------------------------------------


def has_placeholders(text: str) -> bool:
    """Whether the text is a template at all (a URL without one is sent as it is)."""
    return any(mark in text for mark in _DELIMITERS)


def _literal_prefix(url_template: str) -> tuple[str, bool]:
    """The text before the first {{, {% or {#, and whether there is one."""
    found = [at for at in (url_template.find(mark) for mark in _DELIMITERS) if at >= 0]
    return (url_template[: min(found)], True) if found else (url_template, False)


def _fixed_origin(url_template: str) -> str | None:
    """The scheme://[userinfo@]host[:port] the template starts with, written out before any
    placeholder; None when it does not start with one."""
    prefix, placeholders = _literal_prefix(url_template)
    match = _ORIGIN.match(prefix)
    if match is None or (placeholders and not match.group("end")):
        return None
    return match.group("origin")


def _has_literal_fragment(url_template: str) -> bool:
    try:
        tokens = list(_ENVIRONMENTS[Syntax.URL].lex(url_template))
    except jinja_errors.TemplateSyntaxError:
        return False  # reported as a compile error
    return any(kind == "data" and "#" in text for _, kind, text in tokens)


@lru_cache(maxsize=COMPILED_TEMPLATES)
def _origin_problems(url_template: str) -> tuple[str, ...]:
    origin = _fixed_origin(url_template)
    problems = []
    if origin is None:
        placeholders = _literal_prefix(url_template)[1]
        problems.append(FIXED_ORIGIN if placeholders else "the URL must start with scheme://host")
    else:
        try:
            urlsplit(origin).port  # noqa: B018 -- raises on a port that is not a number
        except ValueError as error:
            problems.append(f"the URL's port is not valid: {error}")
    if _has_literal_fragment(url_template):
        problems.append("the URL must not have a #fragment")
    return tuple(problems)


def check_url_template(url_template: str) -> list[str]:
    """What is wrong with a URL template, or [] when it is fine: placeholders only in the
    path and query, and a template that compiles."""
    problems = list(_origin_problems(url_template))
    try:
        compile_template(url_template, Syntax.URL)
    except TemplateError as error:
        problems.append(str(error))
    return problems


def origin_of(url_template: str) -> str:
    """scheme://host[:port] of a URL template, what the SSRF guard vets when a destination
    is saved. Raises TemplateError if the template does not start with a fixed origin."""
    origin = _fixed_origin(url_template)
    if origin is None:
        raise TemplateError(_origin_problems(url_template)[0])
    parts = urlsplit(origin)
    try:
        parts.port  # noqa: B018 -- raises on a port that is not a number
    except ValueError as error:
        raise TemplateError(f"the URL's port is not valid: {error}") from None
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def render_url(url_template: str, variables: Mapping[str, Any]) -> str:
    """The URL with its placeholders filled, each output percent-encoded as a unit, so a
    value can neither add a path segment or query parameter nor change the origin."""
    template = compile_template(url_template, Syntax.URL)
    problems = _origin_problems(url_template)
    if problems:
        raise TemplateError("; ".join(problems))
    url = render(template, variables)
    if any(char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F for char in url):
        raise TemplateError("the rendered URL contains spaces or control characters")
    # quote() leaves dots alone, and a server resolves a "." or ".." segment, even as %2e.
    if any(unquote(segment) in {".", ".."} for segment in urlsplit(url).path.split("/")):
        raise TemplateError("the rendered URL has a . or .. path segment")
    # Cannot differ (the origin is literal text before any placeholder): checked regardless.
    if _fixed_origin(url) != _fixed_origin(url_template):
        raise TemplateError("the rendered URL does not keep the template's origin")
    return url
