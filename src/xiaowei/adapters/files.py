"""Writing user files atomically (原子写入): a reader sees the old file or the new one, never half.

The content is written to a temporary file in the destination's folder and renamed over it
(``os.replace`` is atomic on POSIX and Windows within one file system). ``tempfile.mkstemp``
creates the file readable by its owner only; it is given the mode a plain ``open`` would give
(0666 less the process's umask), since these are the user's reports and tables.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from xiaowei.core.errors import InvalidInput


def write_atomically(out: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` to fill a temporary file beside ``out``, then rename it to ``out``.

    On any error the temporary file is removed and ``out`` is left as it was; a file-system
    error (no permission, no space, a folder in the way) is an :class:`InvalidInput` naming
    ``out``."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    except OSError as exc:
        raise InvalidInput(str(out), f"cannot write: {exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, out)
    except OSError as exc:
        raise InvalidInput(str(out), f"cannot write: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)


__all__ = ["write_atomically"]
