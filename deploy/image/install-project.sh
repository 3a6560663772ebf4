#!/bin/sh
# Run by the image's Dockerfile (BentoML: [tool.bentoml.build.docker] setup_script) after the
# serving requirements are installed: the project's wheel and the engine's, without their dependencies
# (those of the pipeline: DVC, Evidently, matplotlib; the image serves only).
set -eu
uv pip install --no-deps ./src/build/dist/*.whl
