"""What keeps real findings and drops the ones that cannot happen: a pair for every pruning rule.

Each test shows the same code twice: once where the blocking call really runs (reported, with
how often) and once where a constant, a cache, a guard or the catalog says it does not (pruned,
or put in its tier).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

from unstall.catalog import default_catalog
from unstall.check import Finding, Frequency
from unstall.check._analyze import AnalysisSettings, analyze
from unstall.check._summary import summarize

CATALOG = default_catalog()


def findings(files: Mapping[str, str], **settings: tuple[str, ...]) -> list[Finding]:
    summaries = []
    for name, text in files.items():
        path = name.replace(".", "/") + ".py"
        summaries.append(summarize(textwrap.dedent(text), path=path, module=name, is_package=False))
    found = analyze(summaries, catalog=CATALOG, settings=AnalysisSettings(**settings))
    return sorted(found, key=lambda finding: (finding.location.path, finding.location.line))


def seen(files: Mapping[str, str], **settings: tuple[str, ...]) -> list[tuple[int, str, str]]:
    """(line, code, frequency) of every finding."""
    return [
        (finding.location.line, finding.code, finding.frequency.value)
        for finding in findings(files, **settings)
    ]


# -- constants decide branches ----------------------------------------------------------------

HELPERS = """
    import ssl
    import time


    def make_context(verify=True):
        if verify:
            return ssl.create_default_context()
        return None


    def sleep_unless(quick=False):
        if not quick:
            time.sleep(1)


    def pick(mode):
        if mode == "slow":
            time.sleep(1)


    def maybe(timeout=None):
        if timeout is None:
            return
        time.sleep(timeout)
"""


def test_a_default_argument_prunes_the_branch_it_decides() -> None:
    handlers = """
        from app.helpers import make_context, maybe, pick, sleep_unless


        async def pruned():
            make_context(verify=False)
            sleep_unless(quick=True)
            pick("fast")
            maybe()


        async def kept(flag):
            make_context()
            sleep_unless()
            pick("slow")
            maybe(1)
            sleep_unless(flag)
    """
    assert seen({"app.helpers": HELPERS, "app.handlers": handlers}) == [
        (13, "UNS105", "every"),
        (14, "UNS101", "every"),
        (15, "UNS101", "every"),
        (16, "UNS101", "every"),
        (17, "UNS101", "every"),
    ]


def test_a_value_passed_on_through_a_parameter_still_decides() -> None:
    source = """
        import ssl


        def context(verify):
            return ssl.create_default_context() if verify else None


        def client(verify=True):
            return context(verify)


        async def insecure():
            client(verify=False)


        async def secure():
            client()
    """
    assert seen({"app": source}) == [(18, "UNS105", "every")]


def test_a_parameter_given_a_new_value_is_no_longer_the_callers_constant() -> None:
    source = """
        import time


        def wait(seconds=None):
            if seconds is None:
                seconds = 1
            if seconds:
                time.sleep(seconds)


        def connect(address=None):
            if address:
                address = address.strip()
            if address:
                time.sleep(1)


        async def handler():
            wait()
            connect()
    """
    # ``seconds`` is 1 after the first guard; ``address`` stays None (its rebinding is dead).
    assert seen({"app": source}) == [(20, "UNS101", "every")]


def test_isinstance_on_a_constant_argument() -> None:
    source = """
        import time


        def load(data):
            if isinstance(data, str):
                time.sleep(1)


        async def handler():
            load(3)
            load("name")
    """
    assert seen({"app": source}) == [(12, "UNS101", "every")]


# -- catalog conditions ---------------------------------------------------------------------------


def test_a_catalog_condition_met_through_a_parameter() -> None:
    source = """
        import socket


        def resolve(host, flags=0):
            return socket.getaddrinfo(host, 80, 0, 0, 0, flags)


        async def numeric():
            resolve("127.0.0.1", socket.AI_NUMERICHOST)


        async def by_name():
            resolve("example.com")
    """
    assert seen({"app": source}) == [(14, "UNS104", "every")]


def test_a_condition_on_how_the_receiver_was_made() -> None:
    source = """
        import queue
        import socket


        async def udp():
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.connect(("8.8.8.8", 80))


        async def tcp():
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.connect(("8.8.8.8", 80))


        async def unbounded():
            jobs = queue.Queue()
            jobs.put(1)


        async def bounded():
            jobs = queue.Queue(maxsize=10)
            jobs.put(1)
    """
    assert seen({"app": source}) == [(13, "UNS103", "every"), (23, "UNS108", "every")]


def test_a_datagram_sent_on_a_udp_socket_never_waits() -> None:
    # sendto on a UDP socket hands one datagram to the kernel (made in the function, or as an
    # instance attribute in the class); on any other socket it may wait for the peer
    source = """
        import socket


        async def probe(packet, ip):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.sendto(packet, (ip, 50000))


        async def stream(packet, ip):
            sock = socket.socket()
            sock.sendto(packet, (ip, 50000))


        class Voice:
            def __init__(self):
                self.udp = socket.socket(socket.AF_INET, type=socket.SOCK_DGRAM)

            async def keep_alive(self, packet, ip):
                self.udp.sendto(packet, (ip, 50000))
    """
    assert seen({"app": source}) == [(12, "UNS103", "every")]


def test_a_condition_on_how_an_instance_attribute_was_made() -> None:
    source = """
        import queue
        import socket


        class Writer:
            def __init__(self):
                self._jobs = None
                self._bounded = queue.Queue(maxsize=10)
                self._probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                self._stream = socket.socket(socket.AF_INET, socket.SOCK_STREAM)

            def start(self):
                self._jobs = queue.Queue()

            async def write(self, item):
                self._jobs.put(item)
                self._bounded.put(item)
                self._probe.connect(("8.8.8.8", 80))
                self._stream.connect(("8.8.8.8", 80))


        class Retry(Writer):
            async def again(self, item):
                self._jobs.put(item)
    """
    # An unbounded queue's put and a UDP socket's connect never wait, as made in the class.
    assert seen({"app": source}) == [(18, "UNS108", "every"), (20, "UNS103", "every")]
    # Given another value too: what it holds at the put is not known to be unbounded.
    given_twice = source.replace(
        "self._jobs = queue.Queue()",
        "self._jobs = queue.Queue()\n                self._jobs = queue.Queue(1)",
    )
    assert seen({"app": given_twice}) == [
        (18, "UNS108", "every"),
        (19, "UNS108", "every"),
        (21, "UNS103", "every"),
        (26, "UNS108", "every"),
    ]


# -- first call only ------------------------------------------------------------------------------


def test_a_memoized_helper_blocks_on_the_first_call_and_a_warmed_one_not_at_all() -> None:
    source = """
        import functools
        import ssl


        @functools.cache
        def context(ciphers="default"):
            return ssl.create_default_context()


        DEFAULT = context()


        async def warmed():
            context()


        async def cold():
            context("modern")
    """
    (finding,) = findings({"app": source})
    assert (finding.location.line, finding.frequency, finding.reason) == (
        19,
        Frequency.FIRST,
        "functools.cache",
    )


def test_a_cache_aside_lookup_makes_the_rest_first_call_only() -> None:
    # a value looked up under a key, returned when it passes a test, else made and stored
    # under the same key: what makes it runs once per key
    source = """
        import requests


        def is_set(value):
            return bool(value)


        class Tokens:
            def __init__(self, cache):
                self.cache = cache
                self.seen = {}

            async def token(self, app):
                key = f"token:{app}"
                token = self.cache.get(key)
                if is_set(token):
                    return token
                token = requests.post("https://auth.example/token").text
                self.cache.set(key, token, 3600)
                return token

            async def by_item(self, app):
                token = self.seen.get(app)
                if token is not None:
                    return token
                token = self.seen[app] = requests.post("https://auth.example/token").text
                return token

            async def never_stored(self, app):
                token = self.cache.get(app)
                if token:
                    return token
                return requests.post("https://auth.example/token").text

            async def another_key(self, app):
                token = self.cache.get(app)
                if token:
                    return token
                token = requests.post("https://auth.example/token").text
                self.cache.set("other", token)
                return token

            async def create(self, url, body):
                found = requests.get(url)
                if found.ok:
                    return found
                requests.put(url, data=body)
    """
    assert seen({"app": source}) == [
        (19, "UNS103", "first"),
        (27, "UNS103", "first"),
        # nothing stored, or stored under another key: made on every call
        (34, "UNS103", "every"),
        (40, "UNS103", "every"),
        # an HTTP GET, then a PUT to the same URL: no cache
        (45, "UNS103", "every"),
        (48, "UNS103", "every"),
    ]


def test_lazy_set_up_is_first_call_only() -> None:
    source = """
        import ssl

        _CACHE = {}


        class Client:
            def __init__(self):
                self._context = None

            async def lazy(self):
                if self._context is None:
                    self._context = ssl.create_default_context()
                return self._context

            async def every_time(self):
                self._context = ssl.create_default_context()

            async def by_key(self, name):
                if name not in _CACHE:
                    _CACHE[name] = ssl.create_default_context()
                return _CACHE[name]

            async def local_default(self, context=None):
                if context is None:
                    context = ssl.create_default_context()
                return context
    """
    assert seen({"app": source}) == [
        (13, "UNS105", "first"),
        (17, "UNS105", "every"),
        (21, "UNS105", "first"),
        # Filling a local is no cache: it happens on every call without an argument.
        (26, "UNS105", "every"),
    ]


def test_a_lookup_whose_miss_handler_fills_it_is_first_call_only() -> None:
    source = """
        import sqlite3


        class Stores:
            def __init__(self):
                self._dbs = {}

            async def db(self, name):
                try:
                    return self._dbs[name]
                except KeyError:
                    db = self._dbs[name] = sqlite3.connect(name)
                    return db

            async def handle(self):
                try:
                    return self._handle
                except AttributeError:
                    self._handle = sqlite3.connect("app.db")
                    return self._handle

            async def fresh(self, name):
                try:
                    return self._dbs[name]
                except KeyError:
                    return sqlite3.connect(name)

            async def other_error(self, name):
                try:
                    return self._dbs[name]
                except ValueError:
                    self._dbs[name] = sqlite3.connect(name)
    """
    assert seen({"app": source}) == [
        (13, "UNS107", "first"),
        (20, "UNS107", "first"),
        # A miss that fills nothing, or an error that is no miss, runs each time.
        (27, "UNS107", "every"),
        (33, "UNS107", "every"),
    ]


def test_an_in_memory_sqlite_database_does_no_io() -> None:
    source = """
        import sqlite3


        async def scratch():
            conn = sqlite3.connect(":memory:")
            conn.execute("create table t (x)")


        async def on_disk():
            conn = sqlite3.connect("app.db")
            conn.execute("create table t (x)")
    """
    assert seen({"app": source}) == [(11, "UNS107", "every"), (12, "UNS107", "every")]


def test_a_catalog_entry_that_caches_itself_is_first_call_only() -> None:
    source = """
        import tempfile


        async def handler():
            return tempfile.gettempdir()
    """
    (finding,) = findings({"app": source})
    assert finding.frequency is Frequency.FIRST
    assert finding.reason is not None
    assert "tempfile" in finding.reason


def test_a_run_time_import_is_reported_as_the_import() -> None:
    files = {
        "app.heavy": 'DATA = open("data.txt").read()\n',
        "app.handlers": """
            async def handler():
                import app.heavy

                return app.heavy.DATA
        """,
    }
    (finding,) = findings(files)
    assert (finding.code, finding.frequency, finding.reason) == (
        "UNS110",
        Frequency.FIRST,
        "first import",
    )
    assert "imports `app.heavy` at run time" in finding.message


def test_an_import_of_a_module_sys_modules_says_is_loaded_runs_nothing() -> None:
    heavy = 'DATA = open("data.txt").read()\nclass Toolset: ...\n'
    guarded = """
        import sys


        def owned(toolset):
            if "app.heavy" in sys.modules:
                from app.heavy import Toolset

                return isinstance(toolset, Toolset)
            return False


        def names(toolset):
            if toolset is None or "app.heavy" not in sys.modules:
                return []
            import app.heavy

            return [app.heavy.DATA]


        async def handler(toolset):
            return owned(toolset), names(toolset)
    """
    assert findings({"app.heavy": heavy, "app.handlers": guarded}) == []
    # Without the test the import may be the first: it loads the module, on a first call.
    unguarded = guarded.replace('"app.heavy" in sys.modules', "toolset")
    unguarded = unguarded.replace('"app.heavy" not in sys.modules', "not toolset.ready")
    found = findings({"app.heavy": heavy, "app.handlers": unguarded})
    assert {(f.location.line, f.frequency, f.reason) for f in found} == {
        (22, Frequency.FIRST, "first import")
    }


def test_start_up_code_is_its_own_tier() -> None:
    source = """
        import asyncio
        import time

        from starlette.applications import Starlette


        async def lifespan(app):
            time.sleep(1)
            yield


        async def _load():
            time.sleep(1)


        async def main():
            await _load()
            while True:
                time.sleep(1)


        async def handler(request):
            await _load()


        app = Starlette(lifespan=lifespan)
        asyncio.run(main())
    """
    assert seen({"app": source}) == [
        (9, "UNS101", "startup"),
        # ``_load`` is also awaited by a request handler: it runs while serving too.
        (14, "UNS101", "every"),
        (20, "UNS101", "every"),
    ]
    only_main = source.replace(
        "async def handler(request):\n            await _load()",
        "async def handler(request):\n            pass",
    )
    assert (14, "UNS101", "startup") in seen({"app": only_main})


def test_a_main_coroutine_repeats_only_its_while_and_async_for_loops() -> None:
    source = """
        import asyncio
        import time


        async def main(paths, stream):
            for path in paths:
                time.sleep(1)
            async for message in stream:
                time.sleep(1)
            while True:
                time.sleep(1)


        asyncio.run(main([], None))
    """
    # A sync ``for`` runs once per item of what it holds when the coroutine starts.
    assert seen({"app": source}) == [
        (8, "UNS101", "startup"),
        (10, "UNS101", "every"),
        (12, "UNS101", "every"),
    ]


def test_a_start_method_runs_once_per_object_unless_called_while_serving() -> None:
    source = """
        import os
        import time


        class Client:
            async def start(self):
                os.stat("tokens.json")
                while True:
                    time.sleep(1)

            async def stop(self):
                os.remove("tokens.json")
    """
    # Nothing in the project starts it: a client starts once and then serves from its loops.
    assert seen({"app.client": source}) == [
        (8, "UNS102", "startup"),
        (10, "UNS101", "every"),
        (13, "UNS102", "startup"),
    ]
    handler = """
        from app.client import Client


        async def handle(request):
            await Client().start()
    """
    # A request handler starts one per request: it is ordinary code again.
    assert seen({"app.client": source, "app.views": handler}) == [
        (8, "UNS102", "every"),
        (10, "UNS101", "every"),
        (13, "UNS102", "startup"),
    ]
    # A test that starts one says nothing of how the program does.
    assert seen({"app.client": source, "tests.test_client": handler}) == [
        (8, "UNS102", "startup"),
        (10, "UNS101", "every"),
        (13, "UNS102", "startup"),
    ]
    renamed = source.replace("async def start(", "async def fetch(")
    assert (8, "UNS102", "every") in seen({"app.client": renamed})


def test_a_project_helper_that_runs_what_it_is_handed_is_a_loop_entry() -> None:
    source = """
        import asyncio
        import functools
        import time

        import anyio


        def run_sync(coro_func):
            loop = asyncio.new_event_loop()
            return loop.run_until_complete(coro_func())


        def run_coroutine(coro):
            return asyncio.run(coro)


        def run_server(main, *, debug=False):
            asyncio.get_event_loop().run_until_complete(main(debug=debug))


        async def check(ds):
            time.sleep(1)


        async def migrate():
            time.sleep(1)


        async def serve(app, port):
            time.sleep(1)


        async def anyio_main():
            time.sleep(1)


        def cli():
            run_sync(lambda: check(1))
            run_coroutine(migrate())
            run_server(functools.partial(serve, None, 80))
            anyio.run(anyio_main)
    """
    assert seen({"app": source}) == [
        (23, "UNS101", "startup"),
        (27, "UNS101", "startup"),
        (31, "UNS101", "startup"),
        (35, "UNS101", "startup"),
    ]
    # A helper that does not hand its parameter to a loop is no loop entry.
    plain = source.replace("return asyncio.run(coro)", "return coro")
    assert (27, "UNS101", "every") in seen({"app": plain})


def test_a_decorator_whose_wrapper_runs_the_coroutine_on_a_loop_makes_a_main_coroutine() -> None:
    source = """
        import asyncio
        import functools
        import time


        def coroutine_command(func):
            @functools.wraps(func)
            def wrapper(*args, **kwargs):
                return asyncio.run(func(*args, **kwargs))

            return wrapper


        def logged(func):
            @functools.wraps(func)
            def wrapper(*args, **kwargs):
                return func(*args, **kwargs)

            return wrapper


        @coroutine_command
        async def sync_db():
            time.sleep(1)
            while True:
                time.sleep(1)


        @logged
        async def handler():
            time.sleep(1)
    """
    assert seen({"app": source}) == [
        (25, "UNS101", "startup"),
        (27, "UNS101", "every"),
        (32, "UNS101", "every"),
    ]
    # The same through a local the wrapper binds to the coroutine first.
    through_local = source.replace(
        "return asyncio.run(func(*args, **kwargs))",
        "result = func(*args, **kwargs)\n                return asyncio.run(result)",
    )
    assert seen({"app": through_local})[0] == (26, "UNS101", "startup")
    # A local bound to something else is no coroutine of the decorated function.
    other = through_local.replace("result = func(*args, **kwargs)", "result = make(*args)")
    assert seen({"app": other})[0] == (26, "UNS101", "every")


def test_a_call_through_a_base_class_reaches_the_subclass_for_the_tier() -> None:
    source = """
        import time


        class Store:
            async def load(self):
                raise NotImplementedError


        class FileStore(Store):
            async def load(self):
                time.sleep(1)


        class Server:
            def __init__(self, store: Store):
                self.store = store

            async def startup(self):
                await self.store.load()
    """
    assert seen({"app": source}) == [(12, "UNS101", "startup")]
    declared = source.replace("async def startup", "async def begin")
    assert seen({"app": declared}) == [(12, "UNS101", "every")]
    assert seen({"app": declared}, lifecycle_roots=("app.Server.begin",)) == [
        (12, "UNS101", "startup")
    ]


# -- the worst call first ---------------------------------------------------------------------------


def test_one_call_reaching_several_blocking_calls_reports_the_worst_with_the_rest() -> None:
    source = """
        import os
        import time

        import requests


        def refresh(path):
            os.stat(path)
            requests.get("http://127.0.0.1:8000/")
            time.sleep(1)


        async def handler():
            refresh("x")
    """
    (finding,) = findings({"app": source})
    assert finding.entry in ("requests.get", "time.sleep")  # the highest severity
    assert "(+2 more blocking calls from here)" in finding.message
    assert sorted(chain[-1].name for chain in finding.more) == sorted(
        {"os.stat", "requests.get", "time.sleep"} - {finding.chain[-1].name}
    )


# -- imports the program has already done ------------------------------------------------------

SETTINGS = """
    import json

    DATA = json.load(open("settings.json"))
"""


def test_an_import_that_breaks_an_import_cycle_runs_nothing() -> None:
    # app.server imports app.routes at its top level; a route imports app.server back at run
    # time (to avoid the cycle): the program loaded app.routes through app.server.
    server = """
        from app import routes
        from app.settings import DATA
    """
    routes = """
        async def handler(request):
            from app.server import DATA
            return DATA
    """
    files = {"app.settings": SETTINGS, "app.server": server, "app.routes": routes}
    assert findings(files) == []
    # Without the cycle the import may be the first: it loads the settings on a first call.
    cycle_free = {**files, "app.server": "from app.settings import DATA\n"}
    assert seen(cycle_free) == [(3, "UNS110", "first")]


# A view whose helper imports the database module at run time.
LOOKUP_HELPERS = """
    def lookup():
        from app.db import DATA
        return DATA
"""
LOOKUP_VIEWS = """
    from app.helpers import lookup


    async def view(request):
        return lookup()
"""


def test_an_import_every_importer_of_the_module_has_done_runs_nothing() -> None:
    # app.main imports the views (registers them) and the database module; a view's helper
    # imports the database module at run time: by then app.main has loaded it.
    main = """
        import app.db
        import app.views
    """
    files = {
        "app.db": SETTINGS,
        "app.helpers": LOOKUP_HELPERS,
        "app.views": LOOKUP_VIEWS,
        "app.main": main,
    }
    assert findings(files) == []
    # A second importer of the views that does not load the database module: it may be first.
    files["app.cli"] = "import app.views\n"
    assert seen(files) == [(6, "UNS102", "first")]
    # A test that imports the views alone is not how the program runs.
    del files["app.cli"]
    files["tests.test_views"] = "import app.views\n"
    assert findings(files) == []


def test_an_import_the_application_has_done_further_up_runs_nothing() -> None:
    # app.main loads the database module and the routers; the routers load the views, whose
    # helper imports the database module at run time: every way to the views went through
    # app.main, so it is loaded.
    files = {
        "app.db": SETTINGS,
        "app.helpers": LOOKUP_HELPERS,
        "app.views": LOOKUP_VIEWS,
        "app.routers": "import app.views\n",
        "app.main": "import app.db\nimport app.routers\n",
    }
    assert findings(files) == []
    # Another program that reaches the routers without the database module: it may be first.
    files["app.worker"] = "import app.routers\n"
    assert seen(files) == [(6, "UNS102", "first")]
    # Through an import cycle, the way back round is cut: what it would add is not counted
    # (less than what is loaded, never more), so the import stays reported; and it ends.
    del files["app.worker"]
    files["app.routers"] = "import app.views\nimport app.loop\n"
    files["app.loop"] = "import app.routers\n"
    assert seen(files) == [(6, "UNS102", "first")]
    files["app.loop"] = "import app.db\nimport app.routers\n"
    assert findings(files) == []


def test_a_main_guard_names_the_main_coroutine() -> None:
    source = """
        import asyncio
        import time


        async def main():
            time.sleep(1)
            while True:
                time.sleep(1)


        if __name__ == "__main__":
            asyncio.run(main())
    """
    assert seen({"app": source}) == [(7, "UNS101", "startup"), (9, "UNS101", "every")]
    # The guard's body never runs on import: without it nothing says main runs once.
    bare = source.replace('if __name__ == "__main__":\n            asyncio.run', "print")
    assert seen({"app": bare}) == [(7, "UNS101", "every"), (9, "UNS101", "every")]


def test_tornado_run_sync_is_a_loop_entry() -> None:
    source = """
        import functools
        import os

        from tornado.ioloop import IOLoop


        class App:
            async def launch(self, argv):
                os.stat("app.pid")

            def launch_instance(self, argv):
                IOLoop().run_sync(functools.partial(self.launch, argv))


        def main():
            App().launch_instance([])
    """
    assert seen({"app": source}) == [(10, "UNS102", "startup")]
    handler = source.replace("IOLoop().run_sync(", "print(")
    assert seen({"app": handler}) == [(10, "UNS102", "every")]


def test_an_application_initialize_method_runs_once_per_object() -> None:
    source = """
        import os


        class Hub:
            async def initialize(self, argv=None):
                os.stat("hub.pid")
    """
    assert seen({"app": source}) == [(7, "UNS102", "startup")]
    handler = """
        from app import Hub


        async def handle(request):
            await Hub().initialize()
    """
    assert seen({"app": source, "app.views": handler}) == [(7, "UNS102", "every")]


# -- thread locks --------------------------------------------------------------------------------

LOCKED = """
    import threading


    class Cache:
        def __init__(self):
            self._lock = threading.Lock()
            self._items = {}

        def put(self, key, value):
            with self._lock:
                self._items[key] = value

        async def get(self, key):
            with self._lock:
                return self._items.pop(key, None)
"""


def test_a_lock_only_ever_held_for_in_memory_work_does_not_stall() -> None:
    assert findings({"app.cache": LOCKED}) == []
    # A thread that holds the same lock across file I/O makes the loop wait for that I/O.
    slow = LOCKED.replace(
        "self._items[key] = value", "self._items[key] = value\n                save(self._items)"
    )
    slow += """

    def save(items):
        open("cache.json", "w").write(str(items))
    """
    assert seen({"app.cache": slow}) == [(16, "UNS108", "every")]
    # A bare acquire() holds what cannot be told: the lock is kept.
    bare = LOCKED.replace(
        "with self._lock:\n                self._items[key] = value",
        "self._lock.acquire()\n            self._items[key] = value\n            self._lock.release()",
    )
    assert seen({"app.cache": bare}) == [(16, "UNS108", "every")]


def test_a_get_after_a_test_that_the_queue_holds_an_item_returns_at_once() -> None:
    source = """
        import queue


        class Buffer:
            def __init__(self, items: queue.Queue) -> None:
                self.items = items

            async def drain(self):
                found = []
                while not self.items.empty():
                    found.append(self.items.get())
                if self.items.qsize() > 0:
                    found.append(self.items.get())
                return found

            async def wait(self):
                return self.items.get()
    """
    # Only the get that no test covers waits for another thread to put an item.
    assert seen({"app": source}) == [(18, "UNS108", "every")]
    untested = source.replace("while not self.items.empty():", "while True:")
    untested = untested.replace("if self.items.qsize() > 0:", "if found:")
    assert [line for line, _, _ in seen({"app": untested})] == [12, 14, 18]


def test_an_attribute_made_again_the_same_way_keeps_its_condition() -> None:
    source = """
        import queue


        class Buffer:
            def __init__(self):
                self.items = queue.Queue()

            async def activate(self):
                self.items = queue.Queue()
                self.items.put(1)
    """
    # Made twice without maxsize: unbounded either way, put returns at once.
    assert findings({"app": source}) == []
    bounded = source.replace(
        "self.items.put(1)",
        "self.items.put(1)\n\n            def resize(self):\n"
        "                self.items = queue.Queue(maxsize=1)",
    )
    assert seen({"app": bounded}) == [(11, "UNS108", "every")]


def test_a_command_line_modules_commands_run_once_per_invocation() -> None:
    cli = """
        import time


        async def init(path):
            open(path).read()
            while True:
                time.sleep(1)
    """
    # A command runs once per invocation; what it does in a loop repeats.
    assert seen({"app.cli": cli}) == [(6, "UNS102", "startup"), (8, "UNS101", "every")]
    assert seen({"app.__main__": cli}) == [(6, "UNS102", "startup"), (8, "UNS101", "every")]
    # The same code anywhere else is ordinary code, a server module of a cli package included.
    assert seen({"app.views": cli}) == [(6, "UNS102", "every"), (8, "UNS101", "every")]
    assert seen({"app.cli.fileserver": cli})[0] == (6, "UNS102", "every")
    # A request handler that calls the command makes it ordinary code again.
    handler = """
        from app.cli import init


        async def handle(request):
            await init("settings.ini")
    """
    assert seen({"app.cli": cli, "app.views": handler})[0] == (6, "UNS102", "every")


def test_a_decorator_with_an_async_wrapper_runs_it_for_a_coroutine_function() -> None:
    source = """
        import asyncio
        import functools
        import inspect
        import time


        def retry(func):
            @functools.wraps(func)
            def sync_wrapper(*args):
                for _ in range(3):
                    try:
                        return func(*args)
                    except OSError:
                        time.sleep(1)

            @functools.wraps(func)
            async def async_wrapper(*args):
                for _ in range(3):
                    try:
                        return await func(*args)
                    except OSError:
                        await asyncio.sleep(1)

            return async_wrapper if inspect.iscoroutinefunction(func) else sync_wrapper


        @retry
        async def fetch(url):
            return url


        async def handler():
            return await fetch("x")
    """
    assert findings({"app": source}) == []
    # With only a sync wrapper, calling the decorated coroutine function runs it.
    sync_only = source.replace("async def async_wrapper", "def async_wrapper_unused")
    sync_only = sync_only.replace("await asyncio.sleep(1)", "pass")
    sync_only = sync_only.replace("return await func(*args)", "return func(*args)")
    assert seen({"app": sync_only}) == [(34, "UNS101", "every")]


def test_the_branch_a_constant_test_rules_out_never_runs() -> None:
    source = """
        import socket


        async def resolve(loop, host):
            if True:  # generated: the sync twin keeps the other branch
                return await loop.getaddrinfo(host, 80)
            else:
                return socket.getaddrinfo(host, 80)
    """
    assert findings({"app": source}) == []
    assert seen({"app": source.replace("if True:", "if host:")}) == [(9, "UNS104", "every")]


def test_a_new_in_memory_buffer_does_no_io() -> None:
    source = """
        import gzip
        import io
        import json

        from PIL import Image


        class File:
            def __init__(self, fp):
                if isinstance(fp, io.IOBase):
                    self.fp = fp
                else:
                    self.fp = open(fp, "rb")


        async def handler(data, path):
            Image.open(io.BytesIO(data))
            gzip.open(io.BytesIO(data))
            json.dump({}, io.StringIO())
            File(io.BytesIO(data))
    """
    assert findings({"app": source}) == []
    # The same calls on a path open a file.
    on_path = source.replace("io.BytesIO(data)", "path").replace("io.StringIO()", "open(path)")
    assert [line for line, _, _ in seen({"app": on_path})] == [18, 19, 20, 20, 21]


def test_a_queue_made_in_an_enclosing_function_keeps_its_condition() -> None:
    source = """
        import asyncio
        import queue
        import threading


        def stream(items, size):
            q = queue.Queue()

            def producer():
                async def runner():
                    async for item in items:
                        q.put(item)

                asyncio.run(runner())

            threading.Thread(target=producer, daemon=True).start()
            return q


        async def serve(items):
            stream(items, 1)
    """
    # Two functions out, unbounded: put returns at once; with an annotation too, and in the
    # function that made it.
    assert seen({"app": source}) == []
    annotated = source.replace("q = queue.Queue()", 'q: "queue.Queue[int]" = queue.Queue()')
    assert seen({"app": annotated}) == []
    local = annotated.replace("return q", "q.put(None)\n            return q")
    assert seen({"app": local}) == []
    assert [line for line, _, _ in seen({"app": local.replace("Queue()", "Queue(1)")})] == [13, 23]
    for bounded in ("queue.Queue(maxsize=1)", "queue.Queue(size)", "queue.Queue(maxsize=size)"):
        # bounded, by a constant or by the enclosing function's own parameter (unknown here)
        found = seen({"app": source.replace("queue.Queue()", bounded)})
        assert [(line, code) for line, code, _ in found] == [(13, "UNS108")], bounded


def test_a_dataclass_field_made_by_its_factory_keeps_its_condition() -> None:
    source = """
        import queue
        from dataclasses import dataclass, field


        @dataclass
        class Process:
            events: queue.Queue = field(default_factory=queue.Queue)

            async def run_once(self, item):
                self.events.put(item)
    """
    # Each instance gets queue.Queue(): unbounded, put returns at once.
    assert findings({"app": source}) == []
    bounded = source.replace("field(default_factory=queue.Queue)", "queue.Queue(maxsize=1)")
    assert seen({"app": bounded}) == [(11, "UNS108", "every")]
    untyped = source.replace("events: queue.Queue = ", "events = ")
    assert findings({"app": untyped}) == []  # the factory types the attribute
    assert seen({"app": untyped.replace("self.events.put(item)", "self.events.get()")}) == [
        (11, "UNS108", "every")
    ]


def test_a_click_command_runs_once_per_invocation() -> None:
    cli = """
        import asyncio
        import functools

        import click


        def async_command(func):
            @functools.wraps(func)
            def wrapper(*args, **kwargs):
                async def run():
                    await func(*args, **kwargs)

                if args[0].obj.session:
                    return args[0].obj.run_in_session(run())
                return asyncio.run(run())

            return wrapper


        @click.group()
        async def cli(config):
            open(config).read()
            while True:
                open(config).read()


        @click.command()
        @async_command
        async def show(path):
            open(path).read()


        cli.add_command(show)


        def main():
            cli()
    """
    # Registered with add_command (not handed to code that may call it any time), or invoked
    # by the module's own main: once per invocation; what a command does in a loop repeats.
    assert seen({"app.cli": cli}) == [
        (23, "UNS102", "startup"),
        (25, "UNS102", "every"),
        (31, "UNS102", "startup"),
    ]
    # Called by a serving module's sync code (no command line in sight), it is ordinary code.
    assert seen({"app.views": cli})[0] == (23, "UNS102", "every")


def test_a_cache_start_up_code_fills_is_warm_when_requests_arrive() -> None:
    services = """
        import functools
        import importlib


        @functools.cache
        def all_services():
            return importlib.import_module("app.plugins")


        def get_service(name):
            return getattr(all_services(), name)
    """
    main = """
        from fastapi import FastAPI

        from app.services import get_service


        async def initialize():
            get_service("db")


        async def lifespan(app):
            await initialize()
            yield


        app = FastAPI(lifespan=lifespan)


        @app.get("/users")
        async def users():
            return get_service("users")
    """
    plugins = 'DATA = open("plugins.json").read()\n'
    files = {"app.services": services, "app.main": main, "app.plugins": plugins}
    # The lifespan fills the cache before the first request: a request's call is a hit (and
    # the start-up call that fills it is not reported either: the calls are one graph).
    assert seen(files) == []
    # Nothing at start-up calls it: the first request pays.
    cold = main.replace('    get_service("db")', "    pass")
    assert [(line, tier) for line, _, tier in seen({**files, "app.main": cold})] == [(21, "first")]
    # A cache that forgets (time to live) is cold again later, whoever filled it first.
    ttl = services.replace("@functools.cache", "@cachetools.func.ttl_cache(ttl=60)")
    ttl = ttl.replace("import functools", "import cachetools.func")
    assert (21, "first") in [(line, tier) for line, _, tier in seen({**files, "app.services": ttl})]


def test_a_method_named_for_a_start_or_stop_runs_once_unless_called_while_serving() -> None:
    source = """
        import os


        class Client:
            async def _start_session(self):
                os.stat("tokens.json")

            async def login(self):
                os.stat("tokens.json")

            async def async_stop_all(self):
                os.remove("tokens.json")

            async def launch_browser(self):
                os.stat("profile")


        async def start_server():
            os.stat("profile")
    """
    # Named for a start, a log-in, a stop or a launch, and called by nothing that serves: once
    # per object, at its start or its end. A module-level function has no object to go by.
    assert seen({"app.client": source}) == [
        (7, "UNS102", "startup"),
        (10, "UNS102", "startup"),
        (13, "UNS102", "startup"),
        (16, "UNS102", "startup"),
        (20, "UNS102", "every"),
    ]
    handler = """
        from app.client import Client


        async def handle(request):
            client = Client()
            await client._start_session()
            await client.launch_browser()
    """
    # A request handler that starts one per request makes it ordinary code again.
    served = seen({"app.client": source, "app.views": handler})
    assert (7, "UNS102", "every") in served
    assert (16, "UNS102", "every") in served
    # A word that only begins the name is not one: ``started``, ``stopwatch``.
    renamed = source.replace("_start_session", "_started_session").replace(
        "async_stop_all", "stopwatch"
    )
    assert [row for row in seen({"app.client": renamed}) if row[0] in (7, 13)] == [
        (7, "UNS102", "every"),
        (13, "UNS102", "every"),
    ]


def test_a_command_line_command_runs_once_per_invocation() -> None:
    source = """
        import os

        import click
        import cyclopts
        import discord.ext.commands

        app = cyclopts.App()
        bot = discord.ext.commands.Bot(command_prefix="!")


        @click.group()
        def tool():
            pass


        @tool.command()
        async def sync():
            os.stat("profile")


        @app.command(name="ls")
        async def listing():
            os.stat("profile")
            while True:
                os.stat("profile")


        @bot.command()
        async def ping(ctx):
            os.stat("profile")
    """
    # A click group's sub-command and a cyclopts command run once per invocation (their loops
    # repeat); a chat bot's command runs for every message that names it.
    assert seen({"app.commands": source}) == [
        (19, "UNS102", "startup"),
        (24, "UNS102", "startup"),
        (26, "UNS102", "every"),
        (31, "UNS102", "every"),
    ]
    # Without the group's decorator, ``tool.command`` is a project function's attribute only.
    plain = source.replace("        @click.group()\n", "")
    assert (18, "UNS102", "every") in seen({"app.commands": plain})  # one line up


def test_what_the_constructor_set_up_once_is_warm_for_the_objects_methods() -> None:
    source = """
        import functools
        import importlib
        import os

        _CLIENT = None


        class Telemetry:
            def __init__(self):
                self.id = os.path.exists("/etc/machine-id")


        def client():
            global _CLIENT
            if _CLIENT is None:
                _CLIENT = Telemetry()
            return _CLIENT


        def capture(event):
            client()


        @functools.cache
        def settings():
            return open("settings.toml").read()


        def plugin(name):
            return importlib.import_module(name)


        class Memory:
            def __init__(self, provider):
                capture("init")
                settings()
                self.store = plugin(provider)

            async def add(self, item):
                capture("add")
                settings()
                plugin(item)


        class Other:
            async def add(self, item):
                capture("add")
                settings()
    """
    # The constructor ran before any method: the lazy client and the memo are filled. A
    # module imported by a name the call does not show may be another one: still reported.
    # From ``Other``, whose constructor fills nothing, both are first calls.
    assert seen({"app.memory": source}) == [
        (43, "UNS110", "first"),
        (48, "UNS102", "first"),
        (49, "UNS102", "first"),
    ]
    without = source.replace(
        '                capture("init")\n                settings()\n', "                pass\n"
    )
    assert [row for row in seen({"app.memory": without}) if row[0] < 46] == [
        (40, "UNS102", "first"),
        (41, "UNS102", "first"),
        (42, "UNS110", "first"),
    ]


def test_what_an_earlier_call_of_the_function_filled_is_warm_for_the_calls_after_it() -> None:
    source = """
        import functools
        import importlib.metadata

        _context = None


        def get_context():
            global _context
            if _context is None:
                _context = open("config.yaml").read()
            return _context


        @functools.cache
        def is_v1():
            return importlib.metadata.version("openai").startswith("1")


        class Agent:
            @property
            def context(self):
                return get_context()

            @property
            def executor(self):
                return get_context()

            async def run(self):
                engine = self.context
                if is_v1():
                    pass
                runner = self.executor
                if is_v1():
                    pass
                return engine, runner
    """
    # The first call pays for the lazy context and the memo, and is reported; the calls after
    # it find both filled.
    assert seen({"app.agent": source}) == [(30, "UNS102", "first"), (31, "UNS110", "first")]
    # Another method starts cold: its own first calls are reported.
    other = source + "\n            async def plan(self):\n                return self.executor\n"
    assert (39, "UNS102", "first") in seen({"app.agent": other})
    # A memo kept per object (a new one each time) is cold again for the next call; a memo
    # of the process stays warm.
    boxes = """
        import functools


        class Config:
            @functools.cached_property
            def data(self):
                return open("c.json").read()


        def load():
            return Config().data


        def other():
            return Config().data


        async def pair():
            one = load()
            two = other()
            return one, two
    """
    assert seen({"app.boxes": boxes}) == [(20, "UNS102", "first"), (21, "UNS102", "first")]
    lasting = boxes.replace("functools.cached_property", "property").replace(
        "def load():", "@functools.cache\n        def load():"
    )
    lasting = lasting.replace(
        "def other():\n            return Config().data", "def other():\n            return load()"
    )
    assert seen({"app.boxes": lasting}) == [(21, "UNS102", "first")]


def test_a_set_up_per_key_is_warm_only_for_the_key_filled() -> None:
    source = """
        _services = {}
        _client = None


        def service(name):
            if name not in _services:
                _services[name] = open(name).read()
            return _services[name]


        def client():
            global _client
            if _client is None:
                _client = open("client.json").read()
            return _client


        class Gateway:
            def __init__(self, name):
                service(name)
                client()

            async def handle(self, other):
                service(other)
                client()
                service(other)
    """
    # The constructor filled one key of the mapping and the one client: another key is a first
    # call still, at each call whose key the analysis cannot tell; the client is warm.
    assert seen({"app.gateway": source}) == [(25, "UNS102", "first"), (27, "UNS102", "first")]
    # The same when the set-up calls a helper that reads the file.
    helper = source.replace("_services[name] = open(name).read()", "_services[name] = load(name)")
    helper += "\n\n        def load(name):\n            return open(name).read()\n"
    assert seen({"app.gateway": helper}) == [(25, "UNS102", "first"), (27, "UNS102", "first")]
    handler = """
        def lookup(store, key):
            try:
                return store[key]
            except KeyError:
                value = store[key] = open(key).read()
                return value


        class Cache:
            def __init__(self, key):
                self.store = {}
                lookup(self.store, key)

            async def get(self, key):
                return lookup(self.store, key)
    """
    assert seen({"app.cache": handler}) == [(16, "UNS102", "first")]


def test_a_validator_that_runs_while_the_object_is_built_warms_its_methods() -> None:
    source = """
        import functools
        import importlib.metadata

        from langchain_core.utils import pre_init
        from pydantic import BaseModel, model_validator


        @functools.cache
        def is_openai_v1():
            return importlib.metadata.version("openai").startswith("1")


        class Base(BaseModel):
            @pre_init
            def validate_environment(cls, values):
                is_openai_v1()
                return values


        class Chat(Base):
            async def agenerate(self):
                return is_openai_v1()


        class Other(BaseModel):
            @model_validator(mode="before")
            @classmethod
            def check(cls, values):
                return values

            async def agenerate(self):
                return is_openai_v1()
    """
    # A base class's validator filled the memo as the object was built; the other model's
    # validator does not call it.
    assert seen({"app.models": source}) == [(33, "UNS110", "first")]
    calls = source.replace(
        "return values\n\n            async",
        "is_openai_v1()\n                return values\n\n            async",
    )
    assert seen({"app.models": calls}) == []
    undecorated = source.replace("            @pre_init\n", "")
    assert (22, "UNS110", "first") in seen({"app.models": undecorated})


def test_a_metadata_lookup_reads_the_disk_every_time_an_import_once() -> None:
    source = """
        import importlib
        import importlib.metadata


        def version():
            return importlib.metadata.version("requests")


        async def handler(name):
            importlib.import_module("plugins.extra")
            importlib.metadata.version("requests")
            version()
            importlib.reload(importlib.import_module("plugins.extra"))
    """
    # A module imported stays in sys.modules; a metadata lookup scans the distributions and
    # reads their files on every call, and a reload runs the module's code again.
    assert seen({"app": source}) == [
        (11, "UNS110", "first"),
        (12, "UNS110", "every"),
        (13, "UNS110", "every"),
        (14, "UNS110", "every"),
        (14, "UNS110", "first"),
    ]


def test_how_a_modules_global_was_made_decides_its_methods() -> None:
    source = """
        import queue

        audio_queue = queue.Queue()
        bounded = queue.Queue(maxsize=4)


        async def play(chunk):
            audio_queue.put(chunk)
            bounded.put(chunk)


        class Player:
            async def play(self, chunk):
                audio_queue.put(chunk)
                bounded.put(chunk)


        async def swap(chunk):
            global audio_queue
            audio_queue = make_queue()
            audio_queue.put(chunk)
    """
    # An unbounded queue's put never waits; a bounded one's may, until a thread takes an item.
    # A function that rebinds the global holds whatever it bound.
    assert seen({"app.sound": source}) == [
        (10, "UNS108", "every"),
        (16, "UNS108", "every"),
        (22, "UNS108", "every"),
    ]


def test_a_modules_constant_flag_decides_its_branches() -> None:
    source = """
        import asyncio
        import socket

        _IS_SYNC = False
        TRACE: bool = False


        async def getaddrinfo(host, port):
            if not _IS_SYNC:
                return await asyncio.get_running_loop().getaddrinfo(host, port)
            else:
                return socket.getaddrinfo(host, port)


        async def trace(host):
            if TRACE:
                socket.gethostbyname(host)


        async def shadowed(host, _IS_SYNC=True):
            if _IS_SYNC:
                socket.gethostbyname(host)
    """
    # Code generated for an async twin keeps the sync branch behind a module flag set once.
    assert seen({"app.helpers": source}) == [(23, "UNS104", "every")]
    flipped = source.replace("_IS_SYNC = False", "_IS_SYNC = True")
    assert (13, "UNS104", "every") in seen({"app.helpers": flipped})
    # A flag bound twice (``try``/``except``, a later assignment) says nothing.
    twice = source.replace("TRACE: bool = False\n", "TRACE: bool = False\n        TRACE = load()\n")
    assert (19, "UNS104", "every") in seen({"app.helpers": twice})


def test_a_textual_worker_in_a_thread_runs_off_the_loop() -> None:
    source = """
        from textual import work


        class Browser:
            @work(thread=True)
            def load(self):
                return open("big.csv").read()

            @work(exclusive=True)
            def reload(self):
                return open("big.csv").read()

            async def on_mount(self):
                self.load()
                self.reload()
    """
    # ``thread=True`` starts the worker in a thread; without it, the worker runs on the loop.
    assert seen({"app.browser": source}) == [(16, "UNS102", "every")]


def test_a_branch_that_runs_only_without_a_running_loop_never_blocks_it() -> None:
    source = """
        import asyncio
        import time
        from asyncio import get_running_loop

        import requests


        def run_sync(coro):
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                time.sleep(1)
                return asyncio.run(coro)
            return loop.create_task(coro)


        def fetch(url):
            loop = asyncio.get_event_loop()
            if loop.is_running():
                return None
            return requests.get(url)


        def fetch_or_wait(url):
            try:
                loop = get_running_loop()
            except RuntimeError:
                loop = None
            if loop is None or not loop.is_running():
                return requests.get(url)
            if asyncio._get_running_loop() is None:
                time.sleep(1)
            return url


        def in_loop(url):
            if asyncio.get_event_loop().is_running():
                return requests.get(url)


        def other_error(url):
            try:
                requests.get(url)
            except RuntimeError:
                time.sleep(1)


        async def handler(url):
            run_sync(asyncio.sleep(1))
            fetch(url)
            fetch_or_wait(url)
            in_loop(url)
            other_error(url)
    """
    # What runs with the loop running (or before a RuntimeError of something else) is kept.
    assert seen({"app": source}) == [(53, "UNS103", "every"), (54, "UNS103", "every")]
    # The same calls without the tests for a running loop block the loop.
    unguarded = (
        source.replace("asyncio.get_running_loop()", "object()")
        .replace("get_running_loop()", "object()")
        .replace("loop.is_running()", "loop.is_closed()")
        .replace("asyncio._get_running_loop() is None", "url")
    )
    assert seen({"app": unguarded}) == [
        (50, "UNS101", "every"),
        (51, "UNS103", "every"),
        (52, "UNS103", "every"),
        (53, "UNS103", "every"),
        (54, "UNS103", "every"),
    ]


def test_an_executor_whose_work_the_block_awaited_has_nothing_to_wait_for_on_exit() -> None:
    source = """
        import asyncio
        from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor


        def work():
            return 1


        async def awaited():
            loop = asyncio.get_running_loop()
            with ThreadPoolExecutor() as pool:
                return await loop.run_in_executor(pool, work)


        async def wrapped():
            with ThreadPoolExecutor(max_workers=2) as pool:
                await asyncio.gather(*(asyncio.wrap_future(pool.submit(work)) for _ in range(3)))


        async def submitted():
            with ThreadPoolExecutor() as pool:
                pool.submit(work)
                await asyncio.sleep(0)


        async def in_processes():
            loop = asyncio.get_running_loop()
            with ProcessPoolExecutor(max_workers=1) as pool:
                return await loop.run_in_executor(pool, work)
    """
    # Work submitted and not awaited is still running when the block ends: the exit waits;
    # a process pool's exit waits for its processes to end.
    assert seen({"app": source}) == [(22, "UNS108", "every"), (29, "UNS108", "every")]
    not_awaited = source.replace("return await loop", "return loop").replace(
        "await asyncio.gather", "asyncio.gather"
    )
    assert seen({"app": not_awaited}) == [
        (12, "UNS108", "every"),
        (17, "UNS108", "every"),
        (22, "UNS108", "every"),
        (29, "UNS108", "every"),
    ]


def test_the_operands_an_and_or_an_or_skips_are_decided_by_the_ones_before_them() -> None:
    source = """
        import os


        class Media:
            def __init__(self, *, data=None, content_type=None, file_path=None):
                if data is not None:
                    self.data = data
                elif file_path is not None and content_type is not None and os.path.exists(file_path):
                    self.data = file_path


        def pick(fast=True):
            return fast or os.path.isfile("/etc/hosts")


        async def from_uri(uri):
            return Media(data=uri)


        async def from_file(path):
            return Media(file_path=path, content_type="text/plain")


        async def quick():
            return pick()


        async def slow():
            return pick(fast=False)
    """
    assert seen({"app": source}) == [(22, "UNS102", "every"), (30, "UNS102", "every")]
    # Without the tests before it, the call runs whatever the arguments.
    unguarded = source.replace(
        "file_path is not None and content_type is not None and os.path.exists(file_path)",
        "os.path.exists(file_path)",
    ).replace("fast or os.path", "os.path")
    assert seen({"app": unguarded}) == [
        (18, "UNS102", "every"),
        (22, "UNS102", "every"),
        (26, "UNS102", "every"),
        (30, "UNS102", "every"),
    ]


def test_a_helper_that_runs_its_coroutine_with_asyncio_run_in_a_thread_makes_a_main_coroutine() -> (
    None
):
    source = """
        import asyncio
        import concurrent.futures
        import time


        def run_async(coro):
            with concurrent.futures.ThreadPoolExecutor() as executor:
                return executor.submit(asyncio.run, coro).result()


        def create():
            async def _create():
                time.sleep(1)

            run_async(_create())
    """
    # Once per command: the coroutine a private loop runs to its end.
    assert seen({"app.tasks": source}) == [(14, "UNS101", "startup")]
    # Handed to something else, the coroutine may be awaited on a serving loop.
    elsewhere = source.replace("executor.submit(asyncio.run, coro)", "executor.submit(print, coro)")
    assert seen({"app.tasks": elsewhere}) == [(14, "UNS101", "every")]


def test_a_queue_handed_in_is_unbounded_when_every_queue_the_project_makes_is() -> None:
    source = """
        import multiprocessing
        import queue
        from multiprocessing import Queue


        class Listener:
            def __init__(self, events: "Queue[int]", jobs: "queue.Queue[int]"):
                self.events = events
                self.jobs = jobs

            async def run(self):
                self.events.put(1)
                self.jobs.put(2)


        class Worker:
            def __init__(self):
                self._ctx = multiprocessing.get_context("spawn")
                self.events = self._ctx.Queue()
                self.listener = Listener(self.events, queue.Queue())
    """
    assert seen({"app.worker": source}) == []
    # One bounded queue of the kind made anywhere: a handed-in one may be it.
    bounded = source.replace("queue.Queue())", "queue.Queue(maxsize=5))").replace(
        "self._ctx.Queue()", "self._ctx.Queue(8)"
    )
    assert seen({"app.worker": bounded}) == [(13, "UNS108", "every"), (14, "UNS108", "every")]
    # None made in the project: what is handed in is the caller's, of any size.
    handed = source.replace("self._ctx.Queue()", "None").replace("queue.Queue())", "None)")
    assert seen({"app.worker": handed}) == [(13, "UNS108", "every"), (14, "UNS108", "every")]
