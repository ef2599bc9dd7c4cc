"""What the browser proxy (crawler.proxy) costs a rendered page: the same pages rendered by two
Chromium instances side by side, one going direct and one through the proxy, round by round.

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

from chanaudit.crawler.config import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from chanaudit.crawler.proxy import BrowserProxy  # noqa: E402
from chanaudit.crawler.resolver import Resolutions  # noqa: E402
from chanaudit.demo.server import Site, SiteServer  # noqa: E402

BASIC = ROOT / "tests" / "fixtures" / "sites" / "basic"
SCRIPTS = 30


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
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
