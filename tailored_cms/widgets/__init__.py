"""What visitors use: the widget board and its widgets, the topic feed, the preferences panel, the consent banner,
and page topics (CMS plugins, their models and forms)."""
