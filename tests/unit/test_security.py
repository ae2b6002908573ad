"""What a public server must never do with what people send it, checked on the code itself."""

import ast
import tomllib
from pathlib import Path

import numpy as np
import pytest

from core import data, datafiles

ROOT = Path(__file__).resolve().parents[2]
APP_CODE = [ROOT / "Home.py", *sorted((ROOT / "pages").glob("*.py")),
            *sorted((ROOT / "core").glob("*.py"))]
UNPICKLERS = {"pickle", "cPickle", "dill", "cloudpickle", "joblib", "marshal", "shelve"}


def findings(tree: ast.AST) -> list[str]:
    """Unpickling imports, eval/exec, np.load(allow_pickle=True) and raw-HTML output."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in UNPICKLERS]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in UNPICKLERS:
            found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(
                node.func, "id", "")
            if name in ("eval", "exec") and isinstance(node.func, ast.Name):
                found.append(f"{name}()")
            if name == "html":
                found.append(f"{ast.unparse(node.func)}()")
            for kw in node.keywords:
                if kw.arg in ("allow_pickle", "unsafe_allow_html") and not (
                        isinstance(kw.value, ast.Constant) and kw.value.value is False):
                    found.append(f"{kw.arg}={ast.unparse(kw.value)}")
    return found


def test_xsrf_protection_is_on():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["enableXsrfProtection"] is True


@pytest.mark.parametrize("path", APP_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_unpickling_eval_or_raw_html(path):
    assert findings(ast.parse(path.read_text())) == []


def test_the_checker_finds_what_it_looks_for():
    code = ("import pickle\nfrom joblib import load\neval('1')\nst.html('<b>')\n"
            "st.markdown(x, unsafe_allow_html=True)\nnp.load(p, allow_pickle=True)\n")
    assert len(findings(ast.parse(code))) == 6


def test_an_npz_holding_pickled_objects_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    objects = np.array([{"x": 1}] * 4, dtype=object)
    np.savez(path, x_train=objects, y_train=np.zeros(4), x_test=objects, y_test=np.zeros(4))
    with pytest.raises(data.DataError, match="evil.npz"):
        datafiles.read_npz(path, (28, 28))
