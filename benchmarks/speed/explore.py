"""How quickly the exploration notebook answers: prints one JSON line.

    python benchmarks/speed/explore.py

Times what ``notebooks/00_explore.ipynb`` does: loading the models once (extraction, generator, recognizer, FER
reference), the default photo's panels (first walk: extraction, generation, baselines, identity, emotion, mesh), the
same photo with a paste-back setting changed (the extraction is reused) and with the margin changed (extracted
again), and the figures drawn. Target: the default photo's panels in under 30 s after the models are loaded.
"""
from __future__ import annotations

import os
import platform
import time

from ganonlib.config import load_params, use_project_root
from ganonlib.explore import (ExploreSettings, Explorer, candidate_photos, emotion_figure, panels_figure,
                              read_candidate)


def main() -> None:
    use_project_root()
    clock = time.perf_counter
    start = clock()
    explorer = Explorer(load_params("params.yaml"))
    photo = read_candidate(next(iter(candidate_photos().values())))
    loaded = clock()
    walk = explorer.walk(photo)
    panels_figure(walk).savefig(os.devnull, format="png")
    emotion_figure(walk).savefig(os.devnull, format="png")
    first = clock()
    explorer.walk(photo, ExploreSettings(feather=0.08))
    paste_setting = clock()
    explorer.walk(photo, ExploreSettings(margin=0.2))
    margin = clock()
    from ganonlib.provenance import report

    report({"benchmark": "explore", "machine": f"{platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} cores", "models_load_s": round(loaded - start, 2),
            "default_photo_panels_s": round(first - loaded, 2),
            "paste_setting_changed_s": round(paste_setting - first, 2),
            "margin_changed_s": round(margin - paste_setting, 2), "panels": len(walk.panels),
            "target_panels_s": 30})


if __name__ == "__main__":
    main()
