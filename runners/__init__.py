"""Command-line entry points: python -m runners.<search|scale|analyze|zoo|spaces>."""
