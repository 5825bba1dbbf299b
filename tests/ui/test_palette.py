"""The palette as a person uses it: type to filter, Enter or double-click to add, drag to the canvas."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from flowdesk.nodes.registry import builtin_registry
from flowdesk.ui.palette import KIND_MIME, KIND_ROLE, Palette, kind_icon


def _palette(qtbot: QtBot) -> Palette:
    palette = Palette(builtin_registry())
    qtbot.addWidget(palette)
    palette.show()
    return palette


def test_every_runnable_kind_is_listed_by_category(qtbot: QtBot) -> None:
    palette = _palette(qtbot)
    shown = palette.visible_kinds()
    assert {"llm", "http", "condition", "merge", "map", "approval", "note", "start", "output"} <= set(shown)
    categories = [palette.proxy.index(r, 0).data() for r in range(palette.proxy.rowCount())]
    assert categories == sorted(categories) and "AI" in categories


def test_typing_filters_on_name_category_and_description(qtbot: QtBot) -> None:
    palette = _palette(qtbot)
    qtbot.keyClicks(palette.search, "LLM")
    assert palette.visible_kinds() == ["llm"]
    palette.search.clear()
    qtbot.keyClicks(palette.search, "human")  # only in the approval node's display name / description
    assert palette.visible_kinds() == ["approval"]
    palette.search.clear()
    qtbot.keyClicks(palette.search, "no such node kind")
    assert palette.visible_kinds() == []
    palette.search.clear()
    assert len(palette.visible_kinds()) > 10


def test_enter_in_the_search_adds_the_first_match(qtbot: QtBot) -> None:
    palette = _palette(qtbot)
    qtbot.keyClicks(palette.search, "delay")
    with qtbot.waitSignal(palette.kind_activated) as signal:
        qtbot.keyClick(palette.search, Qt.Key.Key_Return)
    assert signal.args == ["delay"]


def test_double_click_adds_and_a_drag_carries_the_kind(qtbot: QtBot) -> None:
    palette = _palette(qtbot)
    qtbot.keyClicks(palette.search, "merge")
    index = palette.tree.currentIndex()
    assert index.data(KIND_ROLE) == "merge"
    rect = palette.tree.visualRect(index)
    with qtbot.waitSignal(palette.kind_activated) as signal:
        qtbot.mouseClick(palette.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(palette.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert signal.args == ["merge"]
    mime = palette.model.mimeData([palette.proxy.mapToSource(index)])
    assert bytes(mime.data(KIND_MIME)).decode() == "merge"


def test_kind_icons_stay_sharp_on_high_dpi_screens() -> None:
    """A 16-point icon on a 3x screen needs 48 device pixels, drawn at that size, not scaled up."""
    spec = builtin_registry().get("transform")
    assert spec is not None
    icon = kind_icon(spec)
    sizes = {(s.width(), s.height()) for s in icon.availableSizes()}
    assert {(16, 16), (32, 32), (64, 64), (96, 96)} <= sizes
    big = icon.pixmap(96, 96).toImage()
    assert big.width() == 96 and big.pixelColor(48, 6).alpha() > 0  # drawn edge to edge at that size
