"""Moved to `spvlink.ir.facts` (module queries live with the module); kept for imports."""

from ..ir.facts import (  # noqa: F401
    Decorations,
    Functions,
    decoration_key,
    decorations,
    entry_points,
    functions,
    global_defs,
)
from ..ir.types import describe_type  # noqa: F401
