from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"


def render(name, **values):
    text = (TEMPLATES / name).read_text()
    return text.format(**values)
