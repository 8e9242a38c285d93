import functools
import time


def retry(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        for _ in range(3):
            try:
                return func(*args, **kwargs)
            except OSError:
                time.sleep(1)
        return func(*args, **kwargs)

    return wrapper


@retry
def read_token(path):
    with open(path) as f:
        return f.read()


async def authenticate(request):
    token = read_token("/run/secrets/token")  # expect
    return token == request.headers.get("token")
