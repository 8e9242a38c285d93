# Reproduces: https://github.com/openai/gpt-discord-bot/issues/34 — the async completion helper calls the synchronous openai.Completion.create
import openai

MODEL = "text-davinci-003"


async def generate_completion_response(messages, user):
    prompt = "\n".join(f"{m['user']}: {m['text']}" for m in messages)
    response = openai.Completion.create(engine=MODEL, prompt=prompt, max_tokens=512, stop=["<|endoftext|>"])  # expect
    return response.choices[0].text.strip()
