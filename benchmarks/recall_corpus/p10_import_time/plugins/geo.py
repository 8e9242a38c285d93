import json

with open("/usr/share/geo/countries.json") as f:
    COUNTRIES = json.load(f)
