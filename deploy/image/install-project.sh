#!/bin/sh
# Run by the image's Dockerfile (BentoML: [tool.bentoml.build.docker] setup_script) after
# BentoML's own RUN has installed BentoML's server (deploy/image/requirements.txt). One RUN,
# hence one layer, that:
# 1. installs the serving set (src/build/requirements.txt: uv.lock's serve groups, exported by
#    `mlops build`), then the project's and the engine's wheels without their dependencies (the pipeline's:
#    DVC, Evidently, matplotlib; the image serves only);
# 2. deletes what serving never reads, in this same layer (a later RUN would only hide it):
#    the packages' test suites (`tests` directories, ~100 MB with their bytecode: pandas/tests
#    alone 37 MB) and pyarrow's C++ headers and Cython sources (for building extensions).
set -eu
uv pip install -r ./src/build/requirements.txt
uv pip install --no-deps ./src/build/dist/*.whl
site=$(python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
find "$site" -type d -name tests -prune -exec rm -rf {} +
rm -rf "$site/pyarrow/include" "$site/pyarrow/src"
find "$site/pyarrow" -type f \( -name '*.pxd' -o -name '*.pyx' -o -name '*.pxi' \) -delete
