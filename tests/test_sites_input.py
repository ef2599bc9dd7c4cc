"""Reading site lists: encodings, delimiters, IDN, bad cells with file and line."""

from __future__ import annotations

import pytest

from chanaudit.crawler.sites import SiteListError, read_sites
from chanaudit.crawler.urls import (
    InvalidSiteInput,
    normalize_site_url,
    registrable_domain,
    same_site,
    site_key,
)


@pytest.mark.parametrize("raw,url", [
    ("example.ru", "http://example.ru/"),
    ("  https://Example.RU/contacts  ", "https://example.ru/contacts"),
    ("пример.рф", "http://xn--e1afmkfd.xn--p1ai/"),  # IDNA 2008: python -c "import idna; idna.encode('пример.рф')"
    ("http://пример.рф/о-нас", "http://xn--e1afmkfd.xn--p1ai/о-нас"),
    ("www.sysit.com.ua", "http://www.sysit.com.ua/"),
    ("//cdn.example.com", "http://cdn.example.com/"),
    ("127.0.0.1:8080", "http://127.0.0.1:8080/"),
])
def test_normalize(raw, url):
    assert normalize_site_url(raw) == url


@pytest.mark.parametrize("raw,reason", [
    ("", "empty"), ("not a url", "whitespace"), ("ftp://example.ru", "scheme"), ("localhost", "top-level"),
    ("example.notatld", "public suffix"), ("http://user:pw@example.ru", "credentials"), ("a..b.ru", "bad domain"),
])
def test_invalid(raw, reason):
    with pytest.raises(InvalidSiteInput, match=reason):
        normalize_site_url(raw)


def test_same_site_rules():
    assert registrable_domain("clients.dengionline.com") == "dengionline.com"
    assert registrable_domain("www.shop.example.co.uk") == "example.co.uk"
    assert same_site("http://help.sysit.com.ua:8040/", "http://sysit.com.ua/")
    assert not same_site("http://127.0.0.1:8001/", "http://127.0.0.1:8002/")  # local test sites: one per port
    assert site_key("https://xn--e1afmkfd.xn--p1ai/") == "xn--e1afmkfd.xn--p1ai"


def test_csv_bom_semicolon_cp1251_and_passthrough(tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes("Сайт;Название;Город\nпример.рф;Фирма;Казань\n\nbad site;X;Омск\nexample.com;Y;Уфа;лишнее\n"
                     .encode("cp1251"))
    sites = read_sites(path)
    assert sites.encoding == "cp1251" and sites.delimiter == ";" and sites.column == "Сайт"
    assert [s.site_id for s in sites.sites] == [1, 2, 3]
    assert sites.sites[0].extra == {"Название": "Фирма", "Город": "Казань"}
    bad = sites.sites[1]
    assert bad.url is None and bad.error.startswith(f"{path}:4:")  # line 4: the blank line 3 is skipped
    assert sites.warnings and ":5:" in sites.warnings[0]


def test_utf8_bom_and_reserved_column_names(tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes("\ufeffdomain,status,score\nexample.ru,client,5\n".encode())
    sites = read_sites(path)
    assert sites.column == "domain"
    assert sites.sites[0].extra == {"input_status": "client", "input_score": "5"}


def test_xlsx(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["url", "name"])
    sheet.append(["пример.рф", "Фирма"])
    sheet.append([None, "пусто"])
    book.save(tmp_path / "list.xlsx")
    sites = read_sites(tmp_path / "list.xlsx")
    assert sites.format == "xlsx"
    assert sites.sites[0].url == "http://xn--e1afmkfd.xn--p1ai/"
    assert sites.sites[1].url is None and "list.xlsx:3: empty cell" in sites.sites[1].error


def test_no_site_column_is_a_clear_error(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("name,city\nA,B\n", encoding="utf-8")
    with pytest.raises(SiteListError, match="no site column"):
        read_sites(path)


def test_binary_file_is_a_clear_error(tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes("url\nexample.ru\n".encode("utf-16"))
    with pytest.raises(SiteListError, match="binary content"):
        read_sites(path)


def test_headerless_list_of_domains(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("example.ru\nпример.рф\n\nexample.com\n", encoding="utf-8")
    sites = read_sites(path)
    assert [s.url for s in sites.sites] == ["http://example.ru/", "http://xn--e1afmkfd.xn--p1ai/",
                                            "http://example.com/"]
    assert [s.line for s in sites.sites] == [1, 2, 4]


def test_a_stray_quote_loses_one_row_not_the_file(tmp_path):
    # an unclosed quote would make the csv module read the rest of the file as one cell
    path = tmp_path / "sites.csv"
    path.write_bytes('url;name\nfirst.ru;A\n"broken.ru;B\nthird.ru;C\nfourth.ru;D\n'.encode("cp1251"))
    sites = read_sites(path)
    assert [s.raw for s in sites.sites] == ["first.ru", "broken.ru", "third.ru", "fourth.ru"]
    assert [s.url for s in sites.sites] == ["http://first.ru/", None, "http://third.ru/", "http://fourth.ru/"]
    assert sites.sites[1].error == f'{path}:3: a quote (") opened on this line is never closed'
    assert sites.sites[2].extra == {"name": "C"}
