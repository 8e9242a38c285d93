import json


def load_config(name):
    with open(f"/etc/service/{name}.json") as f:
        return json.load(f)
