"""The example site's demo content: ``manage.py tailored_demo`` seeds it (``make demo``, the browser tests, the bench).

An app of the example site, not of tailored_cms: the seeder creates an editor login, and nothing in the installed
package may create users.
"""
