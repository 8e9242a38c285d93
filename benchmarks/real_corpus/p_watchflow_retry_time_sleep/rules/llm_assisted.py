# Reproduces: https://github.com/warestack/watchflow/issues/68 — time.sleep(wait_time) as back-off in the retry loop of an async evaluate()
import time


class RateLimitError(Exception):
    pass


class LLMAssistedCondition:
    def __init__(self, llm, max_retries=3):
        self._llm = llm
        self._max_retries = max_retries

    async def evaluate(self, prompt):
        for attempt in range(self._max_retries):
            try:
                return await self._llm.ainvoke(prompt)
            except RateLimitError:
                wait_time = 2 ** (attempt + 1)
                time.sleep(wait_time)  # expect
        return None
