"""Reads its data when first imported."""

with open("data.json") as handle:
    DATA = handle.read()
