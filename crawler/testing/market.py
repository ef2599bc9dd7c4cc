"""A deterministic SYNTHETIC market of service-company websites, with ground truth.

Calibrated to the Okdesk 2016 joint figures (email 96%, phone 77%, form 51%,
portal 21%, phone and email 75%, exactly four channels 8.8%, all five 1.3%;
chat, unpublished, 25%): channel profiles are drawn and then adjusted by a
seeded local search until the realised shares match. Pages vary in language
(ru/en), encoding (utf-8/cp1251), navigation words and paths, where each
channel sits (home, contacts page, support section) and how it is written
(mailto, Cloudflare, [собака]; tel:, split spans; script or inline loaders, some
only at run time), and carry decoys that must not count (search, login and
newsletter forms, commented-out loaders, placeholder emails, ИНН, WhatsApp,
channels two clicks deep or on a blog post). Vocabularies: datasets/market.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

import pandas as pd
import yaml

from crawler.evidence import CHANNELS
from datasets import ROOT as DATASETS

VOCAB = DATASETS / "market" / "vocab.yaml"
TARGETS = {"email": 0.96, "phone": 0.77, "chat": 0.25, "form": 0.51, "portal": 0.21}
JOINT = {"phone_and_email": 0.75, "exactly_4": 0.088, "all_5": 0.013}
FAULTS = ["timeout", "reset", "http_500", "http_403", "redirect_loop", "binary", "refused", "dns", "robots_deny"]


@dataclass
class Market:
    root: Path
    sites: list[dict]
    truth: pd.DataFrame = field(default_factory=pd.DataFrame)


def fit_profiles(n: int, rng: random.Random, iterations: int = 60000) -> list[dict[str, int]]:
    """n channel profiles whose shares match TARGETS and JOINT (greedy bit flips, seeded)."""
    prof = [{ch: int(rng.random() < TARGETS[ch]) for ch in CHANNELS} for _ in range(n)]
    want = {**{ch: TARGETS[ch] * n for ch in CHANNELS}, **{k: v * n for k, v in JOINT.items()}}

    def stats(profiles) -> dict[str, float]:
        out = {ch: sum(p[ch] for p in profiles) for ch in CHANNELS}
        out["phone_and_email"] = sum(p["phone"] and p["email"] for p in profiles)
        sizes = [sum(p.values()) for p in profiles]
        out["exactly_4"] = sizes.count(4)
        out["all_5"] = sizes.count(5)
        return out

    def cost(s) -> float:
        return sum((s[k] - want[k]) ** 2 for k in want)

    current = stats(prof)
    best = cost(current)
    for _ in range(iterations):
        if best < 0.6:
            break
        i, ch = rng.randrange(n), rng.choice(CHANNELS)
        prof[i][ch] ^= 1
        trial = stats_delta(current, prof[i], ch)
        c = cost(trial)
        if c <= best:
            current, best = trial, c
        else:
            prof[i][ch] ^= 1
    return prof


def stats_delta(current: dict, profile: dict, flipped: str) -> dict:
    """Stats after one flip, computed from the change only."""
    new = dict(current)
    sign = 1 if profile[flipped] else -1
    new[flipped] += sign
    before = dict(profile)
    before[flipped] ^= 1
    if flipped in ("phone", "email"):
        new["phone_and_email"] += int(profile["phone"] and profile["email"]) - int(before["phone"] and before["email"])
    size_now, size_before = sum(profile.values()), sum(before.values())
    for size, key in ((4, "exactly_4"), (5, "all_5")):
        new[key] += int(size_now == size) - int(size_before == size)
    return new


class SiteWriter:
    """Builds the pages of one site from its channel profile."""

    def __init__(self, rng: random.Random, vocab: dict, entry: dict, profile: dict[str, int]):
        self.rng, self.v, self.e, self.p = rng, vocab, entry, profile
        self.lang = entry["language"]
        self.notes: list[str] = []
        self.render_only: list[str] = []
        self.chat_vendor = ""

    def t(self, ru: str, en: str) -> str:
        return ru if self.lang == "ru" else en

    # -- channel snippets ---------------------------------------------------------
    def email_html(self) -> str:
        addr = f"{self.rng.choice(['info', 'support', 'help', 'office', 'mail'])}@{self.e['domain']}"
        style = self.rng.choice(["mailto", "mailto", "text", "cloudflare", "obfuscated", "entity"])
        if style == "mailto":
            return f'<a href="mailto:{addr}?subject={self.t("Заявка", "Request")}">{addr}</a>'
        if style == "text":
            return f"<span>{addr}</span>"
        if style == "cloudflare":
            key = self.rng.randrange(1, 255)
            hexed = f"{key:02x}" + "".join(f"{b ^ key:02x}" for b in addr.encode())
            self.notes.append("email: Cloudflare-obfuscated")
            return (f'<a href="/cdn-cgi/l/email-protection#{hexed}"><span class="__cf_email__" '
                    f'data-cfemail="{hexed}">[email&#160;protected]</span></a>')
        if style == "obfuscated":
            local, domain = addr.split("@")
            name, tld = domain.rsplit(".", 1)
            self.notes.append("email: [at]/[собака] form")
            return self.t(f"{local} [собака] {name} [точка] {tld}", f"{local} [at] {name} [dot] {tld}")
        return addr.replace("@", "&#64;")

    def phone_html(self) -> str:
        cc, area, length = self.v["area_codes"][self.e["city"]]
        sub = f"{self.rng.randrange(2, 9)}{self.rng.randrange(0, 10 ** (length - 1)):0{length - 1}d}"
        a, b, c = sub[:3], sub[3:5], sub[5:]
        if cc == "1":
            text = self.rng.choice([f"({area}) {a}-{b}{c}", f"+1 {area} {a} {b}{c}", f"{area}.{a}.{b}{c}"])
            e164 = f"+1{area}{sub}"
        else:
            if self.rng.random() < 0.15:
                area, e164 = "800", f"+7800{sub}"
                text = f"8 800 {a}-{b}-{c}"
            else:
                e164 = f"+7{area}{sub}"
                text = self.rng.choice([f"+7 ({area}) {a}-{b}-{c}", f"8 ({area}) {a}-{b}-{c}",
                                        f"+7\u00a0{area}\u00a0{a}\u2013{b}\u2013{c}", f"8-{area}-{a}-{b}-{c}"])
        style = self.rng.choice(["tel", "text", "split", "text"])
        if style == "tel":
            return f'<a href="tel:{e164}">{text}</a>'
        if style == "split" and cc == "7" and "(" in text:
            head, tail = text.split(")", 1)
            self.notes.append("phone: split across spans")
            return f"<span>{head})</span>{tail}"
        return f"{self.t('Тел.', 'Phone')}: {text}"

    def chat_html(self) -> str:
        ident = "".join(self.rng.choice("abcdefghkmnpqrstuvwxyz23456789") for _ in range(10))
        if self.rng.random() < 0.2:
            vendor = self.rng.choice(sorted(self.v["runtime_chat_vendors"]))
            pieces = self.v["runtime_chat_vendors"][vendor] + [ident]
            self.chat_vendor = vendor
            self.render_only.append("chat")
            self.notes.append(f"chat: {vendor} injected at run time only")
            js = ",".join(f"'{p}'" for p in pieces)
            return (f"<script>(function(){{var s=document.createElement('script');s.async=true;"
                    f"s.src=[{js}].join('');document.body.appendChild(s);}})();</script>")
        vendor = self.rng.choice(sorted(self.v["chat_widgets"]))
        self.chat_vendor = vendor
        return self.v["chat_widgets"][vendor].format(id=ident)

    def form_html(self) -> str:
        kind = self.rng.choice(["request", "request", "callback", "bitrix24", "yandex"])
        if kind == "bitrix24":
            return ('<script data-b24-form="inline/7/abc" data-skip-moving="true">(function(w,d,u){var s=d.createElement'
                    '("script");s.async=true;s.src=u;d.head.appendChild(s);})(window,document,'
                    '"https://cdn-ru.bitrix24.ru/b7654321/crm/form/loader_7.js");</script>')
        if kind == "yandex":
            return '<iframe src="https://forms.yandex.ru/u/65a1b2c3d4/?iframe=1" width="650" height="600"></iframe>'
        if kind == "callback":
            return (f'<div class="modal" id="callback" style="display:none"><form method="post" action="/callback">'
                    f'<input name="name" placeholder="{self.t("Ваше имя", "Your name")}">'
                    f'<input type="tel" name="phone" placeholder="{self.t("Телефон", "Phone")}">'
                    f'<button>{self.t("Заказать звонок", "Request a call")}</button></form></div>')
        return (f'<form method="post" action="/send" class="request">'
                f'<input name="name" placeholder="{self.t("Имя", "Name")}">'
                f'<input type="tel" name="phone" placeholder="{self.t("Телефон", "Phone")}">'
                f'<input type="email" name="email" placeholder="E-mail">'
                f'<textarea name="message" placeholder="{self.t("Опишите проблему", "Describe the problem")}"></textarea>'
                f'<label><input type="checkbox" required> {self.t("Согласен на обработку персональных данных", "I agree to the privacy policy")}</label>'
                f'<button type="submit">{self.t("Отправить заявку", "Send request")}</button></form>')

    def portal_html(self) -> str:
        slug = self.e["slug"].replace("-", "")
        kind = self.rng.choice(["okdesk", "lk_path", "lk_host", "itsm", "zendesk"])
        word = self.t(self.rng.choice(["Личный кабинет", "Клиентский портал", "Кабинет клиента"]),
                      self.rng.choice(["Client portal", "Client login"]))
        href = {"okdesk": f"https://{slug}.okdesk.ru/", "lk_path": "/lk/", "lk_host": f"https://lk.{self.e['domain']}/",
                "itsm": f"https://{slug}.itsm365.ru/sd/", "zendesk": f"https://{slug}.zendesk.com/hc/ru/requests/new"}[kind]
        return f'<a class="portal" href="{href}">{word}</a>'

    # -- decoys -------------------------------------------------------------------------
    def decoys(self) -> str:
        out = []
        r = self.rng
        if r.random() < 0.5:
            out.append(f'<form action="/search/" method="get"><input type="text" name="q" placeholder="'
                       f'{self.t("Поиск по сайту", "Search")}"><button>{self.t("Найти", "Search")}</button></form>')
            self.notes.append("decoy: search form")
        if r.random() < 0.3:
            out.append(f'<form method="post" action="/subscribe"><input type="email" name="email" '
                       f'placeholder="name@example.com"><button>{self.t("Подписаться на рассылку", "Subscribe")}</button></form>')
            self.notes.append("decoy: newsletter form, placeholder email")
        if r.random() < 0.25:
            out.append('<!-- <script src="https://code.jivo.ru/widget/OldWidget1"></script> -->')
            self.notes.append("decoy: commented-out chat loader")
        if self.lang == "ru" and r.random() < 0.5:
            out.append(f"<p>ИНН {r.randrange(10**9, 10**10)}, ОГРН {r.randrange(10**12, 10**13)}</p>")
            self.notes.append("decoy: ИНН/ОГРН")
        if r.random() < 0.2:
            out.append('<a href="https://wa.me/79001234567" class="wa">WhatsApp</a>')
            self.notes.append("decoy: WhatsApp link (messenger, not chat)")
        if r.random() < 0.15:
            out.append('<form method="post" action="/index.php?option=com_users&amp;task=user.login">'
                       '<input name="username"><input type="password" name="password"><button>Войти</button></form>')
            self.notes.append("decoy: CMS login form")
        return "\n".join(out)

    # -- pages --------------------------------------------------------------------------
    def build(self) -> dict[str, str]:
        """path -> HTML of every page of the site."""
        r, v, lang = self.rng, self.v, self.lang
        where: dict[str, str] = {}
        for ch in CHANNELS:
            if self.p[ch]:
                where[ch] = r.choices(["home", "contacts", "support"], weights=[5, 4, 2])[0]
        if self.p["portal"] and "portal" in where and r.random() < 0.5:
            where["portal"] = "home"
        need_support = "support" in where.values() or r.random() < 0.4
        contacts_label, contacts_path = r.choice(v["nav"]["contacts"][lang])
        support_label, support_path = r.choice(v["nav"]["support"][lang])
        about_label, about_path = r.choice(v["nav"]["about"][lang])
        blog_label, blog_path = r.choice(v["nav"]["blog"][lang])
        nav = [(self.t("Главная", "Home"), "/"), (about_label, about_path), (contacts_label, contacts_path)]
        if need_support:
            nav.append((support_label, support_path))
        nav.append((blog_label, blog_path))
        blocks = {"home": [], "contacts": [], "support": []}
        for ch, page in where.items():
            blocks[page].append(getattr(self, f"{ch}_html")())
        deep = self.email_html() if r.random() < 0.5 else self.phone_html()
        pages = {
            "/": self.page(nav, self.t("Абонентское обслуживание компьютеров", "Managed IT support"),
                           blocks["home"], self.decoys(), footer=blocks["home"] and r.random() < 0.5),
            contacts_path: self.page(nav, contacts_label, blocks["contacts"]),
            about_path: self.page(nav, about_label, [f'<a href="{about_path.rstrip("/")}/team/">'
                                                     f'{self.t("Наша команда", "Our team")}</a>']),
            about_path.rstrip("/") + "/team/": self.page(nav, self.t("Команда", "Team"),
                                                         [deep, self.form_html(), self.chat_html_plain()]),
            blog_path: self.page(nav, blog_label, [self.chat_html_plain(), self.portal_html_plain()]),
        }
        self.notes.append("two clicks deep and blog: channels that must not count")
        if need_support:
            pages[support_path] = self.page(nav, support_label, blocks["support"])
        return pages

    def chat_html_plain(self) -> str:
        return '<script src="//code.jivo.ru/widget/DeepPage99" async></script>'

    def portal_html_plain(self) -> str:
        return f'<a href="https://deep.okdesk.ru/">{self.t("Личный кабинет", "Client portal")}</a>'

    def page(self, nav, title: str, blocks: list[str], extra: str = "", footer: bool = False) -> str:
        e = self.e
        charset = "windows-1251" if e["encoding"] == "cp1251" else "utf-8"
        links = " | ".join(f'<a href="{href}">{escape(label)}</a>' for label, href in nav)
        body = "\n".join(f"<div class='block'>{b}</div>" for b in blocks)
        layout = self.rng.choice(["<main class='content'>{}</main>", "<div id='wrap'><section>{}</section></div>"])
        return (f'<!doctype html>\n<!-- SYNTHETIC demo site: not a real company -->\n<html lang="{self.lang}">'
                f'<head><meta charset="{charset}"><title>{escape(title)} — {escape(e["name"])}</title></head>\n'
                f"<body><header><nav>{links}</nav></header>\n<h1>{escape(title)}</h1>\n"
                + layout.format(f"<p>{escape(e['name'])}, {escape(e['city'])}.</p>\n{body}\n{extra}")
                + f"\n<footer>© 2016 {escape(e['name'])}</footer></body></html>\n")


def generate_market(out_dir: Path, n_sites: int = 320, seed: int = 2016) -> Market:
    """Write sites/<slug>/..., market.json, truth.csv and companies.csv under ``out_dir``."""
    out_dir = Path(out_dir)
    rng = random.Random(seed)
    vocab = yaml.safe_load(VOCAB.read_text(encoding="utf-8"))
    n_faults = max(1, round(n_sites * 0.04)) if n_sites >= 20 else 0
    faults = {i: FAULTS[j % len(FAULTS)] for j, i in enumerate(sorted(rng.sample(range(n_sites), n_faults)))}
    healthy = [i for i in range(n_sites) if i not in faults]
    profiles = dict(zip(healthy, fit_profiles(len(healthy), rng), strict=True))
    sites, truth = [], []
    for i in range(n_sites):
        lang = "ru" if rng.random() < 0.8 else "en"
        city = rng.choice(vocab["cities"][lang])
        parts = vocab["name_parts"]
        if lang == "ru":
            name = f"{rng.choice(parts['ru_first'])}{rng.choice(parts['ru_second'])}"
            latin = "".join(vocab["translit"].get(ch, ch) for ch in name.lower())
            domain = f"{latin}-{i:03d}.ru"
        else:
            name = f"{rng.choice(parts['en_first'])} {rng.choice(parts['en_second'])}"
            domain = f"{name.lower().replace(' ', '')}-{i:03d}.com"
        slug = f"site-{i:03d}"
        entry = {"slug": slug, "name": name if lang == "en" else f"ООО «{name}»", "city": city,
                 "segment": rng.choice(vocab["segments"]), "language": lang, "domain": domain,
                 "encoding": "cp1251" if lang == "ru" and rng.random() < 0.12 else "utf-8",
                 "fault": faults.get(i), "render_only": []}
        row = {"slug": slug, **dict.fromkeys(CHANNELS, None), "chat_vendor": "", "render_only": "", "notes": ""}
        if i in profiles:
            writer = SiteWriter(rng, vocab, entry, profiles[i])
            pages = writer.build()
            root = out_dir / "sites" / slug
            for path, html in pages.items():
                target = root / (path.lstrip("/") + "index.html" if path.endswith("/") else path.lstrip("/"))
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(html.encode(entry["encoding"], "xmlcharrefreplace"))
            entry["render_only"] = writer.render_only
            row.update(profiles[i])
            row.update(chat_vendor=writer.chat_vendor, render_only=",".join(writer.render_only),
                       notes="; ".join(writer.notes))
        else:
            row["notes"] = f"fault: {entry['fault']}"
            if entry["fault"] == "robots_deny":
                root = out_dir / "sites" / slug
                root.mkdir(parents=True, exist_ok=True)
                (root / "index.html").write_text("<html><body>robots deny</body></html>", encoding="utf-8")
        sites.append(entry)
        truth.append(row)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "market.json").write_text(json.dumps({"synthetic": True, "seed": seed, "sites": sites},
                                                    ensure_ascii=False, indent=1), encoding="utf-8")
    truth_frame = pd.DataFrame(truth)
    truth_frame.to_csv(out_dir / "truth.csv", index=False, encoding="utf-8")
    companies = pd.DataFrame([{k: s[k] for k in ("slug", "name", "city", "segment", "domain", "language")}
                              for s in sites])
    companies.to_csv(out_dir / "companies.csv", index=False, encoding="utf-8")
    return Market(out_dir, sites, truth_frame)
