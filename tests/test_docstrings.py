"""No docstring or string constant of the library holds a control character (an unescaped \\b, \\a, \\f or \\v in a
non-raw string turns TeX such as ``\\bar`` or ``\\beta`` into a backspace, and the equation fails to render)."""

import ast

from eoretrieval.config import repo_root


def test_no_control_characters_in_library_strings():
    bad = []
    for path in sorted((repo_root() / "src" / "eoretrieval").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if any(c in node.value for c in "\x00\x07\x08\x0b\x0c"):
                    bad.append(f"{path.relative_to(repo_root())}:{node.lineno}")
    assert not bad, f"control characters (an unescaped backslash sequence?) in strings at {bad}"
