"""upload-artifact stand-in: copy paths relative to their least common ancestor."""

import os
import shutil
from pathlib import Path

paths = [Path(p.strip()).resolve() for p in os.environ["PATHS"].splitlines() if p.strip()]
paths = [p for p in paths if p.exists()]
dest = Path(os.environ["STANDIN_ARTIFACTS"]) / os.environ["NAME"]
shutil.rmtree(dest, ignore_errors=True)
root = Path(os.path.commonpath([p if p.is_dir() else p.parent for p in paths])) if paths else None
if root is not None and len(paths) == 1 and paths[0].is_dir():
    root = paths[0]
for p in paths:
    target = dest / p.relative_to(root)
    if p.is_dir():
        shutil.copytree(p, target, dirs_exist_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(p, target)
with open(os.environ["GITHUB_OUTPUT"], "a") as out:
    out.write(f"url=file://{dest}\n")
