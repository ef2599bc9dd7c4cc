"""A SYNTHETIC survey export (Google Forms style, Russian) calibrated to the published 2026 marginals.

53.9% record every request, ~42% every activity, more than a third do not
control SLA (some do not know the term), more than 40% have digital tools and
one in five of those analyses the data; specialised-platform users control SLA
far more often than email-and-spreadsheet users. Not real answers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TOOLS = [("Почта и таблицы", 0.40, 0.50), ("CRM", 0.25, 0.72), ("Специализированная платформа", 0.20, 0.92),
         ("Другое", 0.10, 0.60), ("Нигде не ведём", 0.05, 0.20)]  # answer, share, P(controls SLA): no control ~37%
SIZES = [("1-10", 0.40), ("11-50", 0.35), ("51-250", 0.18), ("250+", 0.07)]
REGIONS = ["Москва", "Санкт-Петербург", "Екатеринбург", "Казань", "Новосибирск", "Самара", "Пермь", "Уфа"]


def generate_survey(n: int = 400, seed: int = 0, websites: list[str] | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tool_idx = rng.choice(len(TOOLS), size=n, p=[t[1] for t in TOOLS])
    tools = [TOOLS[i][0] for i in tool_idx]
    sla_yes = rng.random(n) < np.array([TOOLS[i][2] for i in tool_idx])
    dont_know = (~sla_yes) & (rng.random(n) < 0.15)
    sla = np.where(sla_yes, "Да, контролируем", np.where(dont_know, "Не знаю, что такое SLA", "Нет"))
    record_all = rng.random(n) < 0.539
    # activities are recorded mostly by those who record every request: overall about 42%
    activities = np.where(record_all, rng.random(n) < 0.70, rng.random(n) < 0.09)
    digital = np.isin(tool_idx, [1, 2]) | (rng.random(n) < 0.05)
    analyse = digital & (rng.random(n) < 0.20)
    sites = list(websites or [])
    rng.shuffle(sites)
    site_col = [sites[i] if i < len(sites) and rng.random() < 0.85 else "" for i in range(n)]
    yes_no = np.array(["Нет", "Да"])
    frame = pd.DataFrame({
        "Отметка времени": [f"2026-0{1 + i % 3}-{1 + i % 28:02d} 1{i % 10}:{i % 60:02d}:00" for i in range(n)],
        "Фиксируете ли вы все входящие обращения?": yes_no[record_all.astype(int)],
        "Фиксируете ли вы все действия по обращению (переписка, повторные выезды)?": yes_no[activities.astype(int)],
        "Контролируете ли вы соблюдение SLA?": sla,
        "Где вы ведёте обращения клиентов?": tools,
        "Используете ли вы цифровые инструменты для управления сервисом?": yes_no[digital.astype(int)],
        "Используете ли вы данные из этих инструментов для анализа и управления?":
            np.where(digital, yes_no[analyse.astype(int)], ""),
        "Сколько сотрудников в компании?": rng.choice([s for s, _ in SIZES], size=n, p=[p for _, p in SIZES]),
        "Регион": rng.choice(REGIONS, size=n),
        "Сайт компании": site_col,
        "Ваше имя": [f"Респондент {i}" for i in range(n)],
        "Адрес электронной почты": [f"person{i}@example-survey.ru" for i in range(n)],
    })
    frame.attrs["synthetic"] = True
    return frame
