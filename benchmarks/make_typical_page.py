"""Build the fixed "typical 200 KB page" of benchmarks/bench_detect.py, once:

    python benchmarks/make_typical_page.py   # writes benchmarks/pages/typical-200kb.html

The page is ours and SYNTHETIC (a fictitious IT-service company, generated text): no company's site
is copied. Its proportions follow the saved real home pages of ../shared/realsites between 100 KB
and 500 KB (measured 2026-11-27): about 1,500 elements, 100 links, 30 scripts of which half inline
(analytics, a tag manager, a chat loader, JSON-LD, a page builder's config: about 45 KB of code),
10 KB of inline style, an 8 KB SVG sprite, 25-30 KB of visible text, long class attributes of a
page builder, three forms (callback, request, search) and the usual contact block. A fixed seed
makes the file reproducible; it is committed, so the benchmark times the same bytes on every run
whatever the labelled corpus grows into.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

OUT = Path(__file__).resolve().parent / "pages" / "typical-200kb.html"
TARGET = 200 * 1024
WORDS = ("обслуживание компьютеров серверов сети офиса абонентское сопровождение поддержка пользователей "
         "ремонт настройка резервное копирование безопасность лицензии облако договор выезд инженера "
         "удаленно быстро надежно гарантия отчет заявка аудит инфраструктуры телефония видеонаблюдение "
         "принтеры картриджи почта домен сайт 1С бухгалтерия консультация тариф месяц клиент компания").split()
CLASSES = ("t-rec t-rec_pt_60 t-rec_pb_60 t396__elem tn-elem tn-atom t-col t-col_4 t-prefix_1 t-align_center "
           "t-title t-title_xs t-descr t-descr_md t-btn t-btn_md js-click-stat t-card__col t-item").split()


def text(r: random.Random, n: int) -> str:
    return " ".join(r.choice(WORDS) for _ in range(n)).capitalize() + "."


def cls(r: random.Random, n: int = 6) -> str:
    return " ".join(r.sample(CLASSES, n))


def inline_code(r: random.Random, size: int) -> str:
    """A page builder's config and helpers: plausible JavaScript, no vendor URL."""
    parts = []
    while sum(map(len, parts)) < size:
        key = r.choice(WORDS)
        parts.append(f"function t{r.randint(100, 999)}_{key}(el){{var o=document.querySelector('#rec{r.randint(10**8, 10**9)}');"
                     f"if(!o)return;o.style.opacity='{r.random():.2f}';o.setAttribute('data-{key}','{r.randint(0, 9999)}');}}\n")
    return "".join(parts)


def build(seed: int = 2026) -> str:
    r = random.Random(seed)
    head = ["<!DOCTYPE html>", "<!-- SYNTHETIC benchmark page (chanaudit benchmarks/make_typical_page.py): "
            "a fictitious company, generated text; not a copy of any site -->",
            "<html lang='ru'><head><meta charset='utf-8'><title>ИТ-обслуживание офисов — Пример Сервис</title>",
            "<meta name='viewport' content='width=device-width, initial-scale=1.0'>",
            "<meta name='description' content='" + text(r, 20) + "'>"]
    head += [f"<link rel='stylesheet' href='/css/part{i}.min.css'>" for i in range(6)]
    head += [f"<script src='/js/lib{i}.min.js'></script>" for i in range(8)]
    head.append("<style>" + "".join(f".{c}{{margin:{r.randint(0, 40)}px;padding:{r.randint(0, 40)}px;"
                                     f"font-size:{r.randint(12, 40)}px;color:#{r.randint(0, 0xFFFFFF):06x}}}\n"
                                     for c in CLASSES * 8) + "</style>")
    head.append("<script>(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':new Date().getTime(),event:'gtm.js'});"
                "var f=d.getElementsByTagName(s)[0],j=d.createElement(s);j.async=true;j.src='https://www.googletagmanager.com/"
                "gtm.js?id='+i;f.parentNode.insertBefore(j,f);})(window,document,'script','dataLayer','GTM-XXXX');</script>")
    head.append("<script>(function(m,e,t,r,i,k,a){m[i]=m[i]||function(){(m[i].a=m[i].a||[]).push(arguments)};"
                "k=e.createElement(t),a=e.getElementsByTagName(t)[0],k.async=1,k.src=r,a.parentNode.insertBefore(k,a)})"
                "(window, document, 'script', 'https://mc.yandex.ru/metrika/tag.js', 'ym');ym(12345678, 'init', {});</script>")
    org = {"@context": "https://schema.org", "@type": "Organization", "name": "Пример Сервис",
           "telephone": "+7 (495) 000-00-00", "email": "info@primer-service.example", "url": "https://primer-service.example/"}
    head.append(f"<script type='application/ld+json'>{json.dumps(org, ensure_ascii=False)}</script>")
    head.append("</head>")
    body = ["<body>", "<svg style='display:none'>" + "".join(
        f"<symbol id='i{i}' viewBox='0 0 24 24'><path d='" + " ".join(f"M{r.randint(0, 24)} {r.randint(0, 24)}L{r.randint(0, 24)} "
                                                                     f"{r.randint(0, 24)}" for _ in range(12)) + "'/></symbol>"
        for i in range(24)) + "</svg>"]
    nav = "".join(f"<li class='menu__item'><a class='menu__link' href='/{w}/'>{w.capitalize()}</a></li>"
                  for w in r.sample(WORDS, 12))
    body.append(f"<header class='{cls(r)}'><div class='logo'><a href='/'><img src='/img/logo.svg' alt='Пример Сервис'></a>"
                f"</div><nav><ul class='menu'>{nav}<li><a href='/contacts/'>Контакты</a></li></ul></nav>"
                "<div class='header__phone'><a href='tel:+74950000000'>+7 (495) 000-00-00</a></div>"
                "<form class='search' action='/search/' method='get'><input type='text' name='q' placeholder='Поиск'>"
                "<button>Найти</button></form></header>")
    form_callback = ("<div class='popup' id='callback'><h3>Заказать звонок</h3><form method='post' action='/ajax/callback.php'>"
                     "<input type='text' name='name' placeholder='Ваше имя'><input type='tel' name='phone' "
                     "placeholder='+7 (___) ___-__-__'><button type='submit'>Перезвоните мне</button></form></div>")
    form_request = ("<section class='request'><h2>Оставьте заявку</h2><form method='post' action='/ajax/request.php'>"
                    "<input name='name' placeholder='Имя'><input type='email' name='email' placeholder='E-mail'>"
                    "<input type='tel' name='phone' placeholder='Телефон'><textarea name='message' placeholder='Опишите задачу'>"
                    "</textarea><button>Отправить заявку</button></form></section>")
    blocks = 0
    while True:
        kind = (0, 5, 1, 5, 2, 4, 3, 5, 4, 5)[blocks % 10]
        if kind == 0:
            cards = "".join(f"<div class='{cls(r)}'><div class='{cls(r, 3)}'><svg><use href='#i{r.randint(0, 23)}'/></svg>"
                            f"<h3 class='{cls(r, 4)}'>{text(r, 3)}</h3><p class='{cls(r, 4)}'>{text(r, 10)}</p>"
                            f"<a class='t-btn' href='/uslugi/{r.choice(WORDS)}/'>Подробнее</a></div></div>" for _ in range(6))
            body.append(f"<section class='{cls(r)}'><h2>{text(r, 4)}</h2><div class='row'>{cards}</div></section>")
        elif kind == 1:
            rows = "".join(f"<tr><td>{text(r, 4)}</td><td>{r.randint(5, 90) * 1000} ₽</td><td>{r.randint(1, 40)} ч</td></tr>"
                           for _ in range(10))
            body.append(f"<section class='{cls(r)}'><h2>Тарифы</h2><table class='prices'>{rows}</table></section>")
        elif kind == 2:
            faq = "".join(f"<details class='{cls(r, 3)}'><summary>{text(r, 6)}?</summary><p>{text(r, 16)}</p></details>"
                          for _ in range(6))
            body.append(f"<section class='faq'><h2>Вопросы и ответы</h2>{faq}</section>")
        elif kind == 3:
            reviews = "".join(f"<blockquote class='{cls(r, 4)}'><p>{text(r, 14)}</p><cite>{r.choice(WORDS).capitalize()} "
                              f"{r.choice(WORDS).capitalize()}</cite></blockquote>" for _ in range(4))
            body.append(f"<section class='reviews'><h2>Отзывы</h2>{reviews}</section>")
        elif kind == 4:
            body.append(f"<script>{inline_code(r, 4500)}</script>")
        else:  # a page builder's absolutely positioned block: many small elements, long attributes
            elems = "".join(f"<div class='t396__elem tn-elem tn-elem__{r.randint(10**9, 10**10)}' data-elem-type='"
                            f"{r.choice(('text', 'shape', 'image'))}' data-field-top-value='{r.randint(0, 900)}' "
                            f"data-field-left-value='{r.randint(0, 1200)}' data-field-width-value='{r.randint(20, 600)}'>"
                            f"<div class='tn-atom'>{text(r, 2) if r.random() < 0.4 else ''}</div></div>"
                            for _ in range(14))
            body.append(f"<div class='t396'><div class='t396__artboard' data-artboard-height='{r.randint(300, 900)}'>"
                        f"{elems}</div></div>")
        blocks += 1
        if len("".join(head + body).encode()) > TARGET - 12_000:
            break
    body.append(form_request)
    body.append("<footer class='footer'><div class='contacts'><p>Телефон: <a href='tel:+74950000000'>+7 (495) 000-00-00</a>, "
                "8 800 000-00-00</p><p>E-mail: <a href='mailto:info@primer-service.example'>info@primer-service.example</a></p>"
                "<p>Москва, ул. Примерная, д. 1, офис 10</p><p>ИНН 7700000000, ОГРН 1000000000000</p>"
                "<a href='https://t.me/primer_service'>Telegram</a> <a href='https://lk.primer-service.example/'>Личный кабинет</a>"
                "</div></footer>")
    body.append(form_callback)
    body.append("<script>(function(){var widget_id='AbCdEf0000';var d=document;var w=window;function l(){var s=d.createElement"
                "('script');s.type='text/javascript';s.async=true;s.src='//code.jivo.ru/widget/'+widget_id;var ss=d.getElementsBy"
                "TagName('script')[0];ss.parentNode.insertBefore(s,ss);}if(d.readyState=='complete'){l();}else{if(w.attachEvent)"
                "{w.attachEvent('onload',l);}else{w.addEventListener('load',l,false);}}})();</script>")
    body += [f"<script src='/js/app{i}.js'></script>" for i in range(6)]
    body.append("</body></html>")
    html = "\n".join(head + body)
    pad = TARGET - len(html.encode())
    if pad > 0:  # fill to the target with page-builder attributes on the last block (no text)
        html = html.replace("<footer class='footer'>", f"<footer class='footer' data-builder-state='{'x' * (pad - 40)}'>")
    return html


def main() -> None:
    OUT.parent.mkdir(exist_ok=True)
    html = build()
    OUT.write_text(html, encoding="utf-8")
    print(f"written {OUT.relative_to(OUT.parents[2])}: {len(html.encode()) / 1024:.0f} KB")


if __name__ == "__main__":
    main()
