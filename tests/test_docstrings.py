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


def test_module_docstrings_are_valid_restructuredtext():
    """Module docstrings become the API pages of the book, built with warnings as errors; a malformed table or list
    there fails the whole book build after every notebook has run. Parse each one with docutils (Sphinx roles
    stubbed) and fail on any error, naming the module."""
    import importlib
    import io
    import pkgutil

    import docutils.core
    from docutils import nodes
    from docutils.parsers.rst import roles

    import eoretrieval

    def literal_role(name, rawtext, text, lineno, inliner, options=None, content=None):
        return [nodes.literal(rawtext, text)], []

    for role in ("func", "class", "mod", "meth", "attr", "data", "obj", "exc", "ref", "doc", "math", "cite", "eq",
                 "term"):
        roles.register_local_role(role, literal_role)
    bad = []
    for info in pkgutil.walk_packages(eoretrieval.__path__, "eoretrieval."):
        module = importlib.import_module(info.name)
        stream = io.StringIO()
        docutils.core.publish_doctree(module.__doc__ or "", settings_overrides={
            "report_level": 3, "halt_level": 5, "warning_stream": stream})
        if stream.getvalue():
            bad.append(f"{info.name}: {stream.getvalue().splitlines()[0]}")
    assert not bad, "module docstrings that are not valid reStructuredText:\n" + "\n".join(bad)


def test_rst_check_catches_a_malformed_table():
    import io

    import docutils.core

    table = "=====  ===\nname   x\n=====  ===\nlonger_name y\n=====  ===\n"
    stream = io.StringIO()
    docutils.core.publish_doctree(table, settings_overrides={"report_level": 3, "halt_level": 5,
                                                             "warning_stream": stream})
    assert "Malformed table" in stream.getvalue()
