"""The service's lean path at startup (refuses a copy that differs) and its prediction log
(column lists from the lean path, frames from the pipeline path)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from mlops_engine import storage
from mlops_engine.serving import lean, model_store
from mlops_engine.serving.prediction_log import PredictionLogger, read_logs


class Clipped(Pipeline):
    """A pipeline whose predict does more than its steps (the lean copy cannot know)."""

    def predict(self, X, **params):
        return np.maximum(super().predict(X, **params), 10.0)


@pytest.mark.example  # the bundled example's booster compiles; a classifier is served as is
def test_the_service_serves_the_lean_path_and_refuses_a_copy_that_differs(
    service, model, params, tmp_path
):
    import bentoml

    ok = service.Predictor.inner.__new__(service.Predictor.inner)
    service.Predictor.inner.__init__(ok)
    assert ok.lean is not None

    path = tmp_path / "model.joblib"
    storage.write_model(Clipped(model.steps), path)
    lineage = model_store.Lineage("0" * 40, model_store.md5_of(path), {}, {}, {})
    tag = model_store.save(path, "clipped", lineage)
    refused = service.Predictor.inner.__new__(service.Predictor.inner)
    refused.model_ref = bentoml.models.get(tag)  # this instance's model: the clipped one
    with pytest.raises(lean.EquivalenceError, match="differs from the pipeline"):
        service.Predictor.inner.__init__(refused)


def test_prediction_log_takes_column_lists_and_frames(tmp_path):
    sink = str(tmp_path / "logs")
    logger = PredictionLogger(sink, "v1", flush_rows=1000, flush_seconds=30)
    logger.log({"hr": [1, 2], "mnth": ["Jan", "Feb"]}, [1.0, 2.0])
    logger.log(pd.DataFrame({"hr": [3], "mnth": ["March"]}), [3.0])
    logger.log({"hr": [4], "mnth": ["April"]}, [4.0])
    with pytest.raises(ValueError, match="2 rows but 1 predictions"):
        logger.log({"hr": [5, 6], "mnth": ["May", "June"]}, [5.0])
    logger.close()
    frame = read_logs(sink)
    assert frame["hr"].tolist() == [1, 2, 3, 4]
    assert frame["mnth"].tolist() == ["Jan", "Feb", "March", "April"]
    assert frame["prediction"].tolist() == [1.0, 2.0, 3.0, 4.0]
    files = list((tmp_path / "logs").glob("date=*/*.parquet"))
    assert logger.written == 4 and len(files) == 2  # the column lists' file, the frames' file


def test_column_lists_are_logged_as_the_same_columns_as_frames(tmp_path):
    """The lean path's log (Arrow from lists) reads back as the pipeline path's (pandas)."""
    columns = {"hr": [1, 2], "mnth": ["Jan", None], "temp": [0.5, 0.25], "n": [None, 3]}
    back = {}
    for kind, inputs in (("lists", columns), ("frame", pd.DataFrame(columns))):
        logger = PredictionLogger(str(tmp_path / kind), "v1")
        logger.log(inputs, [1.0, 2.0])
        logger.close()
        back[kind] = read_logs(str(tmp_path / kind)).drop(columns="logged_at")
    pd.testing.assert_frame_equal(back["lists"], back["frame"])


def test_logging_column_lists_leaves_nothing_for_the_garbage_collector(tmp_path):
    """Each logged call's values go into the logger's own lists: no container per call
    stays alive until the flush (they set off the young-generation collections that were
    the service's p99 under load)."""
    import gc

    logger = PredictionLogger(str(tmp_path / "logs"), "v1", flush_rows=100_000, flush_seconds=60)
    logger.log({"hr": [0], "mnth": ["Jan"]}, [0.0])
    gc.collect()
    gc.disable()
    try:
        before = gc.get_count()[0]
        for i in range(2000):
            logger.log({"hr": [i], "mnth": ["Jan"]}, [float(i)])
        grown = gc.get_count()[0] - before
    finally:
        gc.enable()
    logger.close()
    assert grown < 200, grown  # was ~6 tracked objects per call
    assert len(read_logs(str(tmp_path / "logs"))) == 2001
