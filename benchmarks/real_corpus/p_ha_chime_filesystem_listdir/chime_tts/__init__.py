# Reproduces: https://github.com/nimroddolev/chime_tts/issues/258 — a FilesystemHelper instance method lists a folder with os.listdir; the async say service calls it
from .helpers.filesystem import FilesystemHelper

filesystem_helper = FilesystemHelper()


async def async_say(hass, call):
    chime_path = filesystem_helper.get_file_path(call.data["chime_path"])  # expect
    return chime_path
