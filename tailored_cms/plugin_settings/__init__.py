"""The common base of tailored areas, variants, widget boards and widgets (``areas`` and ``widgets`` build on it).

``models``: ``PluginSettings`` (one side table for the settings of all four), ``TailoredPlugin`` (the proxy of
``CMSPlugin`` whose settings are attributes, ``Setting`` descriptors) and ``OfPluginType``; ``cache``: the settings
kept in this process's memory, so rendering makes no query; ``forms``: ``PluginSettingsForm``. Importing this
package loads no models.
"""
