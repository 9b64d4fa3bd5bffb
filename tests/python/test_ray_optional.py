"""`remotemedia.ray` stays behind its extra: importing `remotemedia` never imports Ray, and without
Ray the module says how to install it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest


def test_importing_remotemedia_never_imports_ray():
    code = "import sys, remotemedia, remotemedia.client; print('ray' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


@pytest.mark.skipif(importlib.util.find_spec("ray") is not None, reason="Ray is installed here")
def test_without_ray_the_module_names_the_extra():
    with pytest.raises(ImportError, match=r'remotemedia.ray needs Ray: pip install "remotemedia\[ray\]"'):
        import remotemedia.ray  # noqa: F401
