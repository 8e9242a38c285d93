# Reproduces: https://github.com/nimroddolev/chime_tts/issues/258 — a FilesystemHelper instance method lists a folder with os.listdir; the async say service calls it
import os


class FilesystemHelper:
    def get_file_path(self, p_filepath):
        if os.path.isabs(p_filepath):
            return p_filepath
        parent_directory = os.path.dirname(p_filepath) or "."
        dir_contents = os.listdir(parent_directory)
        for name in dir_contents:
            if name == os.path.basename(p_filepath):
                return os.path.join(parent_directory, name)
        return None
