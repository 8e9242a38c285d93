"""Turning live stacks into plain :class:`Frame` data, blaming a line, and finding the fix.

Frames are interned (a bounded table), so thousands of events that share a stack share its
:class:`Frame` objects. Nothing here stores a local variable's value: a sampled frame yields
its file, line, function, module name and source line, and the callee of a C call is named
from the call's source text, resolved through module globals only.
"""

from __future__ import annotations

import builtins
import dis
import inspect
import linecache
import os
import re
import sys
import sysconfig
import threading
import types
from collections.abc import Iterator
from functools import lru_cache
from types import CodeType, FrameType
from typing import Any

from unstall.watch._model import Cause, Frame

__all__ = (
    "blame",
    "callee_of_line",
    "fix_for",
    "is_user_file",
    "sample_stack",
    "site_fix",
    "stack_of",
)

_MAX_DEPTH = 64
_MAX_INTERNED = 20_000
_LIBRARY_DIRS = tuple(
    os.path.normcase(os.path.realpath(p)) + os.sep
    for p in {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
)
_UNSTALL_DIR = (
    os.path.normcase(os.path.dirname(os.path.dirname(os.path.realpath(__file__)))) + os.sep
)
_CALL = re.compile(r"([A-Za-z_][\w.]*)\s*\(")
_IMPORT = re.compile(r"(?:import|from)\s+[A-Za-z_.]")
_CALLEE = re.compile(r"\s*(?:await\s+)?([A-Za-z_][\w]*(?:\s*\.\s*[A-Za-z_]\w*)*)\s*\(")
# 3.11's PRECALL makes the call itself once specialised for a builtin (the frame then sits on it)
_CALL_OPS = frozenset(
    dis.opmap[name]
    for name in ("CALL", "CALL_FUNCTION_EX", "CALL_KW", "PRECALL")
    if name in dis.opmap
)
_CACHE = dis.opmap.get("CACHE", -1)
_MAX_CACHE_ENTRIES = 8
C_FILENAME = "<C>"  # the file name of a synthesised frame for a C callee
_interned: dict[tuple[str, int, str, str], Frame] = {}
_IMPORT_CALL = Frame(C_FILENAME, 0, "__import__", "builtins")


@lru_cache(maxsize=4096)
def is_user_file(filename: str) -> bool:
    """Whether ``filename`` is the user's code: not the standard library, not installed packages, not unstall."""
    if filename.startswith("<"):
        return False
    path = os.path.normcase(os.path.realpath(filename))
    if path.startswith(_UNSTALL_DIR) or "site-packages" in path or "dist-packages" in path:
        return False
    return not path.startswith(_LIBRARY_DIRS)


def make_frame(filename: str, lineno: int, function: str, module: str) -> Frame:
    """An interned :class:`Frame` with its source line read through ``linecache``."""
    key = (filename, lineno, function, module)
    frame = _interned.get(key)
    if frame is None:
        if len(_interned) >= _MAX_INTERNED:
            _interned.clear()
        source = linecache.getline(filename, lineno).strip() if lineno > 0 else ""
        frame = _interned[key] = Frame(filename, lineno, function, module, source)
    return frame


def _walk(frame: FrameType | None) -> Iterator[FrameType]:
    depth = 0
    while frame is not None and depth < _MAX_DEPTH:
        yield frame
        frame = frame.f_back
        depth += 1


def stack_of(frame: FrameType | None) -> tuple[Frame, ...]:
    """The stack ending at ``frame`` as plain data, outermost first; never holds local values.

    The watch's own frames (``unstall run``'s, the ``run_forever`` hook's) are left out.
    """
    frames: list[Frame] = []
    for f in _walk(frame):
        code = f.f_code
        module = f.f_globals.get("__name__", "")
        if isinstance(module, str) and module.startswith(_WATCH_PACKAGE):
            continue
        frames.append(
            make_frame(
                code.co_filename,
                f.f_lineno or 0,
                getattr(code, "co_qualname", code.co_name),
                module if isinstance(module, str) else "",
            )
        )
    frames.reverse()
    return tuple(frames)


def sample_stack(frame: FrameType | None) -> tuple[Frame, ...]:
    """Like :func:`stack_of`, plus a synthesised ``<C>`` frame when the innermost frame is inside a C call.

    A thread sampled from outside that sits at a call instruction is running a callee with no
    Python frame (``time.sleep``, ``socket.recv``, a C extension); naming it makes the
    offender visible. The callee is read from the call's source text and resolved through the
    frame's module globals and builtins only (never its locals).

    The watch's own frames at the innermost end (a tripwire wrapper around ``time.sleep``, the
    GC callback that ran inside ``json.loads``) are left out: the stack ends at the frame that
    called into them, and the callee is named from that frame's call.
    """
    frame = _outside_the_watch(frame)
    stack = stack_of(frame)
    if frame is None or not stack:
        return stack
    try:
        callee = _c_callee(frame)
    except Exception:  # naming the callee is a nicety; a surprise here must not lose the sample
        callee = None

    return stack if callee is None else (*stack, callee)


def _outside_the_watch(frame: FrameType | None) -> FrameType | None:
    """The frame to end a sample at: the caller of the watch's outermost frame below the user's
    innermost one (what the watch's code calls, a catalog being loaded, is its own work), or
    past the watch's frames at the innermost end when there is no user frame."""
    frames = list(_walk(frame))
    user = next((i for i, f in enumerate(frames) if is_user_file(f.f_code.co_filename)), None)
    if user is None:
        inner = 0
        while inner < len(frames) and _is_watch_frame(frames[inner]):
            inner += 1
        return frames[inner] if inner < len(frames) else None
    own = [i for i in range(user) if _is_watch_frame(frames[i])]
    return frames[own[-1] + 1] if own else frame


def _is_watch_frame(frame: FrameType) -> bool:
    """Whether ``frame`` runs the watch's own code (its instrumentation, never the user's work)."""
    module = frame.f_globals.get("__name__")
    return isinstance(module, str) and module.startswith(_WATCH_PACKAGE)


_WATCH_PACKAGE = "unstall.watch."


_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_TAIL = re.compile(r"\.([A-Za-z_]\w*)$")


def _callee_of(segment: str) -> str | None:
    """The callee expression of a one-line call ``segment`` (``a.b(x)`` -> ``a.b``), or ``None``."""
    segment = segment.strip()
    if not segment.endswith(")"):
        return None
    depth = 0
    for i in range(len(segment) - 1, -1, -1):
        ch = segment[i]
        if ch == ")":
            depth += 1
        elif ch == "(":
            depth -= 1
            if depth == 0:
                callee = re.sub(r"\s+", "", segment[:i])
                if callee.startswith("await"):
                    callee = callee[5:]
                if _DOTTED.fullmatch(callee):
                    return callee
                tail = _TAIL.search(callee)  # a method of an expression: keep its name only
                return tail.group(1) if tail else None
    return None


@lru_cache(maxsize=2048)
def _call_text(code: CodeType, lasti: int) -> str | None:
    raw = code.co_code
    if lasti < 0 or lasti >= len(raw):
        return None
    # a frame that called a Python function (one of the watch's wrappers) points at the last
    # inline cache entry of its call instruction, not at the instruction itself
    back = 0
    while raw[lasti] == _CACHE and lasti >= 2 and back < _MAX_CACHE_ENTRIES:
        lasti -= 2
        back += 1
    if raw[lasti] not in _CALL_OPS:
        return None
    positions = list(code.co_positions())
    if lasti // 2 >= len(positions):
        return None
    line, end_line, col, end_col = positions[lasti // 2]
    if line is None or col is None:
        return None
    text = linecache.getline(code.co_filename, line)
    if end_line == line and end_col is not None:
        return _callee_of(text[col:end_col])
    match = _CALLEE.match(text[col:])
    return re.sub(r"\s+", "", match.group(1)) if match else None


def _c_callee(frame: FrameType) -> Frame | None:
    text = _call_text(frame.f_code, frame.f_lasti)
    if text is None:
        return None
    return _resolve(text, frame.f_globals)[0]


def callee_of_line(frame: Frame) -> Frame | None:
    """The ``<C>`` frame of the call into C that ``frame``'s line makes, from its source text.

    For a stack with no live frame behind it (a thread's own dump), whose innermost line is
    running a call with no Python frame: of the calls on the line, the last one that is not a
    Python function (a Python function would have a frame of its own, deeper). Names resolve
    through the frame's module globals and builtins only.
    """
    if not frame.source:
        return None
    module = sys.modules.get(frame.module) if frame.module else None
    namespace: Any = vars(module) if module is not None else {}
    chosen: Frame | None = None
    for found in _CALL.finditer(frame.source):
        text = found.group(1)
        if frame.source[: found.start()].rstrip().endswith("."):
            # a method of an expression (``_compile(p).match(s)``): named, never resolved
            chosen = make_frame(C_FILENAME, 0, text, "")
            continue
        callee, obj = _resolve(text, namespace)
        if not isinstance(obj, types.FunctionType):
            chosen = callee
    return chosen


def _resolve(text: str, namespace: Any) -> tuple[Frame, object]:
    """The ``<C>`` frame naming the dotted callee ``text`` (module globals, then builtins), and
    the object it names (``_MISSING`` when it is a local's, which is never read)."""
    head, *rest = text.split(".")
    obj = namespace.get(head, _MISSING)
    if obj is _MISSING:
        obj = vars(builtins).get(head, _MISSING)
    if obj is _MISSING:  # a local or an attribute of one: keep the text, read no value
        return make_frame(C_FILENAME, 0, text, ""), _MISSING
    written = obj.__name__ if isinstance(obj, types.ModuleType) else None
    for part in rest:
        if isinstance(obj, types.ModuleType):
            obj = vars(obj).get(part, _MISSING)
        elif isinstance(obj, type):
            try:
                obj = inspect.getattr_static(obj, part)
            except AttributeError:
                obj = _MISSING
        else:
            obj = _MISSING
        if obj is _MISSING:
            break
    if written is not None and rest:
        module, _, function = f"{written}.{'.'.join(rest)}".rpartition(".")
        return make_frame(C_FILENAME, 0, function, module), obj
    own_module = getattr(obj, "__module__", None)
    own_name = getattr(obj, "__qualname__", None)
    if isinstance(own_module, str) and isinstance(own_name, str):
        return make_frame(C_FILENAME, 0, own_name, own_module), obj
    return make_frame(C_FILENAME, 0, text, ""), obj


_MISSING = object()


def blame(stack: tuple[Frame, ...]) -> tuple[Frame | None, Frame | None]:
    """``(blamed, offender)``: the innermost user frame, and the innermost frame when it is library code."""
    if not stack:
        return None, None
    blamed = next((f for f in reversed(stack) if is_user_file(f.filename)), None)
    inner = stack[-1]
    offender = None if blamed is inner else inner
    return (blamed or inner), offender


_catalog_value: Any = None
_catalog_lock = threading.Lock()


def _catalog() -> Any:
    """The default catalog, loaded once (about 0.1 s) at the first stall, never before: until
    something stalls the watchdog costs nothing."""
    global _catalog_value
    if _catalog_value is None:
        with _catalog_lock:
            if _catalog_value is None:
                from unstall.catalog import default_catalog

                _catalog_value = default_catalog()
    return _catalog_value


def _names(frame: Frame) -> list[str]:
    """Qualified names ``frame``'s function may be catalogued under, most specific first."""
    if not frame.module:
        return [frame.function] if frame.filename == C_FILENAME else []
    parts = frame.module.split(".")
    # "requests.sessions" + "Session.request" -> also "requests.Session.request"
    names = [".".join(parts[:cut]) + "." + frame.function for cut in range(len(parts), 0, -1)]
    if frame.module in ("posix", "nt"):
        names.append("os." + frame.function)
    return names


def site_fix(
    stack: tuple[Frame, ...], cause: Cause
) -> tuple[Frame | None, Frame | None, str | None, str | None, str]:
    """``(blamed, offender, code, entry name, fix)`` for a sampled stack.

    The offender is the innermost frame below the blamed user frame whose function is a
    catalogued blocking callable, else the innermost library (or C) frame. The fix is that
    entry's alternative, else the generic one for ``cause`` (thread for blocked, process for CPU).
    """
    blamed, offender = blame(stack)
    below = stack[stack.index(blamed) :] if blamed in stack else stack
    if _only_importing(below[1:]):
        # nothing but the import system under the blamed line: an import statement (compiling
        # or loading the module), named as the import it is
        below = (below[0], _IMPORT_CALL)
        offender = _IMPORT_CALL
    try:
        catalog = _catalog()
        for frame in reversed(below):
            for name in _names(frame):
                entry = catalog.lookup(name)
                if entry is not None:
                    fix = f"{entry.alternative} (offload: {entry.offload.value})"
                    return blamed, (None if frame is blamed else frame), entry.code, entry.name, fix
    except Exception:  # the catalog is advisory: a broken one must not break the watchdog
        pass
    code, entry_name, fix = fix_for(blamed, offender, cause)
    return blamed, offender, code, entry_name, fix


def _only_importing(frames: tuple[Frame, ...]) -> bool:
    """Whether ``frames`` (below the blamed line) are an import in progress: the import system's
    own frames first (and the C calls it makes). Whatever runs deeper (the imported module's
    body, a garbage collection's callbacks that ran during it) is the import's work."""
    for f in frames:
        if f.filename.startswith("<frozen importlib") or f.module == "importlib":
            return True
        if f.module.startswith("importlib."):
            return True
        if not (f.filename == C_FILENAME and not f.module):
            return False
    return False


def is_io_entry(name: str | None) -> bool:
    """Whether catalog entry ``name`` is blocking I/O (file, network, DNS, a subprocess, ...).

    Such a call spends its time in system calls that release the GIL, even when the thread
    stays on a CPU (page-cached file reads, a local socket): a thread is its fix, not a process.
    """
    if name is None:
        return False
    try:
        entry = _catalog().lookup(name)
    except Exception:  # the catalog is advisory: a broken one must not break the watchdog
        return False
    return entry is not None and entry.kind.value not in ("cpu", "import")


def _is_builtin_there(name: str, module: str) -> bool:
    """Whether a bare ``name`` called in ``module`` is the builtin (the module does not define it)."""
    if "." in name or not hasattr(builtins, name):
        return False
    namespace = getattr(sys.modules.get(module), "__dict__", {})
    return name not in namespace


def fix_for(
    blamed: Frame | None, offender: Frame | None, cause: Cause
) -> tuple[str | None, str | None, str]:
    """``(code, entry name, fix text)`` from the catalog when the call is known, else generic by cause."""
    try:
        catalog = _catalog()
        names: list[str] = []
        if offender is not None:
            names.extend(_names(offender))
        for frame in (offender, blamed):
            if frame is not None and frame.source:
                for name in reversed(_CALL.findall(frame.source)):
                    names.append(name)
                    if _is_builtin_there(name, frame.module):
                        names.append("builtins." + name)
        if blamed is not None and _IMPORT.match(blamed.source):
            names.append("builtins.__import__")  # an import statement: no call on the line
        for name in names:
            entry = catalog.lookup(name)
            if entry is not None:
                return (
                    entry.code,
                    entry.name,
                    f"{entry.alternative} (offload: {entry.offload.value})",
                )
    except Exception:  # the catalog is advisory: a broken one must not break the watchdog
        pass
    if cause is Cause.CPU:
        return (
            None,
            None,
            "CPU-bound work on the loop: run it in a process (loop.run_in_executor with a process pool)",
        )
    if cause is Cause.GC:
        return (
            None,
            None,
            "garbage collection pause: reduce cyclic garbage or tune gc thresholds / gc.freeze()",
        )
    if cause is Cause.BLOCKED:
        return (
            None,
            None,
            "blocking call on the loop: run it in a thread (asyncio.to_thread) or use an async API",
        )
    return None, None, "move the long call off the loop (asyncio.to_thread or a process pool)"
