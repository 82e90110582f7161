"""Carbon intensity of a country's grid, from the data CodeCarbon ships, and CO2eq from energy."""

from __future__ import annotations

import functools
import os

from efficiency.errors import ConfigError
from efficiency.measure import codecarbon_internals

WORLD = "WORLD"


@functools.cache
def _energy_mix() -> dict[str, dict]:
    from codecarbon.input import DataSource

    return DataSource().get_global_energy_mix_data()


@functools.cache
def _per_source() -> dict:
    from codecarbon.input import DataSource

    return DataSource().get_carbon_intensity_per_source_data()


def normalise_country(code: str) -> str:
    """'FR', 'fra', 'France' -> 'FRA' (ISO 3166 alpha-3, as CodeCarbon's data is keyed)."""
    text = code.strip()
    if text.upper() in {WORLD, ""}:
        return WORLD
    try:
        import pycountry  # not on a bare GPU image: only a named country needs it
    except ImportError:
        raise ConfigError(
            f"Reading the country '{code}' needs pycountry (pip install pycountry), or leave the country unset."
        ) from None
    try:
        country = pycountry.countries.lookup(text)
    except LookupError:
        raise ConfigError(f"Unknown country '{code}': use an ISO code such as FR, FRA, IN or IND.") from None
    if country.alpha_3 not in _energy_mix():
        raise ConfigError(f"CodeCarbon has no grid data for {country.name}: choose a neighbouring country.")
    return country.alpha_3


def resolve_country(configured: str | None) -> str:
    """The configured country, else $EFFLAB_COUNTRY, else the world average."""
    value = configured or os.environ.get("EFFLAB_COUNTRY") or WORLD
    return normalise_country(value)


def intensity_g_per_kwh(country: str) -> tuple[float, str]:
    """(grams CO2eq per kWh, where that figure comes from)."""
    if country == WORLD:
        return float(_per_source()["world_average"]), "world average (IEA 2019, as shipped with CodeCarbon)"
    mix = _energy_mix()[country]
    year = mix.get("year", "")
    return codecarbon_internals.emissions_kg_per_kwh(
        mix
    ) * 1000, f"{mix['country_name']} grid mix {year} (CodeCarbon's global_energy_mix)"


def co2_kg(energy_kwh: float, country: str) -> float:
    return energy_kwh * intensity_g_per_kwh(country)[0] / 1000


def countries() -> list[tuple[str, str]]:
    """(alpha-3, name) of every country with grid data, for pickers and re-pricing."""
    return sorted(((code, mix["country_name"]) for code, mix in _energy_mix().items()), key=lambda x: x[1])
