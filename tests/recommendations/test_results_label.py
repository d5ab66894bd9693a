"""Results name a *Recommended pages* list by its page, in the editor's language, not by its raw key."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import override

from tailored_cms.results.models import VariantStats
from tailored_cms.results.report import area_results

from ..results.conftest import staff_client


def counted(key: str) -> None:
    today = timezone.localdate()
    VariantStats.objects.create(area=key, variant="recommended", path="personalized", day=today, impressions=40)
    VariantStats.objects.create(area=key, variant="popular", path="holdout", day=today, impressions=10, clicks=1)


def test_results_name_the_list_by_its_page_and_its_two_lists(plugin):
    plugin.holdout_percent = 20
    plugin.save()
    counted(plugin.area_key)
    (results,) = area_results(key=plugin.area_key)
    assert (results.label, results.page, results.on_site) == ("Recommended pages on “Home”", "Home", True)
    assert results.holdout_percent == 20
    assert [line.label for line in results.lines] == ["Recommendations", "Most read pages (the holdout's)"]
    with override("de"):
        assert area_results(key=plugin.area_key)[0].label == "Empfohlene Seiten auf „Home“"

    html = staff_client("analyst", "view_results").get("/admin/tailored_cms/variantstats/").content.decode()
    assert "Recommended pages on “Home”" in html
    assert f">{plugin.area_key}<" not in html and "no longer on a published page" not in html


def test_a_deleted_lists_figures_keep_their_key(plugin):
    key = plugin.area_key
    counted(key)
    plugin.delete()
    (results,) = area_results(key=key)
    assert (results.label, results.on_site) == (key, False)
