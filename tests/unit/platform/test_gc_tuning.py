import gc

import pytest
from pydantic import ValidationError

from omniretail.platform import gc_tuning
from omniretail.platform.config import Settings


@pytest.fixture
def restored_gc():
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_the_threshold_setting_parses_three_numbers_or_nothing():
    assert gc_tuning.parse("50000, 20, 100") == (50000, 20, 100)
    assert gc_tuning.parse("") is None
    for bad in ("50000,20", "a,b,c", "0,10,10", "700,-1,10"):
        with pytest.raises(ValueError, match="three integers"):
            gc_tuning.parse(bad)


def test_a_bad_threshold_is_refused_when_the_settings_load():
    with pytest.raises(ValidationError, match="gc_threshold"):
        Settings(gc_threshold="lots")
    assert Settings(gc_threshold="").gc_threshold == ""


def test_apply_freezes_what_startup_made_and_sets_the_thresholds(restored_gc):
    made_at_startup = [[n] for n in range(1000)]
    gc_tuning.apply("40000,15,90")
    assert gc.get_threshold() == (40000, 15, 90)
    assert gc.get_freeze_count() >= len(made_at_startup)
    cycle = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1  # cycles made after startup are still collected


def test_an_empty_threshold_leaves_the_collector_alone(restored_gc):
    before = gc.get_threshold()
    gc_tuning.apply("")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
