# Reproduces: https://github.com/zksync-sdk/zksync-python/issues/29 — an async polling loop waits for the transaction receipt with time.sleep
import time


class Transaction:
    def __init__(self, provider, transaction_hash):
        self.provider = provider
        self.transaction_hash = transaction_hash

    async def await_committed(self, attempts=None, attempts_timeout=100):
        while attempts is None or attempts > 0:
            receipt = await self.provider.get_tx_receipt(self.transaction_hash)
            if receipt.get("executed"):
                return receipt
            if attempts is not None:
                attempts -= 1
            time.sleep(attempts_timeout / 1000)  # expect
        return None
