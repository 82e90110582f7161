"""The page registry and the router guard's one reading of a private Streamlit flag."""

from pathlib import Path

from efficiency.ui import router

ROOT = Path(__file__).resolve().parents[2]


def test_streamlit_still_has_the_legacy_pages_flag_we_read():
    from streamlit.runtime.pages_manager import PagesManager

    assert hasattr(PagesManager, "uses_pages_directory"), (
        "Streamlit renamed PagesManager.uses_pages_directory: update efficiency/ui/router.py"
    )
    before = PagesManager.uses_pages_directory
    try:
        PagesManager.uses_pages_directory = True
        assert router.legacy_pages_mode()
        router.leave_legacy_pages_mode()
        assert not router.legacy_pages_mode()
    finally:
        PagesManager.uses_pages_directory = before


def test_every_page_file_is_registered_and_opens_through_the_router():
    registered = {page.path for page in router.PAGES}
    on_disk = {f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py")}
    assert registered == on_disk
    for path in on_disk:
        source = (ROOT / path).read_text(encoding="utf-8")
        assert "ui.page_start(" in source, f"{path} must open with ui.page_start(...)"
        assert '"pages/' not in source, f"{path} links by path: use ui.page_link(ui.PAGES....)"


def test_every_name_the_ui_package_offers_resolves_and_none_is_shadowed_by_a_module():
    import importlib
    import types

    from efficiency import ui

    for name, module in ui.WHERE.items():
        importlib.import_module(f"efficiency.ui.{module}")  # importing a module sets it on the package
        assert not isinstance(getattr(ui, name), types.ModuleType), f"ui.{name} is a module: rename the module"
        assert callable(getattr(ui, name)) or name == "PAGES"
