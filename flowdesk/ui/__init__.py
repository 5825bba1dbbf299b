"""ui layer (see docs/architecture.md §1): everything that imports Qt lives under this package.

Importing it first applies the PySide6 workaround in ``pyside_fix`` (a reference leak that aborts
Python 3.11), so no Qt call of the app runs without it.
"""

from flowdesk.ui import pyside_fix

pyside_fix.apply()
