"""Light and dark themes for the whole window, following the system unless the user picks one.

Why Fusion and a full palette: native styles ignore (macOS, Windows 11) or half-apply a custom palette,
so the same dark theme would look different, or unreadable, on each OS; Fusion paints every widget from
the palette alone. The canvas does not use the palette — it paints from a :class:`CanvasTheme` — so the
switcher hands the matching one to the open scene and to every scene loaded later.

Widgets that need a colour with a meaning (an error line, a run status) ask :func:`tone` instead of
hard-coding a hex value: the same meaning gets a darker shade on a light window and a lighter one on a
dark window, so it keeps its contrast in both. Labels toned with :func:`set_tone` are re-toned when the
theme changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QSettings, Qt
from PySide6.QtGui import QAction, QActionGroup, QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from flowdesk.ui.canvas.theme import DARK, LIGHT, CanvasTheme
from flowdesk.ui.open_document import FollowsDocument

if TYPE_CHECKING:
    from flowdesk.ui.main_window import MainWindow

SETTING = "view/theme"
MODES = ("system", "light", "dark")
"""What the user can pick; "system" (the default) follows the OS colour scheme as it changes."""
_TONE_PROPERTY = "flowdeskTone"

_TONES: dict[str, tuple[str, str]] = {
    # meaning: (on a light window, on a dark window) — each at least 4.5:1 (WCAG AA) on both Window and Base
    "error": ("#b91c1c", "#f87171"),
    "warning": ("#9a4308", "#fbbf24"),
    "success": ("#14703a", "#4ade80"),
    "running": ("#1d4ed8", "#60a5fa"),
    "paused": ("#6d28d9", "#c4b5fd"),
    "muted": ("#5b616b", "#9ca3af"),
    "neutral": ("#374151", "#d1d5db"),
}

_R = QPalette.ColorRole
_PALETTES: dict[str, dict[QPalette.ColorRole, str]] = {
    "light": {
        _R.Window: "#efeff1", _R.WindowText: "#1f2328", _R.Base: "#ffffff", _R.AlternateBase: "#f5f6f8",
        _R.ToolTipBase: "#ffffdc", _R.ToolTipText: "#1f2328", _R.PlaceholderText: "#6e7781",
        _R.Text: "#1f2328", _R.Button: "#f3f4f6", _R.ButtonText: "#1f2328", _R.BrightText: "#ffffff",
        _R.Light: "#ffffff", _R.Midlight: "#e5e7eb", _R.Mid: "#b8bdc6", _R.Dark: "#9ca3af",
        _R.Shadow: "#6b7280", _R.Highlight: "#2563eb", _R.HighlightedText: "#ffffff",
        _R.Link: "#1d4ed8", _R.LinkVisited: "#6d28d9", _R.Accent: "#2563eb",
    },
    "dark": {
        _R.Window: "#2b2d31", _R.WindowText: "#e6e7ea", _R.Base: "#1e1f22", _R.AlternateBase: "#26282c",
        _R.ToolTipBase: "#3a3d43", _R.ToolTipText: "#f3f4f6", _R.PlaceholderText: "#8b9099",
        _R.Text: "#e6e7ea", _R.Button: "#35373c", _R.ButtonText: "#e6e7ea", _R.BrightText: "#ffffff",
        _R.Light: "#4a4d54", _R.Midlight: "#3e4147", _R.Mid: "#5b5f67", _R.Dark: "#1a1b1e",
        _R.Shadow: "#0d0e10", _R.Highlight: "#3b82f6", _R.HighlightedText: "#ffffff",
        _R.Link: "#93c5fd", _R.LinkVisited: "#c4b5fd", _R.Accent: "#3b82f6",
    },
}  # fmt: skip
_DISABLED = {"light": "#9aa0a8", "dark": "#6f747c"}
"""Disabled text: dimmed but still legible (Fusion's own default is near-invisible on a dark window)."""


def build_palette(name: str) -> QPalette:
    """The full application palette for ``"light"`` or ``"dark"`` (every role, disabled text dimmed)."""
    palette = QPalette()
    for role, colour in _PALETTES[name].items():
        palette.setColor(role, QColor(colour))
    for role in (_R.WindowText, _R.Text, _R.ButtonText, _R.HighlightedText, _R.PlaceholderText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(_DISABLED[name]))
    palette.setColor(QPalette.ColorGroup.Disabled, _R.Highlight, QColor(_PALETTES[name][_R.Mid]))
    return palette


def is_dark(palette: QPalette | None = None) -> bool:
    """Whether ``palette`` (the application's by default) paints light text on a dark window."""
    palette = palette or QApplication.palette()
    return palette.color(_R.Window).lightness() < 128


def tone(meaning: str, palette: QPalette | None = None) -> QColor:
    """The colour of ``meaning`` ("error", "warning", "success", ...) readable on the current window."""
    light, dark = _TONES.get(meaning, _TONES["neutral"])
    return QColor(dark if is_dark(palette) else light)


def set_tone(widget: QWidget, meaning: str | None) -> None:
    """Colour ``widget``'s text by meaning (None: back to the normal text colour); kept across theme changes."""
    first = widget.property(_TONE_PROPERTY) is None
    widget.setProperty(_TONE_PROPERTY, meaning or "")
    if first:
        _ToneKeeper(widget)
    _apply_tone(widget)


class _ToneKeeper(QObject):
    """Tones its widget again when the application's palette changes (a theme switch).

    Why not a walk over ``QApplication.allWidgets()`` at the switch: that walk wraps every widget of
    the process in Python, half-destroyed ones included, and crashed the test run once (a segfault
    inside ``allWidgets``). Qt itself tells each widget of the change; the keeper listens for it."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)  # a child: it goes with its widget
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ApplicationPaletteChange and isinstance(watched, QWidget):
            _apply_tone(watched)
        return False


def _apply_tone(widget: QWidget) -> None:
    meaning = widget.property(_TONE_PROPERTY)
    palette = QPalette(widget.palette())
    if meaning:
        colour = tone(str(meaning))
    else:
        colour = QApplication.palette().color(_R.WindowText)
    for role in (_R.WindowText, _R.Text):
        palette.setColor(role, colour)
    widget.setPalette(palette)


def scheme_name(scheme: Qt.ColorScheme) -> str:
    """The theme for a system colour scheme ("Unknown", e.g. offscreen or an old desktop, reads as light)."""
    return "dark" if scheme == Qt.ColorScheme.Dark else "light"


class ThemeSwitcher(FollowsDocument, QObject):
    """Owns the window's theme: the saved choice, the View > Theme menu, the palette and the canvas theme."""

    def __init__(self, window: MainWindow, menu: QMenu) -> None:
        super().__init__(window)
        self.window = window
        window.document_opened.connect(self.follow)  # handed each open document
        self.settings: QSettings = window.settings
        saved = str(self.settings.value(SETTING, "system"))
        self.mode = saved if saved in MODES else "system"
        self.theme: CanvasTheme = LIGHT
        self.actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        group.setExclusive(True)
        submenu = menu.addMenu("&Theme")
        for mode in MODES:
            action = QAction(mode.capitalize(), self, checkable=True)
            action.setChecked(mode == self.mode)
            action.triggered.connect(lambda _checked=False, m=mode: self.set_mode(m))
            group.addAction(action)
            submenu.addAction(action)
            self.actions[mode] = action
        QGuiApplication.styleHints().colorSchemeChanged.connect(self.system_scheme_changed)
        window.document_loaded.connect(self._theme_scene)
        self.apply()

    @classmethod
    def install(cls, window: MainWindow, menu: QMenu) -> ThemeSwitcher:
        """Theme ``window`` now and from here on; the Theme submenu goes at the end of ``menu``."""
        return cls(window, menu)

    def effective(self) -> str:
        """ "light" or "dark": the user's pick, or for "system" what the OS uses now."""
        if self.mode != "system":
            return self.mode
        return scheme_name(QGuiApplication.styleHints().colorScheme())

    def set_mode(self, mode: str) -> None:
        """Switch to ``mode`` ("system", "light" or "dark") and remember it."""
        if mode not in MODES:
            raise ValueError(f"unknown theme {mode!r}; expected one of {', '.join(MODES)}")
        self.mode = mode
        self.settings.setValue(SETTING, mode)
        self.actions[mode].setChecked(True)
        self.apply()

    def system_scheme_changed(self, scheme: Qt.ColorScheme) -> None:
        """The OS switched light/dark: follow it unless the user picked a theme of their own."""
        if self.mode == "system":
            self._apply_name(scheme_name(scheme))

    def apply(self) -> None:
        """Put the effective theme on the application, its toned labels and the open canvas."""
        hints = QGuiApplication.styleHints()
        if self.mode == "system":
            hints.unsetColorScheme()
        else:  # an explicit pick also asks for matching native title bars and dialogs where the OS can
            hints.setColorScheme(Qt.ColorScheme.Dark if self.mode == "dark" else Qt.ColorScheme.Light)
        self._apply_name(self.effective())

    def _apply_name(self, name: str) -> None:
        app = QApplication.instance()
        if not isinstance(app, QApplication):
            return
        if app.style().name().lower() != "fusion":
            app.setStyle("Fusion")
        app.setPalette(build_palette(name))
        self.theme = DARK if name == "dark" else LIGHT
        # toned widgets follow by themselves (_ToneKeeper hears the palette change)
        self._theme_scene()

    def _theme_scene(self) -> None:
        scene = self.scene
        if scene is not None and scene.theme is not self.theme:
            scene.set_theme(self.theme)
