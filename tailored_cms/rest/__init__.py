"""The REST API (Django REST framework) under ``api/v1/``: what the visitor's browser and staff's tools call."""
