"""`ganon anonymize IN OUT` mirrors IN: each photo under its own relative name and in its own format, crops on
request, a renamed photo said in its row, and a rerun over an older output folder leaves one copy of each photo."""

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganonlib.anonymize.generator import Anonymizer
from ganonlib.anonymize.inputs import plan_photo_names
from ganonlib.anonymize.journal import Journal
from ganonlib.anonymize.run import anonymize_files, close_workers
from ganonlib.cli import main
from ganonlib.config import AnonymizeConfig
from ganonlib.io import read_manifest


def test_a_photo_keeps_its_name_where_its_format_is_written():
    plan = plan_photo_names([("a.jpg", "JPEG"), ("b", "PNG"), ("c.png", "JPEG"), ("d/e.TIF", "TIFF")])
    assert {rel: (t.name, t.fmt, t.note) for rel, t in plan.items()} == {
        "a.jpg": ("photos/a.jpg", "JPEG", ""), "b": ("photos/b", "PNG", ""),
        "c.png": ("photos/c.png", "JPEG", ""),  # a JPEG under a PNG name is mirrored as it came
        "d/e.TIF": ("photos/d/e.TIF", "TIFF", "")}


def test_a_changed_format_takes_a_free_name_whatever_the_order():
    photos = [("a.gif", "GIF"), ("a.png", "PNG"), ("a_gif.png", "PNG"), ("x/b.gif", "GIF"), ("c", "GIF")]
    plan = plan_photo_names(photos)
    assert plan_photo_names(photos[::-1]) == plan  # names kept as they are are placed first: order cannot move them
    assert plan["a.png"].name == "photos/a.png" and plan["a_gif.png"].name == "photos/a_gif.png"
    assert plan["a.gif"].name == "photos/a_gif_2.png" and plan["a.gif"].fmt == "PNG"
    assert plan["a.gif"].note == ("written as PNG: the kit does not write GIF; named a_gif_2.png, since a.png is "
                                  "another photo's")
    assert plan["x/b.gif"].name == "photos/x/b.png" and plan["x/b.gif"].note == "written as PNG: the kit does not " \
                                                                                "write GIF"
    assert plan["c"].name == "photos/c.png"
    assert len({t.name for t in plan.values()}) == len(plan)


def test_anonymize_photos_into_out_mirrors_the_folder(tmp_path, generator_file, astronaut, capsys):
    """The issue's walk: a folder of JPEGs and PNGs, in sub-folders, gives each photo back under its own name."""
    photos = tmp_path / "photos"
    (photos / "2024" / "summer").mkdir(parents=True)
    Image.fromarray(astronaut).save(photos / "couple.jpg", quality=92)
    Image.fromarray(astronaut).save(photos / "2024" / "portrait.png")
    Image.fromarray(astronaut[::2, ::2]).save(photos / "2024" / "summer" / "beach.JPEG", quality=85)
    out = tmp_path / "out"
    assert main(["anonymize", str(photos), str(out), "--weights", str(generator_file), "--device", "cpu",
                 "--second-detector", "none"]) == 0
    written = {p.relative_to(out).as_posix(): Image.open(p).format for p in out.rglob("*") if p.suffix != ".csv"
               and p.suffix != ".json" and p.is_file()}
    assert written == {"photos/couple.jpg": "JPEG", "photos/2024/portrait.png": "PNG",
                       "photos/2024/summer/beach.JPEG": "JPEG"}
    for rel in ("couple.jpg", "2024/portrait.png", "2024/summer/beach.JPEG"):
        before, after = np.asarray(Image.open(photos / rel)), np.asarray(Image.open(out / "photos" / rel))
        assert after.shape == before.shape and np.abs(after.astype(int) - before).mean() > 1.0, rel
    line = capsys.readouterr().out.strip().splitlines()[-1]
    found, covered = map(int, re.match(r"3 files: (\d+) faces found, 3 re-synthesized, (\d+) covered", line).groups())
    assert found == 3 + covered  # the edge tiles may take a texture at a border for a cut face: covered
    assert (out / "summary.json").is_file() and len(read_manifest(out / "manifest.csv")) == 3 + found


def test_several_inputs_each_keep_their_own_name(tmp_path, generator_file, astronaut, capsys):
    """`ganon anonymize trip/*.jpg talk.mp4 out/`, as a face blurring tool takes a shell glob: a photo under its file
    name, a folder's tree under the folder's name; a name two inputs would take is the second's error row."""
    from ganonlib.anonymize.inputs import InputError, discover_inputs

    face = Image.fromarray(astronaut).resize((256, 256))
    for rel in ("a/x.jpg", "b/x.jpg", "trip/y.png", "trip/sub/z.jpg", "c/trip"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        face.save(tmp_path / rel, format="PNG" if rel.endswith(("png", "trip")) else "JPEG")
    listed = [tmp_path / p for p in ("a/x.jpg", "b/x.jpg", "trip", "c/trip")]
    found = [(e.rel, e.problem.split(":")[0]) for e in discover_inputs(listed, tmp_path / "out")]
    assert found == [("x.jpg", ""), ("x.jpg", "name_collision"), ("trip/sub/z.jpg", ""), ("trip/y.png", ""),
                     ("trip", "name_collision")]
    with pytest.raises(InputError, match="does not exist"):
        discover_inputs([tmp_path / "a/x.jpg", tmp_path / "a/typo.jpg"], tmp_path / "out")
    with pytest.raises(InputError, match="is the input or contains it"):
        discover_inputs([tmp_path / "a/x.jpg", tmp_path / "trip"], tmp_path / "trip")

    out = tmp_path / "out"
    assert main(["anonymize", str(tmp_path / "a/x.jpg"), str(tmp_path / "trip"), str(out), "--weights",
                 str(generator_file), "--device", "cpu", "--second-detector", "none"]) == 0
    assert capsys.readouterr().out.startswith("3 files: ")
    assert sorted(p.relative_to(out).as_posix() for p in (out / "photos").rglob("*") if p.is_file()) == [
        "photos/trip/sub/z.jpg", "photos/trip/y.png", "photos/x.jpg"]


@pytest.mark.slow
def test_a_rerun_over_an_older_output_folder_leaves_one_copy_of_each_photo(tmp_path, generator_file, astronaut):
    (tmp_path / "in").mkdir()
    Image.fromarray(astronaut).save(tmp_path / "in" / "x.jpg", quality=90)
    out = tmp_path / "out"
    an = Anonymizer(AnonymizeConfig(weights=str(generator_file), device="cpu", second_detector="none", crops=True))
    try:
        anonymize_files(tmp_path / "in", out, an, progress=False)
    finally:
        close_workers(an)
    crops = {p.relative_to(out).as_posix() for p in (out / "faces").glob("*.png")}
    assert "faces/x.jpg_f0.png" in crops
    # what an older kit left: the photo as photos/x.jpg.jpg, rows under other settings
    (out / "photos" / "x.jpg").rename(out / "photos" / "x.jpg.jpg")
    manifest = out / "manifest.csv"
    manifest.write_text(manifest.read_text().replace("photos/x.jpg", "photos/x.jpg.jpg")
                        .replace(read_manifest(manifest)[0].fingerprint, "0123456789abcdef"))
    (out / "photos" / "mine.txt").write_text("a file the kit did not write")
    an = Anonymizer(AnonymizeConfig(weights=str(generator_file), device="cpu", second_detector="none"))
    try:
        summary = anonymize_files(tmp_path / "in", out, an, progress=False)
        assert summary["outputs_replaced"] == 1 + len(crops)  # the old photo, the crops no longer asked for
        assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
            "manifest.csv", "photos/mine.txt", "photos/x.jpg", "summary.json"]
        # the rerun of that rerun reuses the photo and removes nothing more
        before = (out / "summary.json").read_bytes()
        again = anonymize_files(tmp_path / "in", out, an, progress=False)
    finally:
        close_workers(an)
    assert again["files_reused"] == 1 and again["outputs_replaced"] == 0
    assert (out / "summary.json").read_bytes() == before  # the run's own counts are returned, not written
    history = Journal(manifest).history()
    assert history.current_outputs == {"photos/x.jpg"}
    assert history.superseded_outputs == {"photos/x.jpg.jpg"} | crops


@pytest.mark.parametrize("flag", ["--paste-back"])
@pytest.mark.slow
def test_the_old_paste_back_flag_is_accepted_and_explained(tmp_path, generator_file, astronaut, capsys, flag):
    (tmp_path / "in").mkdir()
    Image.fromarray(astronaut).save(tmp_path / "in" / "me.png")
    assert main(["anonymize", str(tmp_path / "in"), str(tmp_path / "out"), "--weights", str(generator_file),
                 "--device", "cpu", "--second-detector", "none", flag]) == 0
    assert "--paste-back is the default now" in capsys.readouterr().err
    assert (tmp_path / "out" / "photos" / "me.png").is_file()
    assert not Path(tmp_path / "out" / "faces").exists()
