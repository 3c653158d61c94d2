"""Registries: lookup is case-insensitive, unknown names list the valid ones, every public reader and
metric is registered (the check pysteps' importers_info makes)."""

import inspect

import pytest

import eoretrieval.io as eio
import eoretrieval.verify as ev
from eoretrieval.registry import Registry


def test_registry_basics():
    reg = Registry("thing", {"a_b": 1})
    assert reg.get("A_B") == 1 and "a_b" in reg and list(reg) == ["a_b"] and len(reg) == 1
    with pytest.raises(ValueError, match=r"unknown thing 'c'; valid things: \['a_b'\]"):
        reg.get("c")
    with pytest.raises(ValueError, match="already registered"):
        reg.register("a_b", 2)


def test_every_public_reader_is_registered():
    readers = {name for name in eio.__all__ if name.startswith("read_")}
    registered = {eio.get_reader(n) for n in eio.list_readers()}
    for name in readers:
        assert getattr(eio, name) in registered, f"{name} is public but not registered"


def test_every_public_metric_is_registered():
    registered = {ev.get_metric(n) for n in ev.list_metrics()}
    for name in ev.__all__:
        obj = getattr(ev, name)
        if inspect.isfunction(obj) and not name.startswith(("get_", "list_")):
            assert obj in registered, f"metric {name} is public but not registered"
