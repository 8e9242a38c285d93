# Reproduces: https://github.com/Andre0512/hon/issues/206 — HonAppliance's constructor import_module()s the appliance-type module; Hon.create builds appliances in a coroutine
import importlib


class HonAppliance:
    def __init__(self, api, info):
        self._api = api
        self._info = info
        self.appliance_type = info.get("applianceTypeName", "")
        try:
            module = importlib.import_module(f"pyhon.appliances.{self.appliance_type.lower()}")
            self._extra = module.Appliance(self)
        except ModuleNotFoundError:
            self._extra = None
