from ..db import Store
from . import pricing
from .pricing import currency


class OrderService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def all(self) -> list[tuple[object, ...]]:
        return self.store.orders()

    def token(self) -> bytes:
        return pricing.price_token(b"secret")

    def currency(self) -> object:
        return currency()
