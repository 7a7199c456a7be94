"""Loaders for the official layouts of the paper's datasets and of the bundled sample.

Each loader returns :class:`Record` objects (file, split, subject, label) with a train / val / test split: the
official one where the dataset has it, otherwise subject-wise and seeded, so no person appears in two splits and the
test split is never the one used for early stopping.
"""
from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ganonlib.config import DatasetConfig
from ganonlib.data.sample import PHOTOS
from ganonlib.errors import DatasetError
from ganonlib.io import IMAGE_SUFFIXES, iter_images

__all__ = ["AFFECTNET_CLASSES", "CELEBA_PARTITIONS", "CKPLUS_CLASSES", "FACES_CLASSES", "LOADERS", "Record",
           "SAMPLE_ATTRIBUTES", "attribute_names", "attribute_source", "load_dataset", "subject_split"]

SPLITS = ("train", "val", "test")
CELEBA_PARTITIONS = {"0": "train", "1": "val", "2": "test"}
# AffectNet's own indices: 0 Neutral ... 7 Contempt (the original wrote them into the wrong columns)
AFFECTNET_CLASSES = ("neutral", "happy", "sad", "surprise", "fear", "disgust", "anger", "contempt")
# CK+ Emotion/*.txt codes 1..7 (0 = neutral is never a sequence label) -> index code - 1
CKPLUS_CLASSES = ("anger", "contempt", "disgust", "fear", "happy", "sadness", "surprise")
# FACES file names: <id>_<age y|m|o>_<gender m|f>_<emotion>_<set a|b>.jpg
FACES_CLASSES = ("neutral", "sad", "disgust", "fear", "anger", "happy")
_FACES_CODES = {"n": "neutral", "s": "sad", "d": "disgust", "f": "fear", "a": "anger", "h": "happy"}
_FACES_NAME = re.compile(r"^(\d+)_([ymo])_([mf])_([nsdfah])_([ab])$")
# what is known of every sample image (not CelebA attributes): its person, and each augmentation as
# (name, parameter, value it must exceed); an unaugmented image has the parameter at that value
_SAMPLE_AUGMENTATIONS = (("Flipped", "flip", 0.5), ("Rotated_CCW", "angle", 0.0), ("Brighter", "brightness", 1.0),
                         ("More_Contrast", "contrast", 1.0), ("More_Colour", "color", 1.0), ("Larger", "scale", 1.0))
SAMPLE_ATTRIBUTES = (*("Person_" + "_".join(w.capitalize() for w in p.split("_")) for p in PHOTOS),
                     *(name for name, _, _ in _SAMPLE_AUGMENTATIONS))


@dataclass(frozen=True)
class Record:
    path: Path
    split: str
    key: str  # unique, file-system safe name derived from the path inside the dataset
    subject: str = ""
    label: int | None = None
    attributes: tuple[int, ...] | None = None


def _key(path: Path, root: Path) -> str:
    return "__".join(path.relative_to(root).with_suffix("").parts)


def subject_split(subjects: list[str], val_fraction: float, test_fraction: float, seed: int) -> list[str]:
    """Split label per item such that every subject lands in exactly one of train / val / test (seeded).

    Subjects are shuffled, then ``round(fraction * n_subjects)`` of them (at least one where the fraction is
    positive and three subjects exist) go to test, as many to val, the rest to train.
    """
    unique = sorted(set(subjects))
    order = np.random.default_rng(seed).permutation(len(unique))
    n = len(unique)
    n_test = max(1, round(test_fraction * n)) if test_fraction > 0 and n >= 3 else 0
    n_val = max(1, round(val_fraction * n)) if val_fraction > 0 and n >= 3 else 0
    assign = {}
    for rank, i in enumerate(order):
        assign[unique[i]] = "test" if rank < n_test else "val" if rank < n_test + n_val else "train"
    return [assign[s] for s in subjects]


def _read_pairs(path: Path) -> dict[str, str]:
    """``<file> <value>`` lines of CelebA's annotation files."""
    pairs = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            pairs[parts[0]] = parts[1]
    return pairs


def _require(path: Path, what: str) -> None:
    if not path.is_file():
        raise DatasetError(f"{path} not found: {what}; docs/datasets-and-models.md, 'Real datasets', shows the "
                           f"layout")


def load_celeba(root: Path, cfg: DatasetConfig) -> list[Record]:
    """``img_align_celeba/``, ``list_eval_partition.txt`` (official split), ``list_attr_celeba.txt`` (40 attributes,
    -1/1 -> 0/1) and, when present, ``identity_CelebA.txt``."""
    images = root / "img_align_celeba"
    _require(root / "list_eval_partition.txt", "CelebA's official split (Eval/ of its download)")
    partition = _read_pairs(root / "list_eval_partition.txt")
    identity = _read_pairs(root / "identity_CelebA.txt") if (root / "identity_CelebA.txt").exists() else {}
    attributes: dict[str, tuple[int, ...]] = {}
    attr_file = root / "list_attr_celeba.txt"
    if attr_file.exists():
        for line in attr_file.read_text().splitlines()[2:]:
            parts = line.split()
            if len(parts) == 41:
                attributes[parts[0]] = tuple(int(v == "1") for v in parts[1:])
    records = []
    for name, part in sorted(partition.items()):
        path = images / name
        if path.exists():
            records.append(Record(path, CELEBA_PARTITIONS[part], Path(name).stem, identity.get(name, ""),
                                  attributes=attributes.get(name)))
    return records


def celeba_attribute_names(root: Path) -> list[str]:
    _require(root / "list_attr_celeba.txt", "CelebA's 40 attributes (Anno/ of its download)")
    return (root / "list_attr_celeba.txt").read_text().splitlines()[1].split()


def load_wider(root: Path, cfg: DatasetConfig) -> list[Record]:
    """``WIDER_{train,val,test}/images/<event>/<file>.jpg``: the official splits (test has no annotations)."""
    records = []
    for folder, split in (("WIDER_train", "train"), ("WIDER_val", "val"), ("WIDER_test", "test")):
        images = root / folder / "images"
        if images.is_dir():
            records += [Record(p, split, _key(p, root), subject=p.parent.name) for p in iter_images(images)]
    return records


def load_affectnet(root: Path, cfg: DatasetConfig) -> list[Record]:
    """``Manually_Annotated_file_lists/{training,validation}.csv`` + ``Manually_Annotated_Images/``.

    Expressions 0-7 are kept (8 none, 9 uncertain, 10 no-face dropped). The official validation set is ``val``; as
    it is also what early stopping watches, a seeded ``test`` share is held out of the training list.
    """
    images = next((p for p in root.rglob("Manually_Annotated_Images") if p.is_dir()), root)
    records = []
    for list_name, split in (("training.csv", "train"), ("validation.csv", "val")):
        list_file = next(iter(sorted(root.rglob(list_name))), None)
        if list_file is None:
            continue
        with open(list_file, newline="") as handle:
            for row in csv.DictReader(handle):
                label = int(float(row["expression"]))
                path = images / row["subDirectory_filePath"]
                if label < len(AFFECTNET_CLASSES) and path.exists():
                    records.append(Record(path, split, _key(path, images), label=label))
    rng = np.random.default_rng(cfg.seed)
    train = [i for i, r in enumerate(records) if r.split == "train"]
    test = set(rng.choice(train, size=int(round(len(train) * cfg.test_fraction)), replace=False).tolist()) \
        if train else set()
    return [Record(r.path, "test", r.key, r.subject, r.label) if i in test else r for i, r in enumerate(records)]


def load_ckplus(root: Path, cfg: DatasetConfig) -> list[Record]:
    """``cohn-kanade-images/S###/###/*.png`` + ``Emotion/S###/###/*_emotion.txt``: the labelled peak frame of each
    of the 327 labelled sequences, split by subject."""
    frames, labels, subjects = [], [], []
    for label_file in sorted((root / "Emotion").rglob("*_emotion.txt")):
        code = int(float(label_file.read_text().split()[0]))
        rel = label_file.relative_to(root / "Emotion").parent
        frame = root / "cohn-kanade-images" / rel / label_file.name.replace("_emotion.txt", ".png")
        if frame.exists() and 1 <= code <= len(CKPLUS_CLASSES):
            frames.append(frame)
            labels.append(code - 1)
            subjects.append(rel.parts[0])
    splits = subject_split(subjects, cfg.val_fraction, cfg.test_fraction, cfg.seed)
    base = root / "cohn-kanade-images"
    return [Record(f, s, _key(f, base), subj, lab) for f, s, subj, lab in zip(frames, splits, subjects, labels)]


def load_faces(root: Path, cfg: DatasetConfig) -> list[Record]:
    """FACES ``<id>_<age>_<gender>_<emotion>_<set>.jpg`` anywhere below ``root``, split by subject id (seeded)."""
    found = []
    for path in iter_images(root):
        match = _FACES_NAME.match(path.stem)
        if match:
            found.append((path, match.group(1), FACES_CLASSES.index(_FACES_CODES[match.group(4)])))
    splits = subject_split([s for _, s, _ in found], cfg.val_fraction, cfg.test_fraction, cfg.seed)
    return [Record(p, split, p.stem, subj, lab) for (p, subj, lab), split in zip(found, splits)]


def _sample_attributes(photo: str, augment: dict) -> tuple[int, ...]:
    return (*(int(photo == p) for p in PHOTOS),
            *(int(augment.get(key, above) > above) for _, key, above in _SAMPLE_AUGMENTATIONS))


def load_sample(root: Path, cfg: DatasetConfig) -> list[Record]:
    """The bundled sample built by :func:`ganonlib.data.sample.build_sample` (``index.csv`` holds its split).

    It has no CelebA attributes; its binary labels are what is known of every image (:data:`SAMPLE_ATTRIBUTES`: the
    person, and the augmentation applied), so the attribute stage runs on the sample with labels that are true."""
    with open(root / "index.csv", newline="") as handle:
        return [Record(root / row["file"], row["split"], Path(row["file"]).stem, row["photo"],
                       attributes=_sample_attributes(row["photo"], json.loads(row.get("augment") or "{}")))
                for row in csv.DictReader(handle)]


def attribute_names(cfg: DatasetConfig) -> list[str]:
    """Names of the binary attributes a dataset's records carry (CelebA's 40, the sample's known properties), in
    the order of :attr:`Record.attributes`; empty for datasets without attributes."""
    if cfg.kind == "celeba":
        return celeba_attribute_names(Path(cfg.root))
    if cfg.kind == "sample":
        return list(SAMPLE_ATTRIBUTES)
    return []


def attribute_source(kind: str) -> str:
    """What the attribute labels of a dataset kind are, in the words every caption and metrics file repeats."""
    if kind == "celeba":
        return "CelebA attributes (list_attr_celeba.txt)"
    if kind == "sample":
        return "the sample's known per-image properties (person, augmentation applied), not CelebA attributes"
    return f"{kind} attributes"


def load_folder(root: Path, cfg: DatasetConfig) -> list[Record]:
    """Any folder of photos (one's own images): split by sub-folder name where it is train/val/test. Keys keep the
    file's extension, so ``x.jpg`` and ``x.png`` never write to the same output."""
    if root.is_file():
        return [Record(root, "train", root.name)]
    records = []
    for path in iter_images(root):
        top = path.relative_to(root).parts[0]
        records.append(Record(path, top if top in SPLITS else "train", "__".join(path.relative_to(root).parts)))
    return records


LOADERS: dict[str, Callable[[Path, DatasetConfig], list[Record]]] = {
    "sample": load_sample, "celeba": load_celeba, "wider": load_wider, "affectnet": load_affectnet,
    "ckplus": load_ckplus, "faces": load_faces, "folder": load_folder,
}


def load_dataset(cfg: DatasetConfig) -> list[Record]:
    """Records of a configured dataset; ``limit`` keeps a seeded subset. Raises a clear error for a missing root."""
    if cfg.kind not in LOADERS:
        raise ValueError(f"unknown dataset kind {cfg.kind!r}; choose one of {sorted(LOADERS)}")
    root = Path(cfg.root)
    if not (root.is_dir() or (cfg.kind == "folder" and root.is_file())):
        raise DatasetError(f"dataset {cfg.name!r}: folder {root} not found. Put the {cfg.kind} files there in "
                           f"their official layout (see docs/datasets-and-models.md, 'Real datasets') or "
                           f"change datasets.{cfg.name}.root in params.yaml.")
    records = LOADERS[cfg.kind](root, cfg)
    if not records:
        raise DatasetError(f"dataset {cfg.name!r}: no images in {root} in the {cfg.kind} layout "
                           f"(see docs/datasets-and-models.md, 'Real datasets'); suffixes read: "
                           f"{sorted(IMAGE_SUFFIXES)}")
    if cfg.limit and len(records) > cfg.limit:
        keep = np.random.default_rng(cfg.seed).choice(len(records), size=cfg.limit, replace=False)
        records = [records[i] for i in sorted(keep)]
    return records
