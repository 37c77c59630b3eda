"""Helpers for the Keras book: set-up, modes, data mirror, plots, results.

Every chapter starts with ``import helpers; helpers.setup()``. Each function's
docstring says in which chapter it is introduced.
"""

__version__ = "0.2.0"  # before the imports: helpers.device reads it

from .data import MirrorError, use_mirror
from .device import RunInfo, setup
from .modes import choose, epochs, is_quick, subset
from .plots import plot_history, plot_images
from .results import print_results

__all__ = [
    "MirrorError",
    "RunInfo",
    "choose",
    "epochs",
    "is_quick",
    "plot_history",
    "plot_images",
    "print_results",
    "setup",
    "subset",
    "use_mirror",
]
