# Reproduces: https://github.com/dknowles2/pytboss/pull/147 — get_grills() (a generator) reads grills.json via importlib.resources; the config flow consumes it in a comprehension
import json
from dataclasses import dataclass
from importlib import resources


@dataclass
class Grill:
    name: str
    control_board: str


def get_grills(control_board=None):
    grills_json = resources.files(__package__).joinpath("grills.json").read_text()
    for item in json.loads(grills_json):
        if control_board is None or item["control_board"] == control_board:
            yield Grill(item["name"], item["control_board"])
