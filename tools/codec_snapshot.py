"""Fingerprints of the codecs' output for every corpus module, to compare two versions.

    python tools/codec_snapshot.py OUT.json [FILES...]
    python tools/codec_snapshot.py --compare A.json B.json

Per module: the bytes `write(read(x))` gives, the module's index arrays (starts, opcodes,
sections, id positions), `disassemble` with friendly names and with raw ids, and the bytes
of `assemble` of both texts. Run it with the old tree on PYTHONPATH, then with the new one,
and compare: a codec change that keeps behaviour gives equal files.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _digest(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()[:16]


def fingerprint(path: Path) -> dict[str, str]:
    from spvlink.binary import read, write
    from spvlink.errors import SpvError
    from spvlink.text import assemble, disassemble

    out: dict[str, str] = {}
    data = path.read_bytes()
    try:
        m = read(data)
    except SpvError as exc:
        return {"read": f"error: {exc}"}
    out["write"] = _digest(write(m))
    out["index"] = _digest(b"".join(a.astype("<i8").tobytes() for a in (
        m.starts, m.sizes, m.opcodes, m.sections, m.id_pos, m.id_inst)))
    for label, raw in (("dis", False), ("dis_raw", True)):
        try:
            text = disassemble(m, raw_id=raw)
        except SpvError as exc:
            out[label] = f"error: {exc}"
            continue
        out[label] = _digest(text)
        try:
            out["as_" + label] = _digest(write(assemble(text, keep_header=raw)))
        except SpvError as exc:
            out["as_" + label] = f"error: {exc}"
    return out


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--compare":
        a, b = (json.loads(Path(p).read_text()) for p in argv[1:3])
        diffs = [f"{name}: {key}: {a[name].get(key)} -> {b.get(name, {}).get(key)}"
                 for name in sorted(a) for key in sorted(set(a[name]) | set(b.get(name, {})))
                 if a[name].get(key) != b.get(name, {}).get(key)]
        diffs += [f"{name}: only in the second" for name in sorted(set(b) - set(a))]
        print("\n".join(diffs) if diffs else f"same: {len(a)} modules")
        return 1 if diffs else 0
    files = [Path(p) for p in argv[1:]] or sorted(
        [*ROOT.glob("tests/corpus/spv/*.spv"), *ROOT.glob("tests/corpus/spv_invalid/*.spv")])
    result = {p.name: fingerprint(p) for p in files}
    Path(argv[0]).write_text(json.dumps(result, indent=1, sort_keys=True))
    print(f"{len(result)} modules")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
