import threading

_lock = threading.Lock()
_counter = {"value": 0}


def bump():
    with _lock:
        _counter["value"] += 1
    _lock.acquire()
    _lock.release()


async def count_request(request):
    bump()  # expect
