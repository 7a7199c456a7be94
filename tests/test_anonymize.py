"""Anonymization: the CLI on the bad-input corpus, pairs of a processed dataset, policies, precision, conversion."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from corpus import EXPECTED, HOSTILE, build_corpus, build_hostile
from ganonlib.anonymize.ganonymization import anonymize_pairs
from ganonlib.anonymize.generator import Anonymizer
from ganonlib.anonymize.inputs import PHOTO_WRITE_FORMATS, photo_format_of
from ganonlib.anonymize.run import anonymize_files, close_workers
from ganonlib.cli import main
from ganonlib.config import AnonymizeConfig, PreprocessConfig, SampleConfig
from ganonlib.data.sample import build_sample, load_photo
from ganonlib.io import read_manifest
from ganonlib.models.convert import convert_lightning_checkpoint
from ganonlib.train.gan import load_checkpoint


def _photo_out(name: str, source) -> str:
    """The anonymized photo's name by default: the input's own, where the kit writes its format (by content, not by
    name); else the name with PNG's extension."""
    fmt = photo_format_of(Path(source))
    return f"photos/{name}" if fmt in PHOTO_WRITE_FORMATS else f"photos/{name.rpartition('.')[0] or name}.png"


def _photo_rows(rows):
    """The input's own row (face -1) of each source, by file name."""
    return {r.source.split("/")[-1]: r for r in rows if r.face < 0}


def test_cli_on_the_bad_input_and_hostile_corpus(tmp_path, generator_file, capsys):
    root = build_hostile(build_corpus(tmp_path / "photos"))
    code = main(["anonymize", str(root), str(tmp_path / "out"), "--weights", str(generator_file),
                 "--crops", "--device", "cpu"])
    assert code == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    faces = sum(f for _, _, f in EXPECTED.values()) + sum(f for _, _, f in HOSTILE.values())
    counts = re.match(rf"{len(EXPECTED) + len(HOSTILE)} files: (\d+) faces found, (\d+) re-synthesized, (\d+) covered "
                      r"by the fallback \(blur\), 0 left unchanged; 1 without face", line)
    found, resynthesized, covered = map(int, counts.groups())
    # the search's edge tiles may take a texture at a border for a cut face: covered, never a face let through
    assert resynthesized == faces and found == faces + covered
    rows = read_manifest(tmp_path / "out" / "manifest.csv")
    photos = _photo_rows(rows)
    assert set(photos) == set(EXPECTED) | set(HOSTILE)  # every entry of the tree has its row
    for name, (outcome, reason, n_faces) in {**EXPECTED, **HOSTILE}.items():
        got = [r for r in rows if r.source.split("/")[-1] == name]
        if outcome in ("error", "skipped") and reason != "no_face":
            assert [(r.outcome, r.reason.split(":")[0]) for r in got] == [(outcome, reason)], name
        elif reason == "no_face":  # no face: the paper's average face under the default policy
            assert photos[name].outcome == "ok" and photos[name].reason.startswith("no_face: average face")
        else:
            assert sum(r.face >= 0 and r.outcome == "ok" for r in got) == n_faces, name
            assert photos[name].outputs == _photo_out(name, photos[name].source), name
    assert "only the first of 2 frames" in photos["animated.gif"].reason
    assert "written as PNG: the kit does not write GIF" in photos["animated.gif"].reason
    out = tmp_path / "out"
    # each photo under its own name: x.jpg and x.png, y.jpg's crop and y_f0.jpg's photo never meet
    for name in ("x.jpg", "x.png", "y.jpg", "y_f0.jpg", "no_extension", "photo.avif"):
        assert (out / _photo_out(name, photos[name].source)).is_file()
        assert (out / "faces" / f"{name}_f0.png").is_file()  # crops stay lossless: what the evaluation reads
    assert not list(out.rglob("*.jpg.jpg")) and not list(out.rglob("*.png.png"))
    odd = "caf\udce9.jpg"
    assert (out / "photos" / odd).is_file()  # the name's own bytes, kept
    pasted = np.asarray(Image.open(out / "photos" / "several_faces.jpg"))
    original = np.asarray(Image.open(root / "several_faces.jpg"))
    assert pasted.shape == original.shape and not np.array_equal(pasted, original)
    assert (out / "faces" / "several_faces.jpg_f1.png").is_file()
    assert not list((out / "photos").glob("no_face.jpg.*"))  # a photo without face is never copied as "anonymized"
    manifest = pd.read_csv(out / "manifest.csv", encoding_errors="surrogateescape")
    assert len(manifest) == len(rows)  # a name's "\r" or "\n" splits no row for any reader
    before = (out / "manifest.csv").read_bytes()
    code = main(["anonymize", str(root), str(out), "--weights", str(generator_file), "--crops", "--device", "cpu"])
    assert code == 0 and (out / "manifest.csv").read_bytes() == before  # the rerun reads every row back, redoes none


@pytest.mark.slow
def test_the_pipeline_writes_what_the_serial_path_writes(tmp_path, generator_file):
    """Extraction workers, the feeder thread and the writer threads change when things happen, not what is written:
    the same files, byte for byte, and the same manifest as one worker doing one step after the other."""
    build_sample(SampleConfig(out_dir=str(tmp_path / "sample"), variants_per_photo=3))
    photos = tmp_path / "sample" / "images"
    (photos / "broken.png").write_bytes(b"not a png")  # a failed input takes its place in the order too
    an = Anonymizer(AnonymizeConfig(weights=str(generator_file), device="cpu", crops=True, batch_size=2,
                                    workers=2))
    try:
        serial = anonymize_files(photos, tmp_path / "serial", an, progress=False, serial=True)
        piped = anonymize_files(photos, tmp_path / "piped", an, progress=False)
    finally:
        close_workers(an)
    assert serial == piped and serial["faces_found"] >= 9 and serial["files_failed"] == 1
    files = {p.relative_to(tmp_path / "serial") for p in (tmp_path / "serial").rglob("*") if p.is_file()}
    assert files == {p.relative_to(tmp_path / "piped") for p in (tmp_path / "piped").rglob("*") if p.is_file()}
    assert len([f for f in files if f.parts[0] == "photos"]) == 9
    for name in files:
        assert (tmp_path / "serial" / name).read_bytes() == (tmp_path / "piped" / name).read_bytes(), name


@pytest.mark.slow
def test_each_photo_keeps_its_name_and_format_unless_a_format_is_asked_for(tmp_path, generator_file, astronaut):
    (tmp_path / "in" / "trip").mkdir(parents=True)
    Image.fromarray(astronaut).save(tmp_path / "in" / "me.jpg", quality=90)
    Image.fromarray(astronaut).save(tmp_path / "in" / "me.png")
    Image.fromarray(astronaut).save(tmp_path / "in" / "trip" / "IMG_7.JPG", quality=90)
    Image.fromarray(astronaut).save(tmp_path / "in" / "trip" / "me.webp", quality=90)
    for fmt, written in (("auto", {"me.jpg": "JPEG", "me.png": "PNG", "trip/IMG_7.JPG": "JPEG",
                                   "trip/me.webp": "WEBP"}),
                         # a name taken only because the format changed gets the old extension as a suffix
                         ("png", {"me_jpg.png": "PNG", "me.png": "PNG", "trip/IMG_7.png": "PNG",
                                  "trip/me.png": "PNG"}),
                         ("jpeg", {"me.jpg": "JPEG", "me_png.jpg": "JPEG", "trip/IMG_7.JPG": "JPEG",
                                   "trip/me.jpg": "JPEG"})):
        an = Anonymizer(AnonymizeConfig(weights=str(generator_file), device="cpu", second_detector="none",
                                        photo_format=fmt))
        summary = anonymize_files(tmp_path / "in", tmp_path / fmt, an, progress=False)
        photos = tmp_path / fmt / "photos"
        found = {p.relative_to(photos).as_posix(): Image.open(p).format for p in photos.rglob("*") if p.is_file()}
        assert found == written and summary["faces_anonymized"] == 4, fmt
        assert not (tmp_path / fmt / "faces").exists()  # crops only on request
    renamed = [r for r in read_manifest(tmp_path / "png" / "manifest.csv") if r.outputs == "photos/me_jpg.png"]
    said = "written as PNG, as photo_format asks; named me_jpg.png, since me.png is another photo's"
    assert said in renamed[0].reason
    jpeg, png = (tmp_path / "auto" / "photos" / "me.jpg", tmp_path / "png" / "photos" / "me_jpg.png")
    assert jpeg.stat().st_size < png.stat().st_size / 2  # a JPEG stays JPEG-sized
    assert np.abs(np.asarray(Image.open(jpeg), int) - np.asarray(Image.open(png), int)).mean() < 2.0


@pytest.mark.parametrize("policy,written", [("skip", []), ("blur", ["photos/blank.png"]),
                                           ("keep", ["photos/blank.png"]), ("average", ["faces/blank.png_f0.png"])])
@pytest.mark.slow
def test_no_face_policies_are_recorded(tmp_path, generator_file, policy, written):
    (tmp_path / "in").mkdir()
    blank = np.full((64, 64, 3), 120, np.uint8)
    blank[::7] = 30  # stripes: a blur shows
    Image.fromarray(blank).save(tmp_path / "in" / "blank.png")
    an = Anonymizer(AnonymizeConfig(weights=str(generator_file), no_face=policy, device="cpu"))
    summary = anonymize_files(tmp_path / "in", tmp_path / "out", an, progress=False)
    assert summary["files_without_face"] == 1 and summary["no_face_policy"] == policy
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.png")) == written
    if policy in ("keep", "blur"):
        same = np.array_equal(np.asarray(Image.open(tmp_path / "out" / "photos" / "blank.png")), blank)
        assert same == (policy == "keep")
    assert f"policy {policy}" in read_manifest(tmp_path / "out" / "manifest.csv")[0].reason


def test_pairs_of_a_processed_dataset(tmp_path, generator_file):
    root = tmp_path / "processed"
    (root / "landmarks" / "val").mkdir(parents=True)
    rows = []
    for i in range(3):
        Image.fromarray((np.random.default_rng(i).random((256, 256)) > 0.99).astype(np.uint8) * 255).save(
            root / "landmarks" / "val" / f"k{i}.png")
        rows.append({"key": f"k{i}", "split": "val", "image": f"images/val/k{i}.png",
                     "landmarks": f"landmarks/val/k{i}.png", "points": "", "source": "", "face": 0,
                     "subject": "s", "label": "", "attributes": ""})
    pd.DataFrame(rows).to_csv(root / "index.csv", index=False)
    an = Anonymizer(AnonymizeConfig(weights=str(generator_file), batch_size=2, device="cpu"))
    summary = anonymize_pairs(root, tmp_path / "ours", an, progress=False)
    assert summary["pairs"] == 3 and summary["weights_sha256"]
    index = pd.read_csv(tmp_path / "ours" / "index.csv")
    assert list(index.key) == ["k0", "k1", "k2"]
    assert np.asarray(Image.open(tmp_path / "ours" / index.image[0])).shape == (256, 256, 3)


def test_train_and_inference_size_must_match(generator_file):
    with pytest.raises(ValueError, match="same preprocessing"):
        Anonymizer(AnonymizeConfig(weights=str(generator_file)), PreprocessConfig(image_size=512))


def test_bf16_stays_close_to_fp32(generator_file):
    marks = (np.random.default_rng(0).random((2, 256, 256)) > 0.98).astype(np.uint8) * 255
    fp32 = Anonymizer(AnonymizeConfig(weights=str(generator_file), precision="fp32", device="cpu")).generate(marks)
    bf16 = Anonymizer(AnonymizeConfig(weights=str(generator_file), precision="bf16", device="cpu")).generate(marks)
    diff = np.abs(fp32.astype(int) - bf16.astype(int))
    assert diff.mean() < 2.0 and np.percentile(diff, 99) < 12  # 8-bit levels


def test_missing_weights_give_one_message(tmp_path, capsys):
    (tmp_path / "in.png").write_bytes(b"")
    assert main(["anonymize", str(tmp_path / "in.png"), str(tmp_path / "o"), "--weights", str(tmp_path / "no.pt")]) == 2
    err = capsys.readouterr().err
    assert "GAN generator: weights not found" in err and "Traceback" not in err


def test_convert_lightning_checkpoint(tmp_path, generator_file):
    weights = load_checkpoint(generator_file)["generator"]
    ckpt = {"epoch": 24, "state_dict": {**{f"generator.{k}": v for k, v in weights.items()},
                                        "discriminator.model.0.weight": torch.zeros(1)}}
    torch.save(ckpt, tmp_path / "published.ckpt")
    digest = convert_lightning_checkpoint(tmp_path / "published.ckpt", tmp_path / "gen.pt", image_size=256)
    assert (tmp_path / "gen.pt.sha256").read_text().split()[0] == digest
    converted = load_checkpoint(tmp_path / "gen.pt")
    assert converted["image_size"] == 256
    assert all(torch.equal(converted["generator"][k], v) for k, v in weights.items())
    torch.save({"state_dict": {"x": torch.zeros(1)}}, tmp_path / "other.ckpt")
    with pytest.raises(ValueError, match="no 'generator"):
        convert_lightning_checkpoint(tmp_path / "other.ckpt", tmp_path / "o.pt")
    with pytest.raises(ValueError, match="sha256"):
        convert_lightning_checkpoint(tmp_path / "published.ckpt", tmp_path / "o.pt", sha256="0" * 64)
    # a tampered sidecar is caught when the generator is loaded
    (tmp_path / "gen.pt.sha256").write_text("f" * 64 + "  gen.pt\n")
    with pytest.raises(ValueError, match="sha256"):
        Anonymizer(AnonymizeConfig(weights=str(tmp_path / "gen.pt")))


def test_the_fingerprint_ignores_what_only_the_pipeline_reads():
    """A stage's run (params.yaml's anonymize section) and the CLI's (the anonymizer's settings) with the same
    settings have one fingerprint, so either reuses the other's photos; an anonymizer setting changes it."""
    from types import SimpleNamespace

    from ganonlib.anonymize.run import fingerprint as settings_fingerprint
    from ganonlib.config import AnonymizeParams

    def fingerprint(cfg):
        return settings_fingerprint(SimpleNamespace(cfg=cfg, preprocess=PreprocessConfig(), weights_sha256="0" * 64))

    plain = fingerprint(AnonymizeConfig())
    assert fingerprint(AnonymizeParams(datasets=("celeba",), n_jobs=4, scheduler="tcp://host:8786")) == plain
    assert fingerprint(AnonymizeConfig(fallback="fill")) != plain


def test_a_folder_of_photos_the_kit_cannot_decode_fails_strict_and_says_why(tmp_path, generator_file, capsys):
    from corpus import HEIC_HEAD

    (tmp_path / "phone").mkdir()
    for name in ("IMG_0001.HEIC", "IMG_0002.heic"):
        (tmp_path / "phone" / name).write_bytes(HEIC_HEAD + bytes(1000))
    args = ["anonymize", str(tmp_path / "phone"), str(tmp_path / "out"), "--weights", str(generator_file),
            "--device", "cpu"]
    assert main(args + ["--strict"]) == 3
    out, err = capsys.readouterr()
    assert "2 failed (unsupported_format 2), 0 not images" in out and "2 files failed" in err
    rows = _photo_rows(read_manifest(tmp_path / "out" / "manifest.csv"))
    assert rows["IMG_0001.HEIC"].reason.startswith("unsupported_format: a HEIC photo")


@pytest.mark.slow
def test_an_animation_whose_face_is_in_a_later_frame_says_only_the_first_was_searched(tmp_path, generator_file):
    face = Image.fromarray(np.asarray(Image.fromarray(load_photo("astronaut")).resize((256, 256))))
    (tmp_path / "in").mkdir()
    Image.new("RGB", (256, 256), (90, 90, 90)).save(tmp_path / "in" / "later.gif", save_all=True,
                                                    append_images=[face])
    assert main(["anonymize", str(tmp_path / "in"), str(tmp_path / "out"), "--weights", str(generator_file),
                 "--device", "cpu"]) == 0
    row = _photo_rows(read_manifest(tmp_path / "out" / "manifest.csv"))["later.gif"]
    assert row.reason.startswith("no_face") and row.reason.endswith("only the first of 2 frames anonymized")
