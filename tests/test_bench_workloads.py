"""Tests for bench/workloads.py, the benchmark workload generator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

_ROOT = Path(__file__).resolve().parent.parent
for _p in (_ROOT / "bench", _ROOT / "tools"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import spirv_emit  # noqa: E402
import workloads  # noqa: E402
from workloads import Workload, generate  # noqa: E402

_BIN_CANDIDATES = [
    Path(sys.prefix) / "lib/python3.11/site-packages/cmeel.prefix/bin",
    _ROOT / ".venv/lib/python3.11/site-packages/cmeel.prefix/bin",
]


def _tool(name: str) -> str | None:
    for d in _BIN_CANDIDATES:
        if (d / name).is_file():
            return str(d / name)
    return None


SPIRV_VAL = _tool("spirv-val")
SPIRV_LINK = _tool("spirv-link")
needs_tools = pytest.mark.skipif(
    SPIRV_VAL is None or SPIRV_LINK is None, reason="SPIRV-Tools binaries not found"
)


def _vkrun() -> Any:
    try:
        import vkrun
    except Exception:  # noqa: BLE001
        return None
    try:
        return vkrun if vkrun.vulkan_available() else None
    except Exception:  # noqa: BLE001
        return None


def _val(path: Path, env: str) -> None:
    assert SPIRV_VAL is not None
    r = subprocess.run([SPIRV_VAL, "--target-env", env, str(path)], capture_output=True, text=True)
    assert r.returncode == 0, f"{path.name} ({env}): {r.stdout}{r.stderr}"


def _link(wl: Workload, out: Path) -> Path:
    assert SPIRV_LINK is not None
    cmd = [SPIRV_LINK, "--target-env", "vulkan1.2", *map(str, wl.inputs), "-o", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return out


@pytest.fixture(scope="module")
def chain5(tmp_path_factory: pytest.TempPathFactory) -> Workload:
    return generate("chain", 5, tmp_path_factory.mktemp("chain5"))


@pytest.fixture(scope="module")
def wide3(tmp_path_factory: pytest.TempPathFactory) -> Workload:
    return generate("wide", 3, tmp_path_factory.mktemp("wide3"))


def test_string_words() -> None:
    assert spirv_emit.string_words("main") == [0x6E69616D, 0]
    assert spirv_emit.string_words("abc") == [0x00636261]
    assert spirv_emit.inst(17, [1]) == [0x20011, 1]


@pytest.mark.parametrize(("kind", "n"), [("chain", 4), ("wide", 3)])
def test_deterministic(tmp_path: Path, kind: str, n: int) -> None:
    a = generate(kind, n, tmp_path / "a", seed=7)
    b = generate(kind, n, tmp_path / "b", seed=7)
    c = generate(kind, n, tmp_path / "c", seed=8)
    assert [p.name for p in a.inputs] == [p.name for p in b.inputs]
    for pa, pb in zip(a.inputs, b.inputs, strict=True):
        assert pa.read_bytes() == pb.read_bytes()
    assert a.expected_per_entry == b.expected_per_entry
    assert (tmp_path / "a/workload.json").read_bytes() == (
        tmp_path / "b/workload.json"
    ).read_bytes()
    assert any(
        pa.read_bytes() != pc.read_bytes() for pa, pc in zip(a.inputs, c.inputs, strict=True)
    )


def test_workload_shape(chain5: Workload, wide3: Workload) -> None:
    assert len(chain5.inputs) == 6 and chain5.entry_points == ["main"]
    assert chain5.expected is not None and len(chain5.expected) == chain5.buffer_words == 256
    assert chain5.input[1] == 2654435761 and chain5.groups == (4, 1, 1)
    assert len(set(chain5.expected)) == 256  # the chain does not collapse
    assert len(wide3.inputs) == 4 and wide3.entry_points == [f"main{e}" for e in range(8)]
    assert set(wide3.expected_per_entry) == set(wide3.entry_points)
    for vals in wide3.expected_per_entry.values():
        assert len(vals) == 256 and len(set(vals)) == 256
    for p in chain5.inputs + wide3.inputs:
        data = p.read_bytes()
        assert data[:4] == bytes.fromhex("03022307") and len(data) % 4 == 0
        assert int.from_bytes(data[4:8], "little") == 0x00010500


def test_chain_expected_matches_reference(chain5: Workload, tmp_path: Path) -> None:
    """The non-recursive chain evaluator agrees with straightforward recursion."""
    progs = [
        workloads.random_program(
            np.random.default_rng([3, k]),
            30,
            workloads._const_pool(3, "chain"),
            call_at=2 if k else None,
        )
        for k in range(6)
    ]

    def rec(k: int, x: np.ndarray) -> np.ndarray:
        return workloads.run_program(progs[k], x, (lambda v: rec(k - 1, v)) if k else None)

    x = workloads._x0()
    assert np.array_equal(workloads._chain_eval(progs, x), rec(5, x))


@needs_tools
def test_modules_validate(chain5: Workload, wide3: Workload) -> None:
    for p in chain5.inputs + wide3.inputs:
        _val(p, "spv1.5")


@needs_tools
@pytest.mark.parametrize("which", ["chain5", "wide3"])
def test_link_validates(request: pytest.FixtureRequest, which: str, tmp_path: Path) -> None:
    wl: Workload = request.getfixturevalue(which)
    _val(_link(wl, tmp_path / "linked.spv"), "vulkan1.2")


@needs_tools
@pytest.mark.parametrize("which", ["chain5", "wide3"])
def test_linked_runs_on_vulkan(request: pytest.FixtureRequest, which: str, tmp_path: Path) -> None:
    vk = _vkrun()
    if vk is None:
        pytest.skip("tools/vkrun.py missing or no Vulkan device")
    wl: Workload = request.getfixturevalue(which)
    spirv = _link(wl, tmp_path / "linked.spv").read_bytes()
    buf = np.array(wl.input, dtype=np.uint32)
    for entry in wl.entry_points:
        out = vk.run_compute(spirv, entry, [buf], groups=wl.groups)
        got = np.frombuffer(out[0], dtype=np.uint32).tolist()
        assert got == wl.expected_per_entry[entry], entry


# -- the arrays variants (issue 9): every module declares its own arrays and lengths -------


@pytest.fixture(scope="module")
def arrays_pair(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Workload, Workload]]:
    d = tmp_path_factory.mktemp("arrays")
    return [(generate(kind, n, d / kind), generate(f"{kind}-arrays", n, d / f"{kind}-arrays"))
            for kind, n in (("chain", 5), ("wide", 3))]


def test_arrays_variant_same_programs(arrays_pair: list[tuple[Workload, Workload]]) -> None:
    """The variants compute what the plain workloads compute; only the calls' argument type
    (a struct of arrays, declared by each module with its own length constants) differs."""
    from helpers import spirv_dis

    for plain, arrays in arrays_pair:
        assert arrays.expected_per_entry == plain.expected_per_entry
        assert arrays.entry_points == plain.entry_points
        assert len(arrays.inputs) == len(plain.inputs)
        for p, q in zip(arrays.inputs, plain.inputs, strict=True):
            n_plain = spirv_dis(q.read_bytes()).count("OpTypeArray")
            assert spirv_dis(p.read_bytes()).count("OpTypeArray") == n_plain + 2, p


@needs_tools
def test_arrays_variant_links_and_validates(arrays_pair: list[tuple[Workload, Workload]],
                                            tmp_path: Path) -> None:
    """Each input validates; spirv-link and spvlink link them, both outputs validate for
    Vulkan 1.2, spvlink's output has each type once, and runs."""
    from helpers import spirv_dis
    from spvlink.binary import read_many, write
    from spvlink.link import link
    from typegraph import structural_types

    for _plain, wl in arrays_pair:
        for p in wl.inputs:
            _val(p, "spv1.5")
        _val(_link(wl, tmp_path / f"{wl.kind}.spirv-link.spv"), "vulkan1.2")
        mods = read_many([p.read_bytes() for p in wl.inputs], [p.name for p in wl.inputs])
        r = link(mods)
        assert r.module is not None
        out = tmp_path / f"{wl.kind}.spvlink.spv"
        out.write_bytes(write(r.module))
        _val(out, "vulkan1.2")
        keys = list(structural_types(spirv_dis(out.read_bytes(), "--raw-id")).values())
        assert len(keys) == len(set(keys))
        vk = _vkrun()
        if vk is None:
            continue
        buf = np.array(wl.input, dtype=np.uint32)
        for entry in wl.entry_points:
            got = vk.run_compute(out.read_bytes(), entry, [buf], groups=wl.groups)
            assert np.frombuffer(got[0], dtype=np.uint32).tolist() == \
                wl.expected_per_entry[entry], entry


def test_run_py_knows_the_arrays_variants(tmp_path: Path) -> None:
    """bench/run.py names them chain-arraysN, wide-arraysN and wide-arraysNpe, links them
    with both tools and validates both outputs."""
    import json

    import run

    spec = run.parse_name("wide-arrays3pe")
    assert (spec.kind, spec.n, spec.per_entry) == ("wide-arrays", 3, True)
    assert run.parse_name("chain-arrays200").kind == "chain-arrays"
    assert {"chain-arrays1000", "wide-arrays500"} <= set(run.DEFAULT_WORKLOADS)
    out = tmp_path / "r.json"
    r = subprocess.run([sys.executable, str(_ROOT / "bench/run.py"), "--only",
                        "chain-arrays5,wide-arrays3pe", "--repeat", "1", "--no-extras",
                        "--run-kinds", "none", "--work", str(tmp_path / "work"), "--json",
                        str(out)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = {w["name"]: w for w in json.loads(out.read_text())["workloads"]}
    assert set(rows) == {"chain-arrays5", "wide-arrays3pe"}
    for row in rows.values():
        assert row["spvlink"]["valid"] is True and row["spirv_link"]["valid"] is True
