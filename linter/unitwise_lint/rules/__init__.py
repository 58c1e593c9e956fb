"""The unitwise-lint rules, one module and one class per rule (Fixit's convention).

``ALL_RULES`` lists every rule class, sorted by code. Helpers shared by the rules live in the
underscore modules of this package.
"""

from __future__ import annotations

from ..rule import Rule
from .uw101_large_global import LargeGlobal
from .uw102_import_time_load import ImportTimeLoad
from .uw103_global_mutation import GlobalMutation
from .uw201_single_file_output import SingleFileOutput
from .uw202_no_checkpoint import NoCheckpoint
from .uw301_bare_except import BareExcept
from .uw302_blind_except import BlindExcept
from .uw303_swallowed_exception import SwallowedException
from .uw401_print_logging import PrintLogging
from .uw402_debug_leftover import DebugLeftover
from .uw501_whole_read_then_subset import WholeReadThenSubset
from .uw502_absolute_path import AbsolutePath

ALL_RULES: tuple[type[Rule], ...] = tuple(
    sorted(
        (
            LargeGlobal,
            ImportTimeLoad,
            GlobalMutation,
            SingleFileOutput,
            NoCheckpoint,
            BareExcept,
            BlindExcept,
            SwallowedException,
            PrintLogging,
            DebugLeftover,
            WholeReadThenSubset,
            AbsolutePath,
        ),
        key=lambda rule: rule.code,
    )
)

__all__ = [
    "ALL_RULES",
    "AbsolutePath",
    "BareExcept",
    "BlindExcept",
    "DebugLeftover",
    "GlobalMutation",
    "ImportTimeLoad",
    "LargeGlobal",
    "NoCheckpoint",
    "PrintLogging",
    "SingleFileOutput",
    "SwallowedException",
    "WholeReadThenSubset",
]
