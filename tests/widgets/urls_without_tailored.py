"""A site that forgot to include tailored_cms's URLs."""

urlpatterns: list = []
