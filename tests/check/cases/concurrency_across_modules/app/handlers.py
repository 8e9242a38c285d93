from app.runner import compute_now
from app.tasks import Notifier, fire


async def handle(notifier: Notifier) -> int:
    fire(notifier.send("hello"))  # UNS302
    notifier.send("bye")  # UNS303
    return compute_now()  # UNS305
