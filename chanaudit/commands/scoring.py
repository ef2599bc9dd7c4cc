"""``chanaudit score DIR``: score, rank, winners and the sensitivity of the ranking."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from chanaudit.commands import console as make_console
from chanaudit.commands.options import OVERRIDES, say_overrides
from chanaudit.errors import friendly_errors


def score(
    audit_dir: Path = typer.Argument(..., help="An audit folder (holds sites.csv)."),
    weights_file: Path = typer.Option(None, "--weights", help="TOML file with a [weights] table."),
    weight: list[str] = typer.Option(None, "--weight", help="Override one weight: channel=value (repeatable)."),
    normalise: bool = typer.Option(False, "--normalise", help="Rescale the weights to sum to 1."),
    top: int = typer.Option(10, "--top", help="How many winners."),
    draws: int = typer.Option(1000, "--draws", help="Weight perturbations for the sensitivity analysis."),
    concentration: float = typer.Option(50.0, "--concentration", help="Dirichlet concentration (larger = smaller moves)."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the perturbations."),
    as_json: bool = typer.Option(False, "--json", help="Print the winners as JSON."),
    overrides: Path = OVERRIDES,
) -> None:
    """Score every site (weighted channels), rank with ties, write scores/top/sensitivity CSVs."""
    from chanaudit.scoring import run
    from chanaudit.scoring.weights import default_weights, load_weights, parse_weights

    with friendly_errors():
        base = load_weights(weights_file, normalise) if weights_file else default_weights()
        weights = parse_weights(weight or [], base, normalise) if weight else base
        result = run(audit_dir, weights, top=top, draws=draws, concentration=concentration, seed=seed,
                     overrides=overrides)
    winners, sens, stats = result.top, result.sensitivity, result.stats
    if as_json:
        typer.echo(winners.to_json(orient="records", force_ascii=False))
        return
    console = make_console()
    share = dict(zip(sens["site_id"], sens["share_top_n"], strict=True))
    table = Table(title=f"top {top} / лучшие {top}  (weights / веса: "
                  + ", ".join(f"{k} {v:g}" for k, v in result.weights.items()) + ")")
    for col in ("rank / место", "site / сайт", "score / балл", "channels / каналы", f"in top {top} / в топ-{top}"):
        table.add_column(col)
    for _, r in winners.iterrows():
        label = r.get("name") or r.get("domain") or r.get("slug") or r.get("final_url") or r.get("url") or r["site_id"]
        present = " ".join(ch for ch in ("email", "phone", "chat", "form", "portal") if r.get(ch) == 1)
        table.add_row(str(r["rank"]), str(label), f"{r['score']:.1f}", present, f"{share.get(r['site_id'], 0):.0%}")
    console.print(table)
    console.print(f"Kendall tau (base vs perturbed scores): mean {stats['kendall_tau_mean']:.3f}, "
                  f"5th percentile {stats['kendall_tau_p05']:.3f} over {draws} draws")
    if overrides is not None:
        say_overrides(console, audit_dir)


def register(app: typer.Typer) -> None:
    app.command("score")(score)
