"""`make bench`: every benchmark, printed as ratios against its baseline."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_crawl  # noqa: E402
import bench_detect  # noqa: E402
import bench_proxy  # noqa: E402
import bench_queue  # noqa: E402
import bench_review  # noqa: E402

if __name__ == "__main__":
    print("== detectors ==")
    detect = bench_detect.main()
    print("\n== crawler ==")
    crawl = bench_crawl.main(sys.argv[1:])
    print("\n== shared queue ==")
    queue = bench_queue.main([])
    print("\n== browser proxy ==")
    proxy = bench_proxy.main()
    print("\n== review page ==")
    review = bench_review.main()
    out = Path(__file__).resolve().parent / "last-run.json"
    out.write_text(json.dumps({"detect": detect, "crawl": crawl, "queue": queue, "proxy": proxy, "review": review}, indent=2))
    print(f"\nwritten {out}")
