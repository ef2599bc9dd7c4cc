"""The demo market, a product feature: a generator of a labelled SYNTHETIC market of service-company
websites (:mod:`chanaudit.demo.market`) and of a synthetic survey export (:mod:`chanaudit.demo.survey`),
the local site server that publishes them on 127.0.0.1 (:mod:`chanaudit.demo.server`, also used by
tests and benchmarks; ``python -m chanaudit.demo.serve`` serves a folder), and ``chanaudit demo``'s
run through every stage (:mod:`chanaudit.demo.run`)."""
