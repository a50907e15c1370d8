"""The core's ``@dataclass`` builds classes that behave as the standard library's."""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

import pytest

from advisor.core import records


def _pair(frozen: bool = True, eq: bool = True) -> list[type]:
    """The same class made by the standard decorator and by the core's."""
    made = []
    for decorate in (dataclasses.dataclass, records.dataclass):

        class Sample:
            name: str
            count: int = 2
            tags: tuple[str, ...] = ()
            extra: dict = dataclasses.field(default_factory=dict, repr=False, compare=False)
            seen: list = dataclasses.field(default_factory=list, init=False, compare=False)
            hidden: int = dataclasses.field(default=7, init=False, repr=False)

            def __post_init__(self) -> None:
                self.seen.append(self.name)

        made.append(decorate(frozen=frozen, eq=eq)(Sample))  # type: ignore[operator]
    return made


@pytest.mark.parametrize("frozen", [True, False])
@pytest.mark.parametrize("eq", [True, False])
def test_it_behaves_as_the_standard_dataclass(frozen: bool, eq: bool) -> None:
    std, ours = _pair(frozen, eq)
    for args, kwargs in [
        (("a",), {}),
        (("b", 3, ("x",)), {"extra": {"k": 1}}),
        ((), {"name": "c"}),
    ]:
        a: Any = std(*args, **kwargs)
        b: Any = ours(*args, **kwargs)
        assert vars(a) == vars(b)
        assert repr(a).replace(std.__qualname__, "X") == repr(b).replace(ours.__qualname__, "X")
        assert [f.name for f in dataclasses.fields(a)] == [f.name for f in dataclasses.fields(b)]
        assert dataclasses.asdict(a) == dataclasses.asdict(b)
        changed = dataclasses.replace(b, count=9)
        assert (changed.count, changed.name, changed.seen) == (9, b.name, [b.name])
        twin = ours(*args, **kwargs)
        assert (twin == b) is eq and (twin != b) is not eq
        assert (ours(*args, **{**kwargs, "extra": {"other": 2}}) == b) is eq  # compare=False
        assert b != "not a record" and b == b
        if frozen and eq:
            assert hash(b) == hash(twin) == hash(a)  # the same tuple is hashed
        elif eq:
            with pytest.raises(TypeError):
                hash(b)
        for obj in (a, b):
            if frozen:
                with pytest.raises(dataclasses.FrozenInstanceError):
                    obj.count = 5
                with pytest.raises(dataclasses.FrozenInstanceError):
                    del obj.name
            else:
                obj.count = 5
                assert obj.count == 5
    with pytest.raises(TypeError):
        ours()  # name is required


def test_its_equality_short_cuts_as_the_standard_one() -> None:
    std, ours = _pair()
    nan = float("nan")
    assert (std(nan) == std(nan)) == (ours(nan) == ours(nan))
    same = ours(nan)
    assert same == same


def test_its_records_pickle() -> None:
    from advisor.core.model import Port

    port = Port(80, "TCP", "http", None, 3)
    assert pickle.loads(pickle.dumps(port)) == port
    assert repr(port) == "Port(number=80, protocol='TCP', name='http', host_port=None, line=3)"


def test_what_a_container_or_pod_derives_belongs_to_that_object() -> None:
    from advisor.core.model import Container, PodTemplate

    first = Container.from_raw(
        {"name": "a", "ports": [{"containerPort": 80}], "lifecycle": {"preStop": {}}},
        index=0,
        in_init_list=False,
    )
    assert [p.number for p in first.ports] == [80] and "preStop" in first.lifecycle_hooks
    other = dataclasses.replace(first, raw={"name": "a", "ports": [{"containerPort": 81}]})
    assert [p.number for p in other.ports] == [81] and other.lifecycle_hooks == {}
    assert [p.number for p in first.ports] == [80]
    assert first == other  # raw is not compared; the derived values are not fields either
    spec = {"containers": [{"name": "a"}], "initContainers": [{"name": "i"}]}
    pod = PodTemplate.from_raw(spec, {}, path="spec")
    assert [c.name for c in pod.all_containers] == ["i", "a"]
    slim = PodTemplate({}, {}, (), pod.containers, "spec", None)
    assert [c.name for c in slim.all_containers] == ["a"]
    assert slim.grace_seconds == 30 and pod.restart_policy == "Always"
