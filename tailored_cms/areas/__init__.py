"""Tailored areas: the area and variant plugins, strategies (a registry), selection, optimize and explanation.

``strategies`` is the registry (``register_strategy``, ``Strategy``); ``matching`` and ``selection`` pick what a
visitor sees, ``reasons`` and ``explanation`` say why, ``optimize`` is the optimize strategy's maths;
``cache_budget`` and ``page_cache`` are what areas tell django CMS's caches. Importing this package loads no
models.
"""
