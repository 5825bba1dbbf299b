"""PySide6 6.12 on Python 3.11 loses references to shared singletons; a long session must not abort.

Each successful ``signal.disconnect`` hands back ``True`` without a reference, and each void Qt call
hands back ``None`` without one. The window disconnects ~25 links per document it closes, so after
some hundreds of opens the interpreter used to abort with "Fatal Python error: bool_dealloc". The
child process below does far more of both than a session would, then exits as a person's app does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import flowdesk.ui  # applies the workaround, as the app does on start
    from PySide6.QtCore import QObject, QRectF

    def slot(name):
        pass

    owner = QObject()
    for _ in range(50_000):
        owner.objectNameChanged.connect(slot)
        owner.objectNameChanged.disconnect(slot)
        owner.objectNameChanged.connect(slot)
        owner.objectNameChanged.disconnect()
    rect = QRectF()
    for _ in range(100_000):
        rect.setTop(1.0)
    del owner
    print("finished")
    """
)


def test_many_disconnects_and_void_calls_do_not_abort_the_interpreter() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=120)
    assert "Fatal Python error" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "finished"
