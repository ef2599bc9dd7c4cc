"""Serve saved websites on 127.0.0.1, one port each, and write a site list for ``chanaudit audit``.

    python -m chanaudit.demo.serve SITES_DIR --list sites.csv [--domains labels.csv]

Every sub-folder of SITES_DIR with an index.html is a site. With ``--domains``
(a CSV with slug and domain columns, or the realsites labels) each copy is
audited as its public domain. Runs until interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

from chanaudit.core.folder import AuditFolder
from chanaudit.demo.server import Site, SiteServer


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sites_dir", type=Path)
    ap.add_argument("--list", type=Path, default=Path(AuditFolder.csv_name(AuditFolder.SITES)), help="site list to write")
    ap.add_argument("--domains", type=Path, help="CSV with slug,domain columns")
    ap.add_argument("--seconds", type=float, default=0, help="stop after this many seconds (0 = until Ctrl-C)")
    args = ap.parse_args(argv)
    domains = {}
    if args.domains:
        with open(args.domains, encoding="utf-8") as fh:
            domains = {r["slug"]: r.get("domain", "") for r in csv.DictReader(fh)}
    slugs = sorted(p.name for p in args.sites_dir.iterdir() if (p / "index.html").exists())
    with SiteServer([Site(s, root=args.sites_dir / s) for s in slugs]) as server:
        with open(args.list, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["url", "slug", *(["domain"] if domains else [])])
            for slug in slugs:
                writer.writerow([server.url(slug), slug, *([domains.get(slug, "")] if domains else [])])
        print(f"serving {len(slugs)} sites on 127.0.0.1; site list: {args.list}", flush=True)
        deadline = time.monotonic() + args.seconds if args.seconds else None
        try:
            while deadline is None or time.monotonic() < deadline:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
