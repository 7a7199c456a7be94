"""Progress bars: tqdm's widget in JupyterLab, text in a terminal, and text in a notebook that a DVC stage runs.

A notebook executed by papermill has no frontend to draw a widget: its bar reached the stage's log only when it
closed (a GAN epoch sat at 0 % until it ended). Stages that report progress set ``GANON_PROGRESS=text``; papermill's
``--log-output`` then shows each refresh as it comes.
"""
from __future__ import annotations

import os
from typing import Any

__all__ = ["progress_bar"]


def progress_bar(*args: Any, **kwargs: Any) -> Any:
    """``tqdm(*args, **kwargs)`` of the kind that can be seen where this runs."""
    if os.environ.get("GANON_PROGRESS") == "text":
        from tqdm.std import tqdm

        kwargs.setdefault("mininterval", 5.0)  # each refresh becomes a line of the stage's log
        return tqdm(*args, **kwargs)
    from tqdm.auto import tqdm

    return tqdm(*args, **kwargs)
