"""Review decisions (overrides) and how they flow through score, analyze, reproduce, compare, validate and
report. The audits are SYNTHETIC: six sites written by hand, so every expected number is counted by hand."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from chanaudit.cli import app
from chanaudit.core.folder import AuditFolder
from chanaudit.core.overrides import (
    OverridesError,
    apply_to_folder,
    audit_id,
    host_key,
    read_overrides,
)
from chanaudit.core.tables import read_csv, write_csv

STARTED = "2026-11-27T10:00:00+00:00"


def ev(site_id, channel, value, rule=None, counted=True):
    return {"site_id": site_id, "channel": channel, "value": value, "page_url": f"https://www.firm{site_id}.ru/",
            "page_role": "home", "method": "text", "rule": rule or f"{channel}.text", "snippet": value, "detail": "",
            "counted": counted}


def make_audit(path, city=True):
    """Six SYNTHETIC sites. Flags (email phone chat form portal):
    1: 1 1 0 1 0 (emails a@ and b@, one phone, a request form)   3: 0 1 0 0 0
    2: 1 0 1 0 1 (one email, jivo, a portal)                      4: timeout
    5: 1 1 0 0 0 (one email, one phone; a hidden email)           6: 1 1 1 1 1
    """
    flags = {1: (1, 1, 0, 1, 0), 2: (1, 0, 1, 0, 1), 3: (0, 1, 0, 0, 0), 5: (1, 1, 0, 0, 0), 6: (1, 1, 1, 1, 1)}
    rows = []
    for sid in range(1, 7):
        row = {"site_id": sid, "input": f"firm{sid}.ru", "url": f"http://firm{sid}.ru/",
               "final_url": f"https://www.firm{sid}.ru/", "status": "ok" if sid != 4 else "timeout",
               "status_detail": "", "http_status": 200, "pages": 2, "rendered": 0}
        f = flags.get(sid)
        row.update(dict(zip(["email", "phone", "chat", "form", "portal"], f or (None,) * 5, strict=True)))
        row["channels"] = sum(f) if f else None
        row["score"] = None
        row["name"] = f"Фирма {sid}"
        if city:
            row["city"] = "Москва" if sid % 2 else "Казань"
        rows.append(row)
    evidence = [ev(1, "email", "a@firm1.ru"), ev(1, "email", "b@firm1.ru"), ev(1, "phone", "+74951234567"),
                ev(1, "form", "request", "form.request"), ev(2, "email", "info@firm2.ru"), ev(2, "chat", "jivo", "chat.jivo"),
                ev(2, "portal", "https://lk.firm2.ru/", "portal.link_words"), ev(3, "phone", "+74957654321"),
                ev(5, "email", "x@firm5.ru"), ev(5, "email", "hidden@firm5.ru", "email.jsonld", counted=False),
                ev(5, "phone", "+74950000001"), ev(2, "messenger", "telegram", "messenger.telegram"),
                *[ev(6, ch, v) for ch, v in (("email", "m@firm6.ru"), ("phone", "+74950000006"), ("chat", "jivo"),
                                              ("form", "request"), ("portal", "https://lk.firm6.ru/"))]]
    folder = AuditFolder(path)
    folder.write(AuditFolder.SITES, pd.DataFrame(rows))
    folder.write(AuditFolder.EVIDENCE, pd.DataFrame(evidence))
    folder.write_json(AuditFolder.MANIFEST, {"started": STARTED, "input": {"sha256": "ab" * 32,
                                                                           "passthrough": ["name", "city"]},
                                             "config": {}, "counts": {"ok": 5, "timeout": 1}})
    return folder


def overrides_file(path, rows, name="overrides.csv"):
    frame = pd.DataFrame(rows)
    target = path / name
    write_csv(frame, target)
    return target


@pytest.fixture
def audit(tmp_path):
    return make_audit(tmp_path / "audit")


def flags(sites, sid):
    row = sites[sites["site_id"] == sid].iloc[0]
    return tuple(int(row[c]) for c in ("email", "phone", "chat", "form", "portal"))


# --- the rules -------------------------------------------------------------------------------------------------

def test_rejecting_the_only_finding_sets_the_channel_to_0_one_of_two_keeps_it(audit, tmp_path):
    path = overrides_file(tmp_path, [
        {"site_id": 1, "channel": "email", "value": "reject", "finding": "a@firm1.ru"},  # b@ is left: stays 1
        {"site_id": 1, "channel": "form", "value": "reject", "finding": "request"},  # the only one: 0
        {"site_id": 5, "channel": "email", "value": "reject", "finding": "x@firm5.ru"},  # a hidden one is left: 0
        {"site_id": 2, "channel": "portal", "value": "reject", "finding": ""},  # every finding of the channel: 0
    ])
    applied = apply_to_folder(audit, path, "test")
    assert flags(applied.sites, 1) == (1, 1, 0, 0, 0)
    assert flags(applied.sites, 5) == (0, 1, 0, 0, 0)  # hidden findings never set a channel
    assert flags(applied.sites, 2) == (1, 0, 1, 0, 0)
    d = applied.decisions.set_index(["site_id", "channel"])
    assert d.loc[(1, "email"), ["detected", "value", "changed"]].tolist() == [1, 1, 0]
    assert d.loc[(1, "form"), ["detected", "value", "changed", "action"]].tolist() == [1, 0, 1, "reject"]
    assert d.loc[(2, "portal"), "findings_rejected"] == "https://lk.firm2.ru/"
    assert applied.changed == 3 and applied.by_channel() == {"email": 1, "phone": 0, "chat": 0, "form": 1, "portal": 1}
    # the evidence keeps the detector's finding and the human decision on it
    reviewed = read_csv(audit.csv(AuditFolder.EVIDENCE_REVIEWED))
    assert len(reviewed) == len(read_csv(audit.evidence))
    mark = reviewed.set_index(["site_id", "value"])["decision"].fillna("")
    assert mark[(1, "a@firm1.ru")] == "rejected" and mark[(1, "b@firm1.ru")] == "" and \
        mark[(2, "https://lk.firm2.ru/")] == "rejected"
    # channels and per-site counts recomputed; the failed site untouched
    row = applied.sites.set_index("site_id")
    assert row.loc[1, "channels"] == 2 and row.loc[1, "overridden"] == 1 and row.loc[1, "reviewed"] == 2
    assert row.loc[4, "status"] == "timeout" and pd.isna(row.loc[4, "email"])


def test_set_by_hand_confirm_and_the_later_line_wins(audit, tmp_path):
    path = overrides_file(tmp_path, [
        {"site_id": 3, "channel": "portal", "value": "0", "note": "first thought"},
        {"site_id": 3, "channel": "portal", "value": "1", "note": "lk.firm3.ru in the footer", "reviewer": "ann",
         "time": "2026-11-27T11:00:00Z"},
        {"site_id": 3, "channel": "phone", "value": "confirm"},
        {"site_id": 2, "channel": "chat", "value": "reject"},
        {"site_id": 2, "channel": "chat", "value": "да", "note": "the widget is real"},  # a set beats a reject
    ])
    applied = apply_to_folder(audit, path, "test")
    assert flags(applied.sites, 3) == (0, 1, 0, 0, 1) and flags(applied.sites, 2) == (1, 0, 1, 0, 1)
    d = applied.decisions.set_index(["site_id", "channel"])
    assert d.loc[(3, "portal"), ["value", "action", "note", "reviewer", "source"]].tolist() == [
        1, "set", "lk.firm3.ru in the footer", "ann", "overrides.csv:3"]
    assert d.loc[(3, "phone"), ["value", "changed", "action"]].tolist() == [1, 0, "confirm"]
    assert applied.summary()["actions"] == {"set": 2, "confirm": 1, "reject": 0}  # per channel, the final word
    manual = applied.evidence[applied.evidence["rule"] == "review.manual"]
    assert sorted(zip(manual["site_id"], manual["channel"], manual["value"], strict=True)) == [
        (2, "chat", "1"), (3, "portal", "1")]


def test_bad_rows_are_named_by_line_and_nothing_is_applied(audit, tmp_path):
    before = audit.manifest_path.read_text(encoding="utf-8")
    path = overrides_file(tmp_path, [
        {"site_id": 1, "domain": "", "channel": "email", "value": "1"},  # line 2: fine
        {"site_id": 99, "domain": "", "channel": "email", "value": "1"},  # 3: no such site
        {"site_id": "", "domain": "nowhere.ru", "channel": "email", "value": "1"},  # 4
        {"site_id": 1, "domain": "", "channel": "fax", "value": "1"},  # 5: no such channel
        {"site_id": 1, "domain": "", "channel": "email", "value": "maybe"},  # 6
        {"site_id": 4, "domain": "", "channel": "email", "value": "1"},  # 7: not audited
        {"site_id": 1, "domain": "", "channel": "email", "value": "reject", "finding": "zz@firm1.ru"},  # 8
        {"site_id": 2, "domain": "firm1.ru", "channel": "email", "value": "1"},  # 9: two different sites
    ])
    with pytest.raises(OverridesError) as err:
        apply_to_folder(audit, path, "test")
    message = str(err.value)
    assert "7 of 8 rows cannot be applied, nothing was applied" in message
    for line, why in ((3, "no site with site_id '99'"), (4, "no site with the domain 'nowhere.ru'"),
                      (5, "channel 'fax' is not one of email, phone, chat, form, portal"),
                      (6, "value 'maybe' is not 1, 0, confirm or reject"), (7, "site 4 was not audited (status timeout)"),
                      (8, "site 1 has no email finding 'zz@firm1.ru' (it has: a@firm1.ru, b@firm1.ru)"),
                      (9, "site_id 2 is 'firm2.ru', not the domain 'firm1.ru'")):
        assert f"{path}:{line}: {why}" in message, (line, message)
    assert f"{path}:2:" not in message
    assert not audit.has(AuditFolder.OVERRIDES_APPLIED) and audit.manifest_path.read_text(encoding="utf-8") == before


def test_sites_by_domain_any_spelling_and_another_audit_refused(audit, tmp_path):
    assert host_key("HTTPS://WWW.Firm1.ru/contacts") == "firm1.ru" and host_key("пример.рф") == "xn--e1afmkfd.xn--p1ai"
    assert host_key("127.0.0.1:8001") == "127.0.0.1:8001" and host_key("") == ""
    path = overrides_file(tmp_path, [{"domain": "https://www.FIRM3.ru/x", "channel": "chat", "value": 1},
                                     {"domain": "firm5.ru", "channel": "email", "value": 0}])
    applied = apply_to_folder(audit, path, "test", write=False)
    assert flags(applied.sites, 3)[2] == 1 and flags(applied.sites, 5)[0] == 0
    mine = audit_id(audit)
    assert len(mine) == 16
    other = overrides_file(tmp_path, [{"site_id": 1, "channel": "email", "value": 0, "audit": mine},
                                      {"site_id": 1, "channel": "phone", "value": 0, "audit": "0123456789abcdef"}],
                           "other.csv")
    with pytest.raises(OverridesError, match=r"other\.csv:3: exported for audit 0123456789abcdef, not this one"):
        apply_to_folder(audit, other, "test")


def test_the_same_list_audited_twice_gets_two_audit_ids(tmp_path):
    a, b = make_audit(tmp_path / "a"), make_audit(tmp_path / "b")
    assert audit_id(a) == audit_id(b)  # same input checksum, same start time
    manifest = b.manifest()
    manifest["started"] = "2026-11-28T10:00:00+00:00"
    b.write_json(AuditFolder.MANIFEST, manifest)
    assert audit_id(a) != audit_id(b)


def test_an_xlsx_file_and_neutralised_cells(audit, tmp_path):
    from chanaudit.core.tables import write_xlsx

    frame = pd.DataFrame([{"site_id": 1, "channel": "phone", "value": "reject", "finding": "+74951234567",
                           "note": "=a bank's number"}])
    path = write_xlsx({"decisions": frame}, tmp_path / "decisions.xlsx")
    applied = apply_to_folder(audit, path, "test", write=False)
    assert flags(applied.sites, 1)[1] == 0 and applied.decisions.iloc[0]["note"] == "=a bank's number"
    csv = overrides_file(tmp_path, [{"site_id": 1, "channel": "phone", "value": "reject", "finding": "+74951234567"}])
    assert "'+74951234567" in csv.read_text(encoding="utf-8-sig")  # written neutralised, read back as it was
    assert flags(apply_to_folder(audit, csv, "test", write=False).sites, 1)[1] == 0


def test_a_file_without_the_needed_columns(audit, tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("domain,email\nfirm1.ru,1\n", encoding="utf-8")
    with pytest.raises(OverridesError, match="needs the columns site_id or domain, channel and value"):
        read_overrides(path, audit.read_sites())


# --- the stages ---------------------------------------------------------------------------------------------------

DECISIONS = [  # email of site 1 stays (b@ left); form of 1 -> 0; portal of 3 -> 1; chat of 6 -> 0; confirm phone 5
    {"site_id": 1, "channel": "email", "value": "reject", "finding": "a@firm1.ru"},
    {"site_id": 1, "channel": "form", "value": "reject", "finding": "request"},
    {"site_id": 3, "channel": "portal", "value": "1", "note": "by hand"},
    {"site_id": 6, "channel": "chat", "value": "0"},
    {"site_id": 5, "channel": "phone", "value": "confirm"},
]


def test_score_with_overrides(audit, tmp_path):
    from chanaudit.scoring import run

    path = overrides_file(tmp_path, DECISIONS)
    result = run(audit, draws=20, overrides=path)
    scores = result.scores.set_index("site_id")
    # hand: site 1 email + phone = 0.2; site 3 phone + portal = 0.5; site 6 all but chat = 0.8
    assert scores.loc[[1, 3, 6], "score"].tolist() == [0.2, 0.5, 0.8]
    assert scores.loc[[1, 3, 6, 2], "overridden"].tolist() == [1, 1, 1, 0]
    assert "overridden" in result.top and "overridden" in result.sensitivity
    saved = json.loads(audit.file(AuditFolder.SCORING).read_text(encoding="utf-8"))
    assert saved["overrides"]["changed"] == 3 and saved["overrides"]["reviewed"] == 5
    assert audit.manifest()["overrides"]["stages"] == ["score"]
    plain = run(audit, draws=20)  # without: the detector's answers, no column
    assert plain.scores.set_index("site_id").loc[1, "score"] == 0.4 and "overridden" not in plain.scores


def test_analyze_and_reproduce_with_overrides(audit, tmp_path):
    from chanaudit.analysis import reproduce_study, run

    path = overrides_file(tmp_path, DECISIONS)
    tables = run(audit, by=["city"], min_group_n=1, overrides=path)
    prev = tables[AuditFolder.PREVALENCE].set_index("channel")
    # hand, over the 5 audited sites: form 2 -> 1, portal 2 -> 3, chat 2 -> 1, email 4, phone 4
    assert prev["k"].to_dict() == {"email": 4, "phone": 4, "chat": 1, "form": 1, "portal": 3}
    assert prev["overridden"].to_dict() == {"email": 0, "phone": 0, "chat": 1, "form": 1, "portal": 1}
    assert (tables[AuditFolder.CHANNEL_COUNTS]["overridden"] == 3).all()
    groups = tables[AuditFolder.groups("city")]
    assert "overridden" in groups and "overridden" in tables[AuditFolder.group_tests("city")]
    assert read_csv(audit.csv(AuditFolder.PREVALENCE)).set_index("channel").loc["portal", "k"] == 3
    done = reproduce_study(audit, overrides=path)
    table = done.table.set_index("figure_id")
    assert table.loc["portal", "k"] == 3 and (done.table["overridden"] == 3).all()
    assert audit.manifest()["overrides"]["stages"] == ["analyze", "reproduce"]


def test_reproduce_refuses_overrides_on_a_survey_file(tmp_path):
    from chanaudit.analysis import reproduce_study
    from chanaudit.core.errors import InvalidOption

    survey = tmp_path / "survey.csv"
    survey.write_text("records_all\n1\n", encoding="utf-8")
    with pytest.raises(InvalidOption, match="not an audit folder"):
        reproduce_study(survey, "okdesk-2026-survey", overrides=tmp_path / "x.csv")


def test_compare_with_one_file_per_audit(tmp_path):
    from chanaudit.analysis.paired import compare_audits
    from chanaudit.core.errors import InvalidOption

    old, new = make_audit(tmp_path / "old"), make_audit(tmp_path / "new")
    path = overrides_file(tmp_path, [{"domain": "firm3.ru", "channel": "portal", "value": 1},
                                     {"domain": "firm1.ru", "channel": "form", "value": "reject"}])
    result = compare_audits([old, new], tmp_path / "cmp", overrides=["-", path])
    row = result.compare.set_index("channel")
    assert row.loc["portal", ["adopted", "dropped", "overridden"]].tolist() == [1, 0, 1]
    assert row.loc["form", ["adopted", "dropped", "overridden"]].tolist() == [0, 1, 1]
    assert row.loc["email", ["adopted", "dropped", "overridden"]].tolist() == [0, 0, 0]
    assert "overridden" in read_csv(tmp_path / "cmp" / AuditFolder.csv_name(AuditFolder.COMPARE))
    with pytest.raises(InvalidOption, match="1 files for 2 audits"):
        compare_audits([old, new], tmp_path / "cmp", overrides=[path])


def test_validate_takes_overrides_as_the_human_labels(audit, tmp_path):
    from chanaudit.analysis.validation import is_overrides_file, validate_audit

    path = overrides_file(tmp_path, [
        {"site_id": 1, "channel": "form", "value": "reject"},  # detector 1, human 0: a false positive
        {"site_id": 2, "channel": "form", "value": "confirm"},  # 0 and 0
        {"site_id": 6, "channel": "form", "value": "confirm"},  # 1 and 1
        {"site_id": 3, "channel": "form", "value": "1"},  # detector 0, human 1: missed
        {"site_id": 5, "channel": "email", "value": "confirm"},
    ])
    assert is_overrides_file(path)
    result = validate_audit(audit, path, tmp_path / "val")
    row = result.validation.set_index("channel").loc["form"]
    assert row[["n", "tp", "fp", "fn", "tn"]].tolist() == [4, 1, 1, 1, 1]
    email = result.validation.set_index("channel").loc["email"]
    assert email[["n", "tp"]].tolist() == [1, 1]
    assert result.validation.set_index("channel").loc["chat", "n"] == 0  # nobody decided on chat
    assert not audit.has(AuditFolder.OVERRIDES_APPLIED)  # validation reads, never writes the audit


@pytest.mark.slow
def test_report_with_overrides(audit, tmp_path):
    from chanaudit.reports import build

    path = overrides_file(tmp_path, DECISIONS)
    paths = build(audit, "en", formats=("png",), chromium=None, min_group_n=1, overrides=path)
    html = paths.html.read_text(encoding="utf-8")
    assert "Review decisions" in html and "channel values changed: 3 (3 sites), decisions: 5" in html
    assert "Values changed by review: 3." in html
    assert "<td class='num'>60.0%</td>" in html  # portal, 3 of 5 after review (2 of 5 before)
    assert "href='review.html'" in html
    assert "Highest-scoring companies" not in html  # scoring never ran here: no scores to recompute
    page = paths.review_html.read_text(encoding="utf-8")
    assert '"seed":[[1,"email","reject","a@firm1.ru"' in page  # the page opens with the decisions
    plain = build(audit, "en", formats=("png",), chromium=None, out=tmp_path / "plain")
    text = plain.html.read_text(encoding="utf-8")
    assert "Review decisions" not in text and "<td class='num'>40.0%</td>" in text


def test_cli_overrides_and_a_named_error(audit, tmp_path):
    runner = CliRunner()
    good = overrides_file(tmp_path, DECISIONS)
    res = runner.invoke(app, ["score", str(audit), "--overrides", str(good), "--draws", "10"])
    assert res.exit_code == 0, res.output
    assert "overrides: 5 decisions" in res.output and "changed 3 (chat 1, form 1, portal 1) in 3 sites" in res.output
    res = runner.invoke(app, ["analyze", str(audit), "--overrides", str(good), "--lang", "en"])
    assert res.exit_code == 0 and "overrides: 5 decisions" in res.output
    bad = overrides_file(tmp_path, [{"site_id": 77, "channel": "email", "value": 1}], "bad.csv")
    res = runner.invoke(app, ["score", str(audit), "--overrides", str(bad)])
    assert res.exit_code == 2 and f"error: {bad}: 1 of 1 rows cannot be applied" in res.output
    assert f"{bad}:2: no site with site_id '77'" in res.output and "Traceback" not in res.output
