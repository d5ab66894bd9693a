"""Behaviour tracking (page views, clicks, custom events). Built in the tracking issue."""
