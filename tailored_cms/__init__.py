"""tailored_cms: tailor django CMS page areas to each visitor."""

__version__ = "0.1.0.dev0"
