# Reproduces: https://github.com/Andre0512/hon/issues/206 — HonAppliance's constructor import_module()s the appliance-type module; Hon.create builds appliances in a coroutine
from .appliance import HonAppliance


class Hon:
    def __init__(self, api):
        self._api = api
        self.appliances = []

    async def _create_appliance(self, appliance_data):
        appliance = HonAppliance(self._api, appliance_data)  # expect
        self.appliances.append(appliance)

    async def create(self):
        for appliance_data in await self._api.load_appliances():
            await self._create_appliance(appliance_data)
        return self
