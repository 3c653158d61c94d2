"""The layering of the library (import-linter contracts in pyproject.toml) holds, and the checker can fail."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from eoretrieval.config import repo_root

LINT = Path(sys.executable).with_name("lint-imports")


def _lint(*args: str) -> subprocess.CompletedProcess:
    exe = str(LINT) if LINT.exists() else shutil.which("lint-imports")
    if exe is None:
        pytest.fail("lint-imports not installed: it is in the `test` extra of pyproject.toml")
    return subprocess.run([exe, "--no-cache", *args], cwd=repo_root(), capture_output=True, text=True, timeout=300)


def test_import_contracts_are_kept():
    out = _lint()
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def test_a_broken_contract_is_reported(tmp_path):
    # nox really imports verify (its scores), so forbidding that must be reported as broken
    cfg = tmp_path / "contracts.toml"
    cfg.write_text('[tool.importlinter]\nroot_package = "eoretrieval"\n\n'
                   '[[tool.importlinter.contracts]]\nname = "nox without verify (deliberately false)"\n'
                   'type = "forbidden"\nsource_modules = ["eoretrieval.nox"]\n'
                   'forbidden_modules = ["eoretrieval.verify"]\n')
    out = _lint("--config", str(cfg))
    assert out.returncode != 0 and "BROKEN" in out.stdout.upper()
