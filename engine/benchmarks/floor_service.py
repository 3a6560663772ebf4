"""BentoML's own cost, measured: the project's service with the model taken out.

Same service configuration, middlewares, request schema (validation), batching and GC
settings as ``mlops_engine.serving.service:Predictor``; the API answers a constant instead of
running the pipeline and logs nothing. What it sustains on a core is the most any model
can get through BentoML's request path there (``benchmarks/serving.py --servers floor``).
"""

import bentoml

from mlops_engine.serving import service as real


@bentoml.service(name="floor", **real.Predictor.config)
class Floor:
    def __init__(self) -> None:
        real.tune_worker()

    @bentoml.api(**real.BATCHING)
    def predict(self, records: real.Records) -> real.Predictions:
        return [real.Prediction(prediction=0.0, model_version=real.MODEL_VERSION) for _ in records]


for _middleware, _options in real.Predictor.middlewares:
    Floor.add_asgi_middleware(_middleware, **_options)
