"""gpu/ imports everywhere and answers whether a device is usable without raising."""

import subprocess
import sys

import gpu


def test_gpu_available_is_a_bool_and_cached():
    first = gpu.gpu_available()
    assert isinstance(first, bool)
    assert gpu.gpu_available() is first


def test_gpu_does_not_import_skext():
    code = "import gpu, sys; print(sorted(m for m in sys.modules if m.startswith('skext')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
