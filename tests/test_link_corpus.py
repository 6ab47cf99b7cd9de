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
    base = {"create_library": library, "allow_partial_linkage": True}
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
