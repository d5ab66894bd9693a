"""Performance figures, each beside a baseline measured in the same run: ``make bench`` (``python -m bench``)."""
