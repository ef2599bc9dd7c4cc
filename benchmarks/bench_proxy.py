"""What the browser proxy (crawler.proxy) costs a rendered page: the same pages rendered by two
Chromium instances side by side, one going direct and one through the proxy, round by round.
Then what third-party scripts (on by default since issue 17) cost a rendered page, and what reading
the viewport's corners (crawler.browser.CORNERS_JS) costs.

Pages are served on 127.0.0.1 by the demo server (so the proxy runs with allow_private: the
rule is checked all the same, and lets loopback through): the synthetic `basic` fixture's home
page, and a heavier synthetic page with 30 same-host scripts of 20 KB (31 connections' worth
of relaying). Each render is what the crawler does: a new tab in one context, goto until
`load`, the page's HTML. No latency is added: the proxy's share is at its largest here.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chanaudit.crawler.browser import BrowserPolicy, RenderWatch  # noqa: E402
from chanaudit.crawler.config import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from chanaudit.crawler.proxy import BrowserProxy  # noqa: E402
from chanaudit.crawler.resolver import Resolutions  # noqa: E402
from chanaudit.demo.server import Site, SiteServer  # noqa: E402

BASIC = ROOT / "tests" / "fixtures" / "sites" / "basic"
TYPICAL = ROOT / "benchmarks" / "pages" / "typical-200kb.html"
SCRIPTS = 30
#: Seconds every answer of the third-party hosts (tag manager, chat vendor) waits: a CDN's round trip.
THIRD_PARTY_LATENCY = 0.1


def heavy_site(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    body = "".join(f"<script src='/s{i}.js'></script>" for i in range(SCRIPTS))
    (folder / "index.html").write_text(f"<html><body><h1>Heavy</h1>{body}<p>{'text ' * 4000}</p></body></html>",
                                       encoding="utf-8")
    for i in range(SCRIPTS):
        (folder / f"s{i}.js").write_text(f"var v{i} = '{'x' * 20000}';", encoding="utf-8")
    return folder


async def measure(urls: dict[str, str], rounds: int) -> dict:
    from playwright.async_api import async_playwright

    with BrowserProxy(Resolutions(), allow_private=True) as proxy:
        async with async_playwright() as pw:
            browsers = {
                "direct": await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS),
                "proxy": await pw.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *proxy.browser_args()]),
            }
            contexts = {name: await b.new_context() for name, b in browsers.items()}

            async def render(way: str, url: str) -> float:
                t0 = time.perf_counter()
                page = await contexts[way].new_page()
                await page.goto(url, wait_until="load")
                await page.content()
                await page.close()
                return (time.perf_counter() - t0) * 1000

            times = {(page, way): [] for page in urls for way in browsers}
            for _page, url in urls.items():  # warm both: first launch, first connection
                for way in browsers:
                    await render(way, url)
            for _ in range(rounds):
                for page, url in urls.items():
                    for way in browsers:
                        times[(page, way)].append(await render(way, url))
            for b in browsers.values():
                await b.close()
        relayed = proxy.stats["relayed"]
    out = {}
    for page in urls:
        direct, proxied = times[(page, "direct")], times[(page, "proxy")]
        out[page] = {
            "direct_median_ms": round(statistics.median(direct), 1),
            "proxy_median_ms": round(statistics.median(proxied), 1),
            "direct_min_ms": round(min(direct), 1),
            "proxy_min_ms": round(min(proxied), 1),
            "ratio_median": round(statistics.median(proxied) / statistics.median(direct), 3),
        }
    out["proxy_connections_relayed"] = relayed
    out["rounds"] = rounds
    return out


def tag_manager_sites(third_party: SiteServer) -> list[Site]:
    """SYNTHETIC: a page whose GTM-like snippet loads a tag manager from another host, which injects
    a chat vendor's loader from a third host (it draws a launcher in the corner) and Yandex Metrika
    (on the browser's blocked list: never fetched, no name looked up); and the fixed typical page of
    bench_detect (1,531 elements), its Google Tag Manager snippet pointed at the same tag manager."""
    vendor = third_party.url("vendor").rstrip("/")
    tags = third_party.url("tags").rstrip("/")
    third_party.sites["vendor"].routes["/loader.js"] = ("application/javascript", (
        b"var d=document.createElement('div');d.className='fab';d.textContent='Chat with us';"
        b"var st=document.createElement('style');st.textContent='.fab{position:fixed;bottom:20px;right:20px}';"
        b"document.head.appendChild(st);document.body.appendChild(d);"))
    third_party.sites["tags"].routes["/gtm.js"] = ("application/javascript", (
        "['" + vendor + "/loader.js','https://mc.yandex.ru/metrika/tag.js'].forEach(function(u){"
        "var s=document.createElement('script');s.async=true;s.src=u;document.head.appendChild(s);});").encode())
    page = (BASIC / "index.html").read_text(encoding="utf-8").replace("</body>", (
        "<script>(function(w,d,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':new Date().getTime()});"
        f"var s=d.createElement('script');s.async=true;s.src='{tags}/gtm.js?id='+i;d.head.appendChild(s);"
        "})(window,document,'dataLayer','GTM-BENCH');</script></body>"))
    # the typical page's own GTM snippet, pointed at the local tag manager (nothing leaves the machine)
    typical = TYPICAL.read_text(encoding="utf-8").replace("https://www.googletagmanager.com/gtm.js", f"{tags}/gtm.js")
    assert f"{tags}/gtm.js" in typical
    return [Site("tm", routes={"/": ("text/html", page.encode("utf-8"))}),
            Site("typical", routes={"/": ("text/html", typical.encode("utf-8"))})]


async def measure_third_party(urls: dict[str, str], rounds: int) -> dict:
    """Each page rendered as the crawler renders it (through the proxy, the browser policy as the route
    handler, the page's RenderWatch attached; goto until `load`, the corners, the HTML), third-party
    scripts off and on, round by round; plus the corners' own time. The crawler's fixed wait after
    `load` (render_wait_ms) is left out: it is the same either way."""
    from playwright.async_api import async_playwright

    with BrowserProxy(Resolutions(), allow_private=True) as proxy:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *proxy.browser_args()])
            modes = {"off": BrowserPolicy(third_party_scripts=False, allow_private=True),
                     "on": BrowserPolicy(third_party_scripts=True, allow_private=True)}
            contexts = {mode: await browser.new_context() for mode in modes}

            async def render(mode: str, url: str) -> tuple[float, float, int, int]:
                policy = modes[mode]

                async def route(r, request):
                    await (r.abort() if await policy(request) else r.continue_())

                t0 = time.perf_counter()
                page = await contexts[mode].new_page()
                watch = RenderWatch(policy)
                for event, handler in watch.handlers().items():
                    page.on(event, handler)
                await page.route("**", route)
                await page.goto(url, wait_until="load")
                t1 = time.perf_counter()
                await watch.read_corners(page)
                t2 = time.perf_counter()
                await page.content()
                await page.close()
                corners = len((watch.corners or {}).get("corners") or [])
                return (time.perf_counter() - t0) * 1000, (t2 - t1) * 1000, corners, watch.attempted

            times = {(page, mode): [] for page in urls for mode in modes}
            corner_ms = {page: [] for page in urls}
            seen = {}
            for url in urls.values():  # warm up
                for mode in modes:
                    await render(mode, url)
            for _ in range(rounds):
                for page, url in urls.items():
                    for mode in modes:
                        total, corners_ms, corners, attempted = await render(mode, url)
                        times[(page, mode)].append(total)
                        corner_ms[page].append(corners_ms)
                        seen[(page, mode)] = (corners, attempted)
            await browser.close()
    out = {}
    for page in urls:
        off, on = times[(page, "off")], times[(page, "on")]
        out[page] = {
            "off_median_ms": round(statistics.median(off), 1), "on_median_ms": round(statistics.median(on), 1),
            "off_min_ms": round(min(off), 1), "on_min_ms": round(min(on), 1),
            "ratio_median": round(statistics.median(on) / statistics.median(off), 3),
            "corners_median_ms": round(statistics.median(corner_ms[page]), 1),
            "corners_off": seen[(page, "off")][0], "corners_on": seen[(page, "on")][0],
            "attempted_off": seen[(page, "off")][1], "attempted_on": seen[(page, "on")][1],
        }
    out["rounds"] = rounds
    out["third_party_latency_s"] = THIRD_PARTY_LATENCY
    return out


def main(argv: list[str] | None = None) -> dict:
    rounds = int(argv[0]) if argv else 20
    with tempfile.TemporaryDirectory() as tmp:
        sites = [Site("basic", root=BASIC), Site("heavy", root=heavy_site(Path(tmp) / "heavy"))]
        with SiteServer(sites) as server:
            result = asyncio.run(measure({"basic": server.url("basic"), "heavy": server.url("heavy")}, rounds))
    for page in ("basic", "heavy"):
        r = result[page]
        print(f"render {page:5}: direct {r['direct_median_ms']:7.1f} ms, through the proxy {r['proxy_median_ms']:7.1f} ms "
              f"(median of {rounds}; x{r['ratio_median']}); minimums {r['direct_min_ms']} / {r['proxy_min_ms']} ms")
    print(f"connections relayed by the proxy: {result['proxy_connections_relayed']}")
    with SiteServer([Site("tags"), Site("vendor")], latency=THIRD_PARTY_LATENCY) as third_party:
        with SiteServer([Site("basic", root=BASIC), *tag_manager_sites(third_party)]) as server:
            urls = {name: server.url(name) for name in ("basic", "tm", "typical")}
            result["third_party"] = third = asyncio.run(measure_third_party(urls, rounds))
    for page in urls:
        r = third[page]
        print(f"render {page:7}: third-party scripts off {r['off_median_ms']:7.1f} ms, on {r['on_median_ms']:7.1f} ms "
              f"(median of {rounds}; x{r['ratio_median']}; minimums {r['off_min_ms']} / {r['on_min_ms']} ms); "
              f"corners read in {r['corners_median_ms']} ms; corners off/on {r['corners_off']}/{r['corners_on']}, "
              f"requests attempted off/on {r['attempted_off']}/{r['attempted_on']}")
    print(f"(third-party hosts answer after {THIRD_PARTY_LATENCY * 1000:.0f} ms; the fixed wait after load is left out)")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
