import pandas as pd
import pytest

from chanaudit.analysis.accuracy import detection_accuracy


def test_detection_accuracy_hand_counts():
    # SYNTHETIC 4 sites; email: found 1,1,0,0 vs truth 1,0,1,0 -> tp1 fp1 fn1 tn1
    audit = pd.DataFrame({"slug": list("abcd"), "status": ["ok"] * 4, "email": [1, 1, 0, 0], "phone": [1] * 4,
                          "chat": [0] * 4, "form": [0] * 4, "portal": [0] * 4})
    truth = pd.DataFrame({"slug": list("abcd"), "email": [1, 0, 1, 0], "phone": [1] * 4, "chat": [0] * 4,
                          "form": [0] * 4, "portal": [0] * 4})
    acc = detection_accuracy(audit, truth).set_index("channel")
    assert acc.loc["email", ["tp", "fp", "fn", "tn"]].tolist() == [1, 1, 1, 1]
    assert acc.loc["email", "precision"] == pytest.approx(0.5)  # hand: 1/(1+1)
    assert acc.loc["phone", "recall"] == 1.0
    assert acc.loc["all", "tp"] == 2  # sites a and d are right on all five
