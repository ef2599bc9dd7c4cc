from chanaudit.crawler.decoding import decode_html, is_html

TEXT = "<html><body><p>Служба поддержки: звоните нам</p></body></html>"


def test_declared_and_detected_charsets():
    assert decode_html(TEXT.encode("cp1251"), "text/html; charset=windows-1251")[2] == "header"
    text, enc, how = decode_html(TEXT.encode("cp1251"), "text/html")
    assert how == "detected" and "Служба поддержки" in text
    text, enc, how = decode_html(TEXT.encode("koi8-r"), None)
    assert "Служба поддержки" in text
    meta = '<meta charset="windows-1251">' + TEXT
    assert decode_html(meta.encode("cp1251"), "text/html")[2] == "meta"
    assert "Служба" in decode_html(TEXT.encode("utf-8"), None)[0]


def test_is_html():
    assert is_html("text/html; charset=utf-8", b"")
    assert is_html(None, b"  <!DOCTYPE html><html>")
    assert not is_html("application/octet-stream", bytes(range(256)))
    assert not is_html("application/pdf", b"%PDF-1.4")
    assert not is_html("image/png", b"<html>")
