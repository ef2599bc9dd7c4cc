"""The one-click rule as data: every row of crawler/signatures/navigation.yaml has a test.

Pages are synthetic (built here); each row is tried on a neutral target so the
row itself, not another rule, is what makes the link a target.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from chanaudit.crawler.navigation import find_targets
from chanaudit.crawler.page import Page, ParsedPage

NAV = yaml.safe_load((Path(__file__).parents[1] / "crawler" / "signatures" / "navigation.yaml")
                     .read_text(encoding="utf-8"))
HOME = "https://firm.ru/"


def targets(links: str, max_links: int = 3):
    return find_targets(ParsedPage(Page(HOME, f"<html><body><nav>{links}</nav></body></html>")), HOME, max_links)


@pytest.mark.parametrize("role", ["contacts", "support"])
def test_every_word_row_makes_a_target(role):
    for word in NAV[role]["words"]:
        found = targets(f'<a href="/page-17">{word.title()}</a>')
        assert [(t.role, t.url, t.reason) for t in found] == [(role, "https://firm.ru/page-17", f"text:{word}")], word


@pytest.mark.parametrize("role", ["contacts", "support"])
def test_every_slug_row_makes_a_target(role):
    for slug in NAV[role]["slugs"]:
        found = targets(f'<a href="/{slug}/">Подробнее</a>')
        assert [(t.role, t.reason) for t in found] == [(role, f"slug:{slug}")], slug


@pytest.mark.parametrize("word", NAV["support"]["weak_words"])
def test_weak_word_counts_only_as_a_short_label(word):
    assert [t.role for t in targets(f'<a href="/page-3">{word}</a>')] == ["support"]
    assert targets(f'<a href="/page-3">{word} для бизнеса в Перми</a>') == []
    # with a matching slug the long label still leads to the support section
    assert [t.role for t in targets(f'<a href="/support/">{word} для бизнеса в Перми</a>')] == ["support"]


@pytest.mark.parametrize("phrase", NAV["support"]["service_phrases"])
def test_service_phrase_is_the_product_not_the_section(phrase):
    assert targets(f'<a href="/page-5">{phrase}</a>') == []
    assert [t.role for t in targets(f'<a href="/support/">{phrase}</a>')] == ["support"]  # the slug still says so


@pytest.mark.parametrize("ext", NAV["skip_extensions"])
def test_files_are_never_followed(ext):
    assert targets(f'<a href="/contacts{ext}">Контакты</a>') == []


@pytest.mark.parametrize("slug", NAV["skip_slugs"])
def test_skip_slugs_are_never_followed(slug):
    assert targets(f'<a href="/{slug}/support/">Поддержка</a>') == []


def test_other_sites_and_the_home_page_are_never_targets():
    links = ('<a href="https://other.ru/contacts/">Контакты</a><a href="/">Главная</a>'
             '<a href="https://help.firm.ru/">Помощь</a>')
    assert [(t.role, t.url) for t in targets(links)] == [("support", "https://help.firm.ru/")]  # a subdomain is the site


def test_one_contacts_page_then_support_pages_within_the_budget():
    links = ('<a href="/about/contacts">Контакты</a><a href="/contacts/">Контакты</a>'
             '<a href="/support/">Поддержка</a><a href="/help/">Help</a><a href="/helpdesk/">Helpdesk</a>')
    found = targets(links, max_links=3)
    assert [(t.role, t.url) for t in found] == [
        ("contacts", "https://firm.ru/about/contacts"), ("support", "https://firm.ru/support/"),
        ("support", "https://firm.ru/help/")]
