import shutil


class Workspace:
    def __init__(self, path):
        self.path = path

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)

    async def close(self):
        self.cleanup()  # expect
