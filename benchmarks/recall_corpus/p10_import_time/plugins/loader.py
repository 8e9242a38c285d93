async def country_name(code):
    from . import geo  # expect

    return geo.COUNTRIES[code]
