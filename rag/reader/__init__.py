"""The extractive reader: small named stages, trained weights, words as data (see reader.py)."""
