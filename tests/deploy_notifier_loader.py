"""Load the deploy notifier Lambda exactly as it ships: from the files `lambda_archive` puts in its zip.

`lambda` is a Python keyword, so the folder is never a package; Lambda puts the zip's root on sys.path and
imports `handler`, which imports its sibling modules (record_email, deployment_record) top-level. Loading
from a copy of the archive's files proves the zip holds everything the handler imports.
"""

from __future__ import annotations

import atexit
import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType

from pulumi import FileAsset

from components.notifier import LAMBDA_SOURCE_DIR, lambda_archive

MODULE = "deploy_notifier_handler"


def load_notifier() -> ModuleType:
    if MODULE in sys.modules:
        return sys.modules[MODULE]
    root = Path(tempfile.mkdtemp(prefix="deploy-notifier-zip-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    for name, asset in lambda_archive(LAMBDA_SOURCE_DIR).assets.items():
        assert isinstance(asset, FileAsset)
        shutil.copyfile(asset.path, root / name)
    sys.path.insert(0, str(root))
    spec = importlib.util.spec_from_file_location(MODULE, root / "handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE] = module
    spec.loader.exec_module(module)
    return module
