"""Loaders on tiny fixtures that mimic the official files of each dataset."""
from collections import Counter, defaultdict

import pytest
from PIL import Image

from ganonlib.config import DatasetConfig
from ganonlib.data.datasets import (AFFECTNET_CLASSES, CKPLUS_CLASSES, FACES_CLASSES, celeba_attribute_names,
                                    load_dataset, subject_split)

from conftest import shared_data


def _img(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (24, 24), (120, 80, 60)).save(path)
    return path


def _cfg(kind, root, **kw):
    return DatasetConfig(name=kind, kind=kind, root=str(root), **kw)


def test_celeba_official_layout(tmp_path):
    names = [f"{i:06d}.jpg" for i in (1, 2, 3)]
    for n in names:
        _img(tmp_path / "img_align_celeba" / n)
    (tmp_path / "list_eval_partition.txt").write_text("000001.jpg 0\n000002.jpg 1\n000003.jpg 2\n")
    (tmp_path / "identity_CelebA.txt").write_text("000001.jpg 7\n000002.jpg 7\n000003.jpg 9\n")
    attr_names = " ".join(f"A{i}" for i in range(40))
    rows = "".join(f"{n} " + " ".join(["1" if j == k else "-1" for j in range(40)]) + "\r\n"
                   for k, n in enumerate(names))
    (tmp_path / "list_attr_celeba.txt").write_text(f"3\r\n{attr_names} \r\n{rows}")
    recs = load_dataset(_cfg("celeba", tmp_path))
    assert [r.split for r in recs] == ["train", "val", "test"]
    assert [r.subject for r in recs] == ["7", "7", "9"]
    assert recs[1].attributes[1] == 1 and sum(recs[1].attributes) == 1 and len(recs[1].attributes) == 40
    assert celeba_attribute_names(tmp_path)[:2] == ["A0", "A1"]


@pytest.mark.realdata
def test_celeba_real_sample_reads_every_row():
    root = shared_data("celeba_sample")
    recs = load_dataset(_cfg("celeba", root))
    assert len(recs) == 548 and {r.split for r in recs} == {"train"}
    assert len({r.subject for r in recs}) == 149
    names = celeba_attribute_names(root)
    assert len(names) == 40 and names[0] == "5_o_Clock_Shadow"


def test_wider_official_splits(tmp_path):
    _img(tmp_path / "WIDER_train/images/0--Parade/0_Parade_marchingband_1_5.jpg")
    _img(tmp_path / "WIDER_val/images/1--Handshaking/1_Handshaking_1_2.jpg")
    _img(tmp_path / "WIDER_test/images/2--Demonstration/2_Demo_3.jpg")
    recs = load_dataset(_cfg("wider", tmp_path))
    assert sorted(r.split for r in recs) == ["test", "train", "val"]
    assert {r.subject for r in recs} == {"0--Parade", "1--Handshaking", "2--Demonstration"}
    assert len({r.key for r in recs}) == 3


def test_affectnet_labels_and_held_out_test(tmp_path):
    header = "subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal\n"
    train_rows, val_rows = [], []
    for i in range(20):
        _img(tmp_path / f"Manually_Annotated/Manually_Annotated_Images/{i}/a{i}.jpg")
        train_rows.append(f"{i}/a{i}.jpg,0,0,24,24,\"1;2\",{i % 11},0.1,0.2\n")
    _img(tmp_path / "Manually_Annotated/Manually_Annotated_Images/99/v.jpg")
    val_rows.append("99/v.jpg,0,0,24,24,\"1;2\",7,0.0,0.0\n")
    lists = tmp_path / "Manually_Annotated_file_lists"
    lists.mkdir()
    (lists / "training.csv").write_text(header + "".join(train_rows))
    (lists / "validation.csv").write_text(header + "".join(val_rows))
    recs = load_dataset(_cfg("affectnet", tmp_path, test_fraction=0.25, seed=3))
    by_key = {r.key: r for r in recs}
    assert "99__v" in by_key and by_key["99__v"].split == "val" and by_key["99__v"].label == 7
    assert AFFECTNET_CLASSES[by_key["3__a3"].label] == "surprise"  # AffectNet index 3 = Surprise
    assert all(r.label < 8 for r in recs)  # 8 none, 9 uncertain, 10 no-face dropped
    kept_train = [r for r in recs if r.split in ("train", "test")]
    assert len(kept_train) == 16  # i = 8, 9, 10, 19 carry codes 8, 9, 10, 8
    assert Counter(r.split for r in kept_train)["test"] == round(len(kept_train) * 0.25)


def test_ckplus_peak_frames_and_subject_split(tmp_path):
    labels = {}
    for s in range(1, 13):
        subj = f"S{s:03d}"
        for seq in ("001", "002"):
            for frame in (1, 2, 3):
                _img(tmp_path / f"cohn-kanade-images/{subj}/{seq}/{subj}_{seq}_{frame:08d}.png")
            code = (s + int(seq)) % 7 + 1
            label_dir = tmp_path / f"Emotion/{subj}/{seq}"
            label_dir.mkdir(parents=True)
            (label_dir / f"{subj}_{seq}_00000003_emotion.txt").write_text(f"   {code:.7e}\n")
            labels[f"{subj}_{seq}"] = code - 1
    recs = load_dataset(_cfg("ckplus", tmp_path, val_fraction=0.25, test_fraction=0.25, seed=1))
    assert len(recs) == 24 and all(r.path.name.endswith("00000003.png") for r in recs)
    assert all(r.label == labels[r.path.stem[:8]] for r in recs)
    assert CKPLUS_CLASSES[0] == "anger" and len(CKPLUS_CLASSES) == 7
    splits = defaultdict(set)
    for r in recs:
        splits[r.subject].add(r.split)
    assert all(len(s) == 1 for s in splits.values())
    assert {r.split for r in recs} == {"train", "val", "test"}


def test_faces_subject_wise_split_is_seeded(tmp_path):
    for subject in range(1, 21):
        for emo in "nsdfah":
            for pic_set in "ab":
                _img(tmp_path / f"{subject:03d}_y_f_{emo}_{pic_set}.jpg")
    cfg = _cfg("faces", tmp_path, val_fraction=0.1, test_fraction=0.2, seed=5)
    recs = load_dataset(cfg)
    assert len(recs) == 20 * 12
    splits = defaultdict(set)
    for r in recs:
        splits[r.subject].add(r.split)
    assert all(len(s) == 1 for s in splits.values())  # no subject in two splits
    per_split = Counter(next(iter(s)) for s in splits.values())
    assert per_split == {"train": 14, "val": 2, "test": 4}
    assert [r.split for r in load_dataset(cfg)] == [r.split for r in recs]  # same seed, same split
    happy = next(r for r in recs if r.path.stem.split("_")[3] == "h")
    assert FACES_CLASSES[happy.label] == "happy"


def test_subject_split_small_and_disjoint():
    subjects = list("aabbccddeeffgghhiijj")
    splits = subject_split(subjects, 0.2, 0.2, seed=0)
    assert Counter(splits) == {"train": 12, "val": 4, "test": 4}
    assert subject_split(["x", "y"], 0.5, 0.5, 0) == ["train", "train"]  # too few subjects to hold any out


def test_limit_and_missing_root(tmp_path):
    for i in range(10):
        _img(tmp_path / "photos" / f"{i}.png")
    recs = load_dataset(DatasetConfig(name="mine", kind="folder", root=str(tmp_path / "photos"), limit=4))
    assert len(recs) == 4
    with pytest.raises(FileNotFoundError, match="official layout"):
        load_dataset(_cfg("celeba", tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="kind: choose one of sample, celeba, wider"):  # refused by the config
        load_dataset(_cfg("imagenet", tmp_path))


def test_the_configs_dataset_kinds_are_the_loaders():
    from ganonlib.config import DATASET_KINDS
    from ganonlib.data.datasets import LOADERS

    assert set(DATASET_KINDS) == set(LOADERS)
