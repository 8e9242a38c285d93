"""The per-file summaries: symbolic references, flags and texts the analysis relies on."""

from __future__ import annotations

from unstall.check._summary import summarize
from unstall.check._summary_types import (
    AWAITED,
    CALL,
    CONSUMED,
    IMPORT,
    IN_LAMBDA,
    MODULE_CODE,
    PLAIN,
    READ,
    FunctionInfo,
    ModuleSummary,
    Param,
    Use,
)

SOURCE = """\
import time
import requests as r
from . import sibling
from .. import cousin
from os.path import *

if TYPE_CHECKING:
    import typing_only


class Repo(Base):
    pool = r.Session()

    def __init__(self, path: str | None = None) -> None:
        self.session = r.Session()
        super().__init__()

    @property
    def size(self) -> int:
        return len(self.session.get("u").content)


async def handler(items):
    time.sleep(1)
    await r.get("u", timeout=0, stream=True)
    for item in Repo().rows():
        print(item)
    list(Repo().rows())
    await run(lambda: time.sleep(2))
    open = print
    open("x")
    return exists("x")


if __name__ == "__main__":
    time.sleep(9)
"""


def module() -> ModuleSummary:
    return summarize(SOURCE, path="pkg/sub/mod.py", module="pkg.sub.mod", is_package=False)


def function(key: str) -> FunctionInfo:
    return next(info for info in module().functions if info.key == key)


def calls(key: str) -> list[Use]:
    return [use for use in function(key).uses if use.kind == CALL]


def test_bindings_resolve_imports_relative_to_the_package() -> None:
    bindings = dict(module().bindings)
    assert bindings["r"] == "requests"
    assert bindings["sibling"] == "pkg.sub.sibling"
    assert bindings["cousin"] == "pkg.cousin"
    assert bindings["Repo"] == "pkg.sub.mod.Repo"
    assert module().star_imports == ("os.path",)


def test_classes_record_bases_and_attribute_types() -> None:
    (repo,) = module().classes
    assert repo.key == "Repo"
    # ``Base`` is bound nowhere, but may come from the star import: resolved through the module.
    assert repo.bases == ("pkg.sub.mod.Base",)
    assert dict(repo.attributes) == {"pool": "requests.Session()", "session": "requests.Session()"}


def test_method_references_go_through_the_class_instance() -> None:
    refs = [use.ref for use in function("Repo.size").uses]
    assert "pkg.sub.mod.Repo().session.get" in refs
    assert "pkg.sub.mod.Repo.<super>.__init__" in [use.ref for use in calls("Repo.__init__")]
    assert function("Repo.size").is_property
    reads = [use.ref for use in function("Repo.size").uses if use.kind == READ]
    assert reads == ["pkg.sub.mod.Repo().session.get().content", "pkg.sub.mod.Repo().session"]


def test_call_flags_texts_and_keywords_in_an_async_def() -> None:
    uses = {use.ref: use for use in calls("handler")}
    sleep = next(use for use in calls("handler") if use.ref == "time.sleep" and use.line == 24)
    assert sleep.flags & PLAIN
    assert (sleep.func_text, sleep.args_text) == ("time.sleep", "1")
    get = uses["requests.get"]
    assert get.flags & AWAITED
    assert get.keywords == (("timeout", 0), ("stream", True), ("@0", "u"), ("#", 1))
    assert uses["pkg.sub.mod.Repo().rows"].flags & CONSUMED
    lambda_sleep = next(
        use for use in calls("handler") if use.line == 29 and use.ref == "time.sleep"
    )
    assert lambda_sleep.flags & IN_LAMBDA
    assert function("handler").uses[lambda_sleep.parent].ref == "pkg.sub.mod.run"


def test_shadowed_and_star_imported_names() -> None:
    refs = [use.ref for use in calls("handler")]
    assert "builtins.open" not in refs  # ``open = print`` in the function shadows it
    assert "pkg.sub.mod.exists" in refs  # resolved through the star import by the analysis


def test_module_code_skips_the_main_guard_and_type_checking_imports() -> None:
    top = function(MODULE_CODE)
    imports = [use.ref for use in top.uses if use.kind == IMPORT]
    assert "typing_only" not in imports
    assert "requests" in imports
    assert all(use.line != 36 for use in top.uses)
    assert [use.ref for use in top.uses if use.kind == CALL] == ["requests.Session"]


def test_texts_are_kept_only_in_async_defs() -> None:
    assert all(use.func_text is None for use in function("Repo.__init__").uses)
    assert module().insert_line == 6


TYPED = """\
import contextlib
import tarfile
from pathlib import Path

import pymongo


@contextlib.contextmanager
def opened(name):
    handle = open(name)
    try:
        yield handle
    finally:
        handle.close()


@contextlib.contextmanager
def either(flag):
    if flag:
        yield Path("a")
    else:
        yield open("b")


def work(root: Path, buffer):
    client = pymongo.MongoClient()
    client["app"]["users"].find_one()
    for path in root.glob("*"):
        path.read_text()
    [item.stat() for item in sorted(root.iterdir())]
    tarfile.open(fileobj=buffer, mode="r")
"""


def _typed(key: str) -> FunctionInfo:
    summary = summarize(TYPED, path="typed.py", module="typed", is_package=False)
    return next(info for info in summary.functions if info.key == key)


def test_context_manager_generators_record_what_they_yield() -> None:
    assert _typed("opened").yields == "builtins.open()"
    assert _typed("either").yields is None  # two different things: unknown
    assert _typed("work").yields is None


def test_subscripts_loop_items_and_any_value_keywords() -> None:
    refs = {use.ref: use for use in _typed("work").uses if use.kind == CALL}
    assert "pymongo.MongoClient().__getitem__().__getitem__().find_one" in refs
    assert "pathlib.Path().glob.<each>.read_text" in refs
    # ``sorted`` keeps the items; the comprehension's target is its own
    assert "pathlib.Path().iterdir.<each>.stat" in refs
    assert refs["tarfile.open"].keywords == (("fileobj", Param("buffer")), ("mode", "r"))
