"""Segments: rule registry, evaluation and membership. Built in the segments issue."""
