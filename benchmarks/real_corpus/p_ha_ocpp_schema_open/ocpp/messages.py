# Reproduces: https://github.com/lbbrhzn/ocpp/issues/1199 — lru_cache'd get_schema() opens a JSON schema file; validate_payload() calls it from the async call()
import functools
import json
import os


@functools.lru_cache(maxsize=None)
def get_schema(message_type_id, action, ocpp_version):
    suffix = "Response" if message_type_id == 3 else ""
    directory = os.path.dirname(os.path.realpath(__file__))
    path = os.path.join(directory, "schemas", ocpp_version, f"{action}{suffix}.json")
    with open(path, "r", encoding="utf-8-sig") as f:
        data = f.read()
    return json.loads(data)


def validate_payload(message, ocpp_version):
    schema = get_schema(message.message_type_id, message.action, ocpp_version)
    missing = [key for key in schema.get("required", []) if key not in message.payload]
    if missing:
        raise ValueError(f"payload is missing {missing!r}")
