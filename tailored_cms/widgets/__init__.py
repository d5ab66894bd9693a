"""CMS plugins and their models: tailored area, variant, preferences panel, widget board, topic feed."""
