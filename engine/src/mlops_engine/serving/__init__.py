"""The prediction service (BentoML) and what it needs: the model store with lineage, the
request schema generated from the contract, middlewares, the batching correction, the
prediction log and the Bento build. ``bentoml serve mlops_engine.serving.service:Predictor``.
"""
