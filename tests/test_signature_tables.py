"""The one loader of the signature tables (crawler/signatures/__init__.py): files read once,
tables compiled on first use, never at import."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from chanaudit.crawler import signatures


def test_every_table_loads_once_and_is_shared():
    names = sorted(p.stem for p in signatures.FOLDER.glob("*.yaml"))
    assert names == ["chat", "contact", "forms", "navigation", "portal", "render", "states"]
    for name in names:
        data = signatures.load(name)
        assert isinstance(data, dict) and data, name
        assert signatures.load(name) is data, name


def test_importing_the_detectors_reads_and_compiles_nothing():
    """A user who only imports the package pays for no YAML read and no regex compilation: the
    tables load on the first page (in a fresh interpreter, so other tests' pages do not count)."""
    code = textwrap.dedent("""
        from chanaudit.crawler import navigation, render, signatures
        from chanaudit.crawler.detectors import chat, detect, email, form, phone, portal
        from chanaudit.crawler.page import Page, ParsedPage

        readers = (chat, email, form, phone, portal, navigation, render)
        assert signatures.load.cache_info().currsize == 0
        assert all(m.table.cache_info().currsize == 0 for m in readers)
        detect(Page("https://firm.ru/", "<p>x</p>"))
        home = ParsedPage(Page("https://firm.ru/", "<a href=/c>Контакты</a>"))
        navigation.find_targets(home, "https://firm.ru/")
        render.needs_rendering(home)
        assert all(m.table.cache_info().currsize == 1 for m in readers)
        print(signatures.load.cache_info().currsize)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "6"
