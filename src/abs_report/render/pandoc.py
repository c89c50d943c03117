"""The long-lived ``pandoc lua templates/render.lua`` process and the request it is sent.

One pandoc read of the report's Markdown gives every edition asked for: the Typst
source (:mod:`.typst_pdf`) and the standalone HTML (:mod:`.html`), both through the
Lua filter ``templates/report.lua``.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import threading
from pathlib import Path
from typing import Any

from abs_report.paths import project_file

from .errors import RenderError
from .html import html_edition
from .options import FormatOptions
from .typst_pdf import typst_edition

__all__ = ["FILTER", "PANDOC", "PANDOC_PROGRAM", "PandocProcess", "pandoc_editions"]

FILTER = project_file("templates", "report.lua")
PANDOC_PROGRAM = project_file("templates", "render.lua")


class PandocProcess:
    """A ``pandoc lua templates/render.lua`` process that renders report after report.

    Starting pandoc, growing its heap and reading a format once costs more than
    converting one report: in a batch, three pandoc runs took 0.49 CPU-s a report,
    one request to a process that lives on takes 0.30 s. A batch worker keeps one for all its
    reports; a single render starts one and stops it at exit. A process is only
    used by the process that started it (a forked child starts its own).
    """

    def __init__(self):
        self._process: subprocess.Popen | None = None
        self._owner = 0
        self._lock = threading.Lock()

    def _start(self) -> subprocess.Popen:
        import pypandoc

        self._process = subprocess.Popen(
            [pypandoc.get_pandoc_path(), "lua", str(PANDOC_PROGRAM)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, encoding="utf-8",
            # Its own session: Ctrl-C in the terminal is for the batch to handle (the report
            # in progress is finished), not for pandoc. It ends when its owner's pipe closes.
            start_new_session=True,
        )
        self._owner = os.getpid()
        return self._process

    def request(self, request: dict[str, Any], intermediate: Path) -> None:
        """Send one request; RenderError naming ``intermediate`` when pandoc refuses it or stops."""
        with self._lock:
            process = self._process
            if process is None or self._owner != os.getpid() or process.poll() is not None:
                process = self._start()
            try:
                process.stdin.write(json.dumps(request, ensure_ascii=False) + "\n")
                process.stdin.flush()
                line = process.stdout.readline()
            except OSError:
                line = ""
            if not line:
                self._process = None
                try:
                    code = process.wait(timeout=5)
                except subprocess.TimeoutExpired:  # alive but mute: no use to anyone
                    process.kill()
                    code = process.wait()
                raise RenderError(f"pandoc s'est arrêté (code {code})", intermediate)
        reply = json.loads(line)
        if "error" in reply:
            raise RenderError(f"pandoc a échoué : {reply['error']}", intermediate)

    def close(self) -> None:
        """Stop the process (it also stops by itself when its owner's pipe closes)."""
        with self._lock:
            process, self._process = self._process, None
            if process is not None and self._owner == os.getpid():
                process.stdin.close()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                process.stdout.close()


PANDOC = PandocProcess()
atexit.register(PANDOC.close)


def pandoc_editions(markdown: Path, metadata: dict[str, Any], options: FormatOptions,
                    formats: tuple[str, ...]) -> dict[str, Path]:
    """Typst source (``report.typ``) and/or ``report.html`` beside ``markdown``, one pandoc read.

    The Lua filter ``templates/report.lua`` applies to each edition; ``metadata``
    (from :func:`document_metadata`) is given to pandoc as literal text.
    """
    workdir = markdown.parent
    editions = {}
    if "pdf" in formats:
        editions["typst"] = typst_edition(options, workdir)
    if "html" in formats:
        editions["html"] = html_edition(options, workdir)
    request = {"markdown": str(markdown), "metadata": metadata, "filter": str(FILTER),
               "editions": list(editions.values())}
    PANDOC.request(request, markdown)
    return {name: Path(edition["output"]) for name, edition in editions.items()}

