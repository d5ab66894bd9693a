"""Ending an experiment with its winner from the area's results page: confirm, the winner becomes the fallback
shown to everyone, the results say who ended it and when; refused (403, 400 with what was wrong) otherwise."""

from __future__ import annotations

import html
import threading

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.test import Client

from tailored_cms.areas import receivers
from tailored_cms.areas.models import TailoredArea, Variant
from tailored_cms.results.models import ExperimentEnd

from ..threads import post_in_thread
from ..tracking.conftest import shared_db  # noqa: F401 -- fixture
from .experiments import decided_experiment

pytestmark = pytest.mark.django_db

RESULTS = "/admin/tailored_cms/variantstats/"
BUTTON = "Make “Sports fans” the fallback and end the experiment"
WAIT = 0.5  # seconds the editor's save stays open with the ending waiting on it


def editor(*permissions: str, name: str = "ada") -> Client:
    """Staff named Ada Editor with these permissions ("app_label.codename")."""
    user = get_user_model().objects.create_user(
        name, password="pw", is_staff=True, first_name="Ada", last_name="Editor"
    )
    for permission in permissions:
        app_label, codename = permission.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    client = Client()
    client.force_login(user)
    return client


CAN_END = ("tailored_cms.view_results", "tailored_cms.change_tailoredarea", "cms.change_page")


@pytest.fixture
def experiment(hero):
    """The hero area tested between Sports fans (the winner) and Everyone (its fallback)."""
    decided_experiment(hero.area, hero.sports, hero.everyone)
    return hero


def text(response) -> str:
    return html.unescape(response.content.decode())


def fallbacks(area: TailoredArea) -> list[str]:
    return [variant.label for variant in Variant.objects.filter(parent_id=area.pk) if variant.fallback]


def test_an_editor_ends_the_experiment_with_its_winner_and_the_results_say_who_and_when(experiment, client):
    ada = editor(*CAN_END)
    area_url = f"{RESULTS}{experiment.area.key}/"
    page = text(ada.get(area_url))
    assert "Sports fans beats Everyone with > 99% probability on conversions to “signup” (n = 6,000)." in page
    assert BUTTON in page

    confirm = ada.get(f"{area_url}end/", {"winner": experiment.sports.key, "days": 30})
    assert confirm.status_code == 200
    assert "the area's strategy becomes Static: everyone sees “Sports fans”" in text(confirm)
    assert ExperimentEnd.objects.count() == 0  # asking changes nothing

    done = ada.post(f"{area_url}end/?days=30", {"winner": experiment.sports.key})
    assert done.status_code == 302 and done["Location"] == f"{area_url}?days=30"
    area = TailoredArea.objects.get(pk=experiment.area.pk)
    assert area.strategy == "static" and fallbacks(area) == ["Sports fans"]
    assert (
        "<p>SPORTS</p>" in client.get(experiment.page.get_absolute_url("en")).content.decode()
    )  # what every visitor sees now
    record = ExperimentEnd.objects.get()
    assert (record.area, record.winner, record.ended_by) == (experiment.area.key, experiment.sports.key, "Ada Editor")

    after = text(ada.get(done["Location"]))
    assert (
        "The experiment “Hero” has ended: “Sports fans” is its fallback, shown to everyone (strategy: Static)." in after
    )
    assert "by Ada Editor: “Sports fans” became the fallback, shown to everyone." in after
    assert "Sports fans beats Everyone" in after  # the experiment's figures stay
    assert BUTTON not in after


def test_an_editor_who_may_not_change_the_area_gets_403_and_nothing_changes(experiment):
    reader = editor("tailored_cms.view_results")
    url = f"{RESULTS}{experiment.area.key}/end/"
    assert BUTTON in text(reader.get(f"{RESULTS}{experiment.area.key}/"))
    for response in (
        reader.get(url, {"winner": experiment.sports.key}),
        reader.post(url, {"winner": experiment.sports.key}),
    ):
        assert response.status_code == 403
        assert "You may not change “Hero”" in text(response)
    assert TailoredArea.objects.get(pk=experiment.area.pk).strategy == "experiment"
    assert not ExperimentEnd.objects.exists()


@pytest.mark.parametrize(
    "winner, said",
    [
        ("everyone", "The figures don't name “Everyone” the winner: Sports fans beats Everyone"),
        ("nobody", "“Hero” has no variant “nobody”."),
        ("", "“Hero” has no variant “”."),
    ],
)
def test_a_variant_that_is_not_the_winner_is_refused_with_400(experiment, winner, said):
    key = {"everyone": experiment.everyone.key}.get(winner, winner)
    response = editor(*CAN_END).post(f"{RESULTS}{experiment.area.key}/end/", {"winner": key})
    assert response.status_code == 400
    assert said in text(response)
    assert fallbacks(TailoredArea.objects.get(pk=experiment.area.pk)) == ["Everyone"]
    assert not ExperimentEnd.objects.exists()


def test_an_area_that_is_no_experiment_is_refused_with_400(experiment):
    area = TailoredArea.objects.get(pk=experiment.area.pk)
    area.strategy = "customization"
    area.save()
    ada = editor(*CAN_END)
    assert BUTTON not in text(ada.get(f"{RESULTS}{area.key}/"))
    response = ada.post(f"{RESULTS}{area.key}/end/", {"winner": experiment.sports.key})
    assert response.status_code == 400
    assert "“Hero” is not an experiment: its strategy is Customization." in text(response)


@pytest.mark.usefixtures("shared_db")
def test_ending_while_an_editor_saves_a_variant_waits_for_the_save_and_both_land(experiment, monkeypatch):
    """The editor's save writes the variant's row, then moves its area's ``changed_date``
    (``areas.receivers``); ending the experiment meanwhile waits for the variant, and only then takes the area.
    Run for real: the save is held between its two writes while another thread ends the experiment (on
    PostgreSQL, ending that took the area first deadlocked with the save, and one of them failed)."""
    ada = editor(*CAN_END)
    url, winner = f"{RESULTS}{experiment.area.key}/end/", experiment.sports.key
    answers: list[object] = []
    ending = threading.Thread(target=lambda: answers.append(post_in_thread(ada, url, {"winner": winner})))
    touch_areas = receivers.touch_areas

    def touch_after_ending_started(**lookups: object) -> None:
        if not ending.is_alive() and not answers:
            ending.start()
            ending.join(WAIT)
            assert ending.is_alive(), "the experiment ended while the editor's save held its variant"
        touch_areas(**lookups)

    monkeypatch.setattr(receivers, "touch_areas", touch_after_ending_started)
    with transaction.atomic():
        sports = Variant.objects.get(pk=experiment.sports.pk)
        sports.label = "Sports lovers"
        sports.save()
    ending.join(30)
    assert answers == [302]
    area = TailoredArea.objects.get(pk=experiment.area.pk)
    assert area.strategy == "static" and fallbacks(area) == ["Sports lovers"]
