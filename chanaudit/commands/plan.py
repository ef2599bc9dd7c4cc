"""``chanaudit plan margin|two-sample|paired``: how many sites an audit needs."""

from __future__ import annotations

import typer

from chanaudit.commands import console as make_console
from chanaudit.errors import friendly_errors

plan_app = typer.Typer(help="Sample sizes: a margin of error, two audits of different sites, the same sites "
                            "audited twice.", no_args_is_help=True)
console = make_console()


def _run(design: str, lang: str, **options) -> None:
    from chanaudit.analysis.planning import PlanningError, plan

    with friendly_errors():
        if lang not in ("ru", "en"):
            raise PlanningError(f"--lang {lang}: must be ru or en")
        row = plan(design, **options).iloc[0]
    n = int(row["n_per_group"])
    if design == "margin":
        console.print(f"{n} {'сайтов' if lang == 'ru' else 'sites'}: ±{row['moe']:.1%} at {row['p1']:.1%} "
                      f"({1 - row['alpha']:.0%} {'ДИ' if lang == 'ru' else 'CI'}, {row['method']})")
    elif design == "two-sample":
        per = "сайтов в каждом аудите" if lang == "ru" else "sites per audit"
        console.print(f"{n} {per} ({int(row['n_total'])} in all): {row['p1']:.1%} vs {row['p2']:.1%}, "
                      f"alpha {row['alpha']:g}, power {row['power']:.3f} ({row['method']})")
    else:
        per = "сайтов, проверенных дважды" if lang == "ru" else "sites audited twice"
        console.print(f"{n} {per}: {row['p10']:.1%} drop, {row['p01']:.1%} adopt, alpha {row['alpha']:g}, "
                      f"power {row['power']:.3f} (McNemar, Connor 1987)")


@plan_app.command("margin")
def margin(
    share: float = typer.Option(..., "--share", help="Expected share of sites with the channel, e.g. 0.21."),
    moe: float = typer.Option(..., "--moe", help="Margin of error (half-width of the interval), e.g. 0.05."),
    conf: float = typer.Option(0.95, "--conf", help="Confidence level."),
    deff: float = typer.Option(1.0, "--deff", help="Design effect (1 for a simple random sample of sites)."),
    population: int = typer.Option(None, "--population", help="Sites in the whole market (finite population)."),
    lang: str = typer.Option("ru", "--lang", help="Words of the answer: ru or en."),
) -> None:
    """Sites needed to estimate a share within ± the margin of error."""
    _run("margin", lang, share=share, moe=moe, conf=conf, deff=deff, population=population)


@plan_app.command("two-sample")
def two_sample(
    p1: float = typer.Option(..., "--p1", help="Share in the first audit, e.g. 0.21."),
    p2: float = typer.Option(..., "--p2", help="Share in the second audit (other sites), e.g. 0.31."),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance level (two-sided)."),
    power: float = typer.Option(0.8, "--power", help="Power to detect the difference."),
    ratio: float = typer.Option(1.0, "--ratio", help="Sites in the second audit per site in the first."),
    method: str = typer.Option("pooled", "--method", help="pooled (Fleiss; R power.prop.test) or arcsine "
                                                          "(Cohen's h)."),
    lang: str = typer.Option("ru", "--lang", help="Words of the answer: ru or en."),
) -> None:
    """Sites per audit to detect a difference between two audits of different sites."""
    _run("two-sample", lang, p1=p1, p2=p2, alpha=alpha, power=power, ratio=ratio, method=method)


@plan_app.command("paired")
def paired(
    p10: float = typer.Option(None, "--p10", help="Share of sites expected to drop the channel."),
    p01: float = typer.Option(None, "--p01", help="Share of sites expected to adopt the channel."),
    p1: float = typer.Option(None, "--p1", help="Or: the share in the first audit..."),
    p2: float = typer.Option(None, "--p2", help="...the share in the second audit..."),
    rho: float = typer.Option(None, "--rho", help="...and the correlation of a site's flags between audits."),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance level (two-sided)."),
    power: float = typer.Option(0.8, "--power", help="Power to detect the change."),
    lang: str = typer.Option("ru", "--lang", help="Words of the answer: ru or en."),
) -> None:
    """Sites to audit twice to detect a change with McNemar's test."""
    _run("paired", lang, p10=p10, p01=p01, p1=p1, p2=p2, rho=rho, alpha=alpha, power=power)


def register(app: typer.Typer) -> None:
    app.add_typer(plan_app, name="plan")
