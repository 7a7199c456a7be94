"""The anonymization methods the kit compares: the one place that knows their names, kinds, display names and the
paper's Table 1 values. params.yaml chooses which of them run (``anonymize.baselines``, ``anonymize.external``);
every stage and notebook takes the list from there through :func:`pipeline_methods`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ganonlib.errors import ConfigError

__all__ = ["METHODS", "Method", "display_name", "paper_table1", "pipeline_methods"]


@dataclass(frozen=True)
class Method:
    name: str
    kind: Literal["original", "ours", "baseline", "external"]
    display: str
    paper_table1: float  # mean cosine distance to the original (Facenet512, WIDER), the paper's Table 1
    runs: str  # how the kit produces its images


# In the paper's order: the tables and figures list methods this way.
METHODS: dict[str, Method] = {m.name: m for m in (
    Method("original", "original", "Original", 0.0, "the preprocessed crops themselves"),
    Method("ours", "ours", "Ours", 0.7145, "the trained generator from the crop's landmarks"),
    Method("deepprivacy2", "external", "DeepPrivacy2", 0.8119, "imported: the tool's outputs on the kit's crops"),
    Method("ciagan", "external", "CIAGAN", 0.9280, "imported: the tool's outputs on the kit's crops"),
    Method("pixel8", "baseline", "Pixel 8x8", 0.8791, "ganonlib.anonymize.baselines.pixelate(8)"),
    Method("pixel16", "baseline", "Pixel 16x16", 0.6651, "ganonlib.anonymize.baselines.pixelate(16)"),
    Method("blur9", "baseline", "Blur 9x9", 0.0102, "ganonlib.anonymize.baselines.gaussian_blur(9)"),
    Method("blur17", "baseline", "Blur 17x17", 0.0725, "ganonlib.anonymize.baselines.gaussian_blur(17)"),
)}


def display_name(name: str) -> str:
    return METHODS[name].display if name in METHODS else name


def paper_table1() -> dict[str, float]:
    return {name: m.paper_table1 for name, m in METHODS.items()}


def pipeline_methods(baselines: tuple[str, ...] | list[str], external: tuple[str, ...] | list[str]) -> list[str]:
    """``ours`` plus the named baselines and external tools, in the paper's order; a name of the wrong kind or an
    unknown one is refused, naming the params.yaml key."""
    for key, names, kind in (("anonymize.baselines", baselines, "baseline"), ("anonymize.external", external,
                                                                             "external")):
        wrong = [n for n in names if n not in METHODS or METHODS[n].kind != kind]
        if wrong:
            known = [n for n, m in METHODS.items() if m.kind == kind]
            raise ConfigError(f"params.yaml {key}", f"{wrong[0]!r} is no {kind} method; known: {', '.join(known)}")
    chosen = {"ours", *baselines, *external}
    return [name for name in METHODS if name in chosen]
