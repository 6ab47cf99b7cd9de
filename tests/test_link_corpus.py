"""Every corpus module, linked alone, still validates: DCE, interfaces, stripping and
compaction on what real compilers emit (debug info, OpenCL kernels, images, ...)."""

from __future__ import annotations

import json

import pytest

from helpers import CORPUS, spirv_val
from spvlink.binary import read, write
from spvlink.link import LinkOptions, link

MANIFEST = json.loads((CORPUS / "MANIFEST.json").read_text())
LINKABLE = [e for e in MANIFEST if "linkage" not in e["file"]]


@pytest.mark.parametrize("entry", LINKABLE, ids=[e["file"] for e in LINKABLE])
def test_linked_alone_still_validates(entry: dict[str, str]) -> None:
    m = read((CORPUS / "spv" / entry["file"]).read_bytes(), source=entry["file"])
    env = entry["target_env"]
    # A library (no entry point) is linked as a library; unresolved imports stay.
    library = not m.indices_of(15).size  # OpEntryPoint
    base = {"create_library": library, "allow_partial_linkage": True, "verify": True}
    for options in (LinkOptions(**base), LinkOptions(spirv_metadata="full", debuginfo=True, **base),
                    LinkOptions(module_output="per-entry-point", **base)):
        if library and options.module_output != "single":
            continue
        r = link([m], options)
        outs = [r.module] if r.module is not None else list(r.modules.values())
        for out in outs:
            assert out is not None
            msg = spirv_val(write(out), env)
            assert msg is None, f"{options}: {msg}"


def _files(producer_prefix: str, suffix: str) -> list[str]:
    return [e["file"] for e in MANIFEST
            if e["producer"].startswith(producer_prefix) and e["file"].endswith(suffix)]


def _stage_of(name: str) -> str:
    return next(e["source"] for e in MANIFEST if e["file"] == name).rsplit(".", 1)[-1]


@pytest.mark.parametrize("variant", ["glslc-O0", "glslc-O", "gVS"])
def test_vertex_and_fragment_shaders_link_together(variant: str) -> None:
    files = [f for f in _files("glsl", f".{variant}.spv")]
    verts = [f for f in files if _stage_of(f) == "vert"]
    frags = [f for f in files if _stage_of(f) == "frag"]
    assert verts and frags
    for vert in verts:
        for frag in frags:
            mods = [read((CORPUS / "spv" / f).read_bytes(), source=f) for f in (vert, frag)]
            for options in (LinkOptions(), LinkOptions(spirv_metadata="full", debuginfo=True)):
                r = link(mods, options)
                assert r.module is not None and len(r.entry_points) == 2
                msg = spirv_val(write(r.module), "vulkan1.1")
                assert msg is None, f"{vert} + {frag}: {msg}"


def test_all_opencl_files_link_together() -> None:
    files = _files("clang", ".O0.spv")
    mods = [read((CORPUS / "spv" / f).read_bytes(), source=f) for f in files]
    r = link(mods, LinkOptions(module_output="per-entry-point"))
    assert len(r.modules) == len(r.entry_points) >= 10
    for name, m in r.modules.items():
        assert spirv_val(write(m), "opencl1.2") is None, name
