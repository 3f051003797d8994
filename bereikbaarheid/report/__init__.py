"""The offline HTML report of a profile folder, with its static figures.

::

    from bereikbaarheid.report import build_report

    build_report("profiles/demo")             # profiles/demo/report/index.html
    build_report("profiles/demo", lang="en")  # the same in English

The page holds everything inline (styles, script, maps and charts as
``data:`` URIs): it opens from ``file://`` without network and can be sent
as one file. The charts and maps are also written as PNG (150 dpi) to
``report/figures/`` for memos. The report reads only what the profile folder
holds, so it works on profiles of any 1.x schema (older ones lack the
municipality borders and facility locations, and the report leaves them out).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

from .. import _io
from ._i18n import LANGUAGES

logger = logging.getLogger(__name__)

__all__ = ["LANGUAGES", "build_report"]

REPORT_FOLDER = "report"
FIGURES_FOLDER = "figures"


def build_report(folder: str | Path, lang: str = "nl") -> Path:
    """Write the report of a profile folder and return the path of its page.

    Parameters
    ----------
    folder
        A profile (or scenario) folder written by ``bereikbaarheid run``,
        ``demo`` or ``scenario``.
    lang
        ``"nl"`` (default) or ``"en"``: the language of every label.

    Returns
    -------
    Path
        ``folder / "report" / "index.html"``; the static figures are in
        ``folder / "report" / "figures"``. An earlier report is replaced
        only once the new one is complete.

    Raises
    ------
    InputError
        Naming the folder when it is not a profile folder, or the file of it
        that cannot be read.
    ValueError
        For a language other than those in :data:`LANGUAGES`.
    """
    # Figures are drawn on matplotlib's Agg canvas directly (no pyplot), so
    # the backend of a notebook or application is left alone.
    from . import _data, _html
    from ._i18n import Texts

    texts = Texts(lang)
    started = time.perf_counter()
    folder = Path(folder)
    profile = _data.load(folder)
    target = folder / REPORT_FOLDER
    _io.clean_stale(folder)
    with _io.naming(target):
        tmp = _io.temp_beside(target, directory=True)
    try:
        figures = tmp / FIGURES_FOLDER
        figures.mkdir()

        def save_figure(name: str, png: bytes) -> None:
            (figures / name).write_bytes(png)

        page = _html.Page(profile, texts, save_figure).render()
        (tmp / "index.html").write_text(page, encoding="utf-8", newline="\n")
        with _io.naming(target, tmp):
            _swap(tmp, target)
    finally:
        # Gone after the swap; a leftover of a killed build is removed by
        # clean_stale on the next one.
        shutil.rmtree(tmp, ignore_errors=True)
    index = target / "index.html"
    logger.info(f"wrote {index} ({index.stat().st_size / 1e6:.1f} MB, "
                f"{len(list((target / FIGURES_FOLDER).glob('*.png')))} figures) "
                f"in {time.perf_counter() - started:.1f} s")
    return index


def _swap(new: Path, target: Path) -> None:
    """Put the folder ``new`` in the place of ``target``; the old report is
    moved aside first (under a temporary name that clean_stale removes,
    should this process be killed in between) and removed after."""
    old = None
    if os.path.lexists(target):
        old = target.with_name(f"{_io.temp_prefix(target.name)}old{_io.TEMP_SUFFIX}")
        _io.remove(old)
        os.replace(target, old)
    try:
        os.replace(new, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
