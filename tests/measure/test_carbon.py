import pytest

from efficiency.errors import ConfigError
from efficiency.measure.carbon import WORLD, co2_kg, countries, intensity_g_per_kwh, normalise_country, resolve_country


@pytest.mark.parametrize("code", ["FR", "fra", "France"])
def test_country_codes(code):
    assert normalise_country(code) == "FRA"


def test_unknown_country():
    with pytest.raises(ConfigError, match="Unknown country"):
        normalise_country("XX1")


def test_intensities_differ_by_grid_and_price_energy():
    france, _ = intensity_g_per_kwh("FRA")  # nuclear-heavy
    india, source = intensity_g_per_kwh("IND")  # coal-heavy
    world, world_source = intensity_g_per_kwh(WORLD)
    assert france < world < india
    assert "India" in source and "world" in world_source
    assert co2_kg(2.0, "IND") == pytest.approx(2.0 * india / 1000)


def test_country_falls_back_to_env_then_world(monkeypatch):
    assert resolve_country(None) == WORLD
    monkeypatch.setenv("EFFLAB_COUNTRY", "de")
    assert resolve_country(None) == "DEU"
    assert resolve_country("IN") == "IND"
    assert ("FRA", "France") in countries()
