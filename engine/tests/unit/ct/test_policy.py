"""The retrain decision and the retraining helpers, without Evidently or files."""

from __future__ import annotations

import pandas as pd
import pytest

from mlops_engine.config import MonitorParams, RetrainParams, TimeWindow
from mlops_engine.ct.challenger import feedback_name, moved_window, new_feedback
from mlops_engine.ct.drift import ColumnDrift, WindowResult, windows
from mlops_engine.ct.policy import decide

NOW = pd.Timestamp("2011-05-01")
TRAINED = {"mae": 20.0}


def _window(share_drifted: float, n_rows: int = 500, mae: float | None = 20.0) -> WindowResult:
    drifted = round(share_drifted * 10)
    columns = [ColumnDrift(f"c{i}", "wasserstein", 0.5, 0.1, i < drifted) for i in range(10)]
    return WindowResult("a", "b", n_rows, n_rows, columns, quality={"mae": mae})


TRAINED_UNTIL = pd.Timestamp("2011-04-01")


def _decide(results, params=None, trained_until=TRAINED_UNTIL, new_rows=700):
    return decide(results, params or MonitorParams(), TRAINED, NOW, trained_until, new_rows)


def test_persistent_drift_retrains():
    d = _decide([_window(0.6), _window(0.6), _window(0.1)])
    assert (d.verdict, d.retrain) == ("drift", True)
    assert any("60% of features drifted" in r for r in d.reasons)


def test_one_drifted_window_is_debounced():
    d = _decide([_window(0.6), _window(0.1), _window(0.1)])
    assert (d.verdict, d.retrain) == ("drift", False)
    assert "debounced" in d.reasons[-1]


def test_no_drift():
    assert _decide([_window(0.2)] * 3).verdict == "no_drift"


def test_quality_loss_alone_counts_as_drift():
    d = _decide([_window(0.0, mae=30.0)] * 3)
    assert d.retrain and any("mae 30 is 50% worse" in r for r in d.reasons)


def test_cool_down_after_the_training_window_blocks_retraining():
    d = _decide([_window(0.9)] * 3, trained_until=pd.Timestamp("2011-04-28"))
    assert (d.verdict, d.retrain) == ("drift", False) and "cool-down" in d.reasons[-1]


def test_nothing_new_to_learn_from_blocks_retraining():
    d = _decide([_window(0.9)] * 3, new_rows=0)
    assert not d.retrain and "no new labelled rows" in d.reasons[-1]


def test_too_few_rows_is_no_verdict():
    d = _decide([_window(0.9, n_rows=10)] * 3)
    assert (d.verdict, d.retrain) == ("insufficient_data", False)


def test_windows_step_back_one_period_each():
    got = windows(NOW, MonitorParams())
    assert got[0] == (pd.Timestamp("2011-04-03"), NOW)
    assert got[1][1] == pd.Timestamp("2011-04-24") and len(got) == 3


def test_debounce_k_cannot_exceed_n():
    with pytest.raises(ValueError, match="drifted"):
        MonitorParams.model_validate({"debounce": {"windows": 2, "drifted": 3}})


@pytest.mark.example
def test_feedback_only_takes_rows_since_the_window_end(params):
    labelled = pd.DataFrame(
        {c: [1, 2, 3] for c in params.contract.columns}
        | {"logged_at": pd.to_datetime(["2011-03-31", "2011-04-01", "2011-04-02"])}
    )
    rows = new_feedback(labelled, params.contract, pd.Timestamp("2011-04-01"))
    assert len(rows) == 2 and feedback_name(rows) == "2011-04-01--2011-04-02.parquet"


def test_window_moves_to_the_day_after_the_newest_row():
    rows = pd.DataFrame({"t": pd.to_datetime(["2011-04-01 05:00", "2011-04-30 23:00"])})
    window = TimeWindow(start=pd.Timestamp("2011-01-01"), end=pd.Timestamp("2011-04-01"))
    assert moved_window(window, rows, "t", RetrainParams()) == {
        "split.window.end": "2011-05-01",
        "split.window.start": "2011-01-01",
    }
    sliding = RetrainParams(window="sliding", keep_days=60)
    assert moved_window(window, rows, "t", sliding)["split.window.start"] == "2011-03-02"


@pytest.mark.example
def test_params_update_keeps_comments_and_refuses_invalid_values(root, tmp_path):
    from mlops_engine import params_file
    from mlops_engine.config import ConfigError, load_params

    path = tmp_path / "params.yaml"
    path.write_text((root / "params.yaml").read_text())
    params_file.update(path, {"split.window.end": "2011-05-01"})
    text = path.read_text()
    # every comment of the project's file survives (whatever the team wrote in it)
    comments = [line.partition("#")[2].strip() for line in (root / "params.yaml").open()]
    assert [c for c in comments if c and c not in text] == []
    assert load_params(path).split.window.end == pd.Timestamp("2011-05-01")
    with pytest.raises(ConfigError):
        params_file.update(path, {"split.test_size": 7})
    assert load_params(path).split.test_size == 0.2, "nothing written on a bad value"


def test_ct_status_makes_silence_visible():
    import datetime as dt

    from mlops_engine.ct.schedule import describe

    now = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    level, text = describe([], now, 8, "ct.yml")
    assert level == "stale" and "never run" in text
    fresh = [{"createdAt": "2026-11-22T03:17:00Z", "conclusion": "success", "url": "u"}]
    assert describe(fresh, now, 8, "ct.yml") == (
        "ok",
        "Last scheduled drift check (ct.yml): 0.9 days ago, success (u)",
    )
    old = [{"createdAt": "2026-09-01T03:17:00Z", "conclusion": "success", "url": "u"}]
    level, text = describe(old, now, 8, "ct.yml")
    assert level == "stale" and "60 days" in text
    failed = [{"createdAt": "2026-11-22T03:17:00Z", "conclusion": "failure", "url": "u"}]
    assert describe(failed, now, 8, "ct.yml")[0] == "stale"


def test_without_a_time_column_retraining_records_how_far_the_feedback_reaches():
    """No time column: the window cannot cut the table, so its end records the newest
    logged_at retraining learned; the same rows are then no longer new (no second PR)."""
    from mlops_engine.contract import LOGGED_AT

    logged = pd.to_datetime(["2026-01-05 10:00:00", "2026-01-09 23:59:59.5"], format="ISO8601")
    rows = pd.DataFrame({"x": [1, 2], LOGGED_AT: logged})
    moved = moved_window(TimeWindow(), rows, None, RetrainParams())
    assert moved == {"split.window.end": "2026-01-09T23:59:59.500001"}
    end = pd.Timestamp(moved["split.window.end"])
    later = pd.Timestamp("2026-01-09 23:59:59.6")  # logged the same day, after: still new
    assert not (logged >= end).any() and later >= end
