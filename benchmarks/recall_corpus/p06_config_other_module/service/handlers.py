from .config import load_config


async def handle(request):
    settings = load_config("limits")  # expect
    return settings["max_items"]
