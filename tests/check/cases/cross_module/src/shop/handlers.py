from shop import load_config
from shop.config import defaults
from shop.db import Store
from shop.services.orders import OrderService


async def show_config() -> dict[str, object]:
    return load_config()  # UNS102


async def show_defaults() -> dict[str, object]:
    return defaults()


async def list_orders(store: Store) -> list[tuple[object, ...]]:
    return OrderService(store).all()  # UNS107


async def open_store() -> Store:
    return Store("shop.db")  # UNS107


async def sign() -> bytes:
    service = OrderService(Store.__new__(Store))
    return service.token()  # UNS109


async def currency(service: OrderService) -> object:
    return service.currency()
