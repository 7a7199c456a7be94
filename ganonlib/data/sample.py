"""The bundled sample dataset, built at run time from public-domain face photos that installed packages ship.

Three photos are far too few for a real GAN; the sample proves the pipeline end to end (the real datasets prove the
paper). Seeded augmentation (flip, small rotation and scale, colour jitter) gives enough variants for the later
stages to train on for a few minutes on a CPU; the landmarks are extracted from every variant by the preprocess stage.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

from ganonlib.config import SampleConfig
from ganonlib.io import atomic_write_csv, atomic_write_image, atomic_write_text, create_manifest, output_folder_problem

__all__ = ["PHOTOS", "augment", "build_sample", "load_photo"]

# name -> (loader description, source, licence)
PHOTOS = {
    "astronaut": ("skimage.data.astronaut()", "Eileen Collins, NASA portrait (scikit-image data)", "public domain"),
    "grace_hopper": ("matplotlib sample_data/grace_hopper.jpg", "Grace Hopper, US Navy photo (matplotlib data)",
                     "public domain"),
    "camera": ("skimage.data.camera()", "'cameraman' by Lav Varshney (scikit-image data)", "CC0"),
}


def load_photo(name: str) -> np.ndarray:
    """(H, W, 3) uint8 RGB of one bundled photo."""
    if name == "astronaut":
        from skimage import data

        return data.astronaut()
    if name == "camera":
        from skimage import data

        return np.repeat(data.camera()[..., None], 3, axis=2)
    if name == "grace_hopper":
        import matplotlib

        path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
        return np.asarray(Image.open(path).convert("RGB"))
    raise KeyError(f"unknown sample photo {name!r}; choose one of {sorted(PHOTOS)}")


def augment(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict[str, float]]:
    """One seeded variant: horizontal flip (p=0.5), rotation +-10 deg, scale 0.9-1.1, brightness/contrast/colour
    jitter +-20 %. Returns the image and the parameters drawn."""
    p = {"flip": float(rng.random() < 0.5), "angle": float(rng.uniform(-10, 10)), "scale": float(rng.uniform(0.9, 1.1)),
         "brightness": float(rng.uniform(0.8, 1.2)), "contrast": float(rng.uniform(0.8, 1.2)),
         "color": float(rng.uniform(0.8, 1.2))}
    out = Image.fromarray(image)
    if p["flip"]:
        out = ImageOps.mirror(out)
    w, h = out.size
    out = out.rotate(p["angle"], resample=Image.Resampling.BICUBIC, center=(w / 2, h / 2))
    scaled = out.resize((round(w * p["scale"]), round(h * p["scale"])), Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (w, h))
    canvas.paste(scaled, ((w - scaled.width) // 2, (h - scaled.height) // 2))
    out = canvas
    for enhancer in ("brightness", "contrast", "color"):
        out = getattr(ImageEnhance, enhancer.capitalize())(out).enhance(p[enhancer])
    return np.asarray(out), {k: round(v, 4) for k, v in p.items()}


def _splits(n: int, cfg: SampleConfig, rng: np.random.Generator) -> list[str]:
    n_test = max(1, round(n * cfg.test_fraction)) if cfg.test_fraction > 0 else 0
    n_val = max(1, round(n * cfg.val_fraction)) if cfg.val_fraction > 0 else 0
    labels = np.array(["test"] * n_test + ["val"] * n_val + ["train"] * (n - n_test - n_val))
    return labels[rng.permutation(n)].tolist()


def _listed(out: Path) -> list[str]:
    """The image files the index of an earlier build names (none when there is no readable index)."""
    try:
        with (out / "index.csv").open(newline="") as handle:
            return [row["file"] for row in csv.DictReader(handle)
                    if row.get("file", "").startswith("images/") and "/" not in row["file"][7:]
                    and row["file"].endswith(".png")]
    except (OSError, KeyError, csv.Error, UnicodeDecodeError):
        return []


_INDEX_COLUMNS = ["file", "split", "photo", "variant", "augment"]
_INDEX_HEADER = ",".join(_INDEX_COLUMNS)


def build_sample(cfg: SampleConfig) -> dict:
    """Write ``images/<photo>_<k>.png``, ``index.csv`` (file, split, photo, variant, parameters) and
    ``PROVENANCE.md`` to ``cfg.out_dir``, which must be new, empty or an earlier build's (ValueError otherwise).
    Variant 0 is the unaugmented photo. Same seed, same bytes."""
    out = Path(cfg.out_dir)
    # a folder of the user's (an index.csv of theirs names files the stale sweep below would delete) is refused
    if problem := output_folder_problem(out, "index.csv", _INDEX_HEADER):
        raise ValueError(problem)
    out.mkdir(parents=True, exist_ok=True)
    create_manifest(out / "index.csv", _INDEX_HEADER)
    rng = np.random.default_rng(cfg.seed)
    rows = []
    for photo in PHOTOS:
        image = load_photo(photo)
        splits = _splits(cfg.variants_per_photo, cfg, rng)
        for k in range(cfg.variants_per_photo):
            variant, params = (image, {}) if k == 0 else augment(image, rng)
            name = f"images/{photo}_{k:03d}.png"
            atomic_write_image(out / name, variant)
            rows.append({"file": name, "split": splits[k], "photo": photo, "variant": k, "augment": json.dumps(params)})
    # variants an earlier build listed and this one does not (fewer variants per photo) go; a file no build listed,
    # a user's, stays
    for stale in set(_listed(out)) - {r["file"] for r in rows}:
        (out / stale).unlink(missing_ok=True)
    atomic_write_csv(out / "index.csv", rows, _INDEX_COLUMNS)
    atomic_write_text(out / "PROVENANCE.md", _provenance(cfg, rows))
    return {"images": len(rows), "photos": len(PHOTOS),
            "per_split": {s: sum(r["split"] == s for r in rows) for s in ("train", "val", "test")}}


def _provenance(cfg: SampleConfig, rows: list[dict]) -> str:
    lines = ["# sample dataset - provenance", "",
             "Built by `ganonlib.data.sample.build_sample` from photos that installed Python packages ship.", "",
             "| photo | loaded from | source | licence |", "|---|---|---|---|"]
    lines += [f"| {name} | `{src}` | {who} | {lic} |" for name, (src, who, lic) in PHOTOS.items()]
    lines += ["", f"- variants per photo: {cfg.variants_per_photo} (variant 0 unaugmented), seed {cfg.seed}",
              "- augmentation: horizontal flip p=0.5, rotation +-10 deg, scale 0.9-1.1, brightness/contrast/colour "
              "+-20 % (parameters per file in `index.csv`)",
              f"- split per photo, seeded: val {cfg.val_fraction}, test {cfg.test_fraction}; "
              + ", ".join(f"{s} {sum(r['split'] == s for r in rows)}" for s in ("train", "val", "test")),
              "- every split holds every person: the sample exercises the pipeline, it is no identity-disjoint "
              "benchmark.", ""]
    return "\n".join(lines)
