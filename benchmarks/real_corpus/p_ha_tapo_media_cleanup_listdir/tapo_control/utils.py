# Reproduces: https://github.com/JurajNyiri/HomeAssistant-Tapo-Control/issues/615 — a sync cleanup helper walks the thumbnails folder with os.listdir; the async media sync task calls it
import os
import time


def delete_files_older_than(dir_path, max_age_seconds):
    now = time.time()
    for folder in ("thumbs", "videos"):
        folder_path = dir_path + "/" + folder + "/"
        for f in os.listdir(folder_path):
            file_path = os.path.join(folder_path, f)
            if os.stat(file_path).st_mtime <= now - max_age_seconds:
                os.remove(file_path)


async def media_cleanup(hass, entry, cold_dir_path):
    max_age = entry.options.get("media_retention_days", 7) * 86400
    delete_files_older_than(cold_dir_path, max_age)  # expect
