# Reproduces: https://github.com/dknowles2/pytboss/pull/147 — get_grills() (a generator) reads grills.json via importlib.resources; the config flow consumes it in a comprehension
from . import grills


class PitBossConfigFlow:
    async def async_step_device(self, discovery_info):
        control_board = discovery_info["control_board"]
        models = [g.name for g in grills.get_grills(control_board=control_board)]  # expect
        return {"step_id": "device", "models": models}
