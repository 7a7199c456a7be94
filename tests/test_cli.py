import json

import pytest
from PIL import Image

from ganonlib.cli import main
from ganonlib.data.sample import load_photo
from ganonlib.io import atomic_write_image


def test_preprocess_command_on_a_folder(tmp_path, astronaut, capsys):
    (tmp_path / "in" / "sub").mkdir(parents=True)
    Image.fromarray(astronaut).save(tmp_path / "in" / "sub" / "me.jpg")
    (tmp_path / "in" / "broken.jpg").write_bytes(b"\xff\xd8\xff")
    code = main(["preprocess", str(tmp_path / "in"), str(tmp_path / "out"), "--image-size", "96", "--n-jobs", "1"])
    assert code == 0
    printed = capsys.readouterr().out
    summary = json.loads(printed[: printed.rindex("}") + 1])
    assert summary["files"] == 2 and summary["pairs"] == 1
    assert (tmp_path / "out" / "images" / "train" / "sub__me.jpg_f0.png").is_file()


def test_missing_retinaface_weights_give_one_clear_message(tmp_path, astronaut, capsys, monkeypatch):
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path / "home"))
    Image.fromarray(astronaut).save(tmp_path / "me.jpg")
    code = main(["preprocess", str(tmp_path / "me.jpg"), str(tmp_path / "out"), "--detector", "retinaface"])
    err = capsys.readouterr().err
    assert code == 2
    assert "retinaface.onnx" in err and str(tmp_path / "home" / ".deepface" / "weights") in err
    assert "Traceback" not in err


def test_unknown_backend_is_refused(tmp_path, capsys):
    (tmp_path / "x.png").write_bytes(b"")
    # refused from the field's choices, before any work, in one line
    assert main(["preprocess", str(tmp_path / "x.png"), str(tmp_path / "o"), "--detector", "dlib"]) == 2
    err = capsys.readouterr().err
    assert "--detector: choose one of mediapipe, retinaface, mtcnn (got 'dlib')" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_version_and_help_come_from_the_config_fields(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("ganon ")
    assert main(["anonymize", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--fallback {blur,fill,none}" in out and "face found but not re-synthesized" in out


@pytest.mark.slow
def test_train_command_writes_a_generator_and_refuses_a_missing_folder(pairs, tmp_path, capsys):
    code = main(["train", str(pairs), str(tmp_path / "gan"), "--epochs", "1", "--batch-size", "2",
                 "--max-steps-per-epoch", "1", "--samples", "1", "--device", "cpu", "--no-resume"])
    assert code == 0
    assert (tmp_path / "gan" / "generator.pt").is_file() and (tmp_path / "gan" / "losses.csv").is_file()
    assert "1 epochs on 3 pairs (1 process(es), cpu)" in capsys.readouterr().out
    # a generator of 3 pairs says, once, what it is and where real weights come from
    photo = tmp_path / "in" / "astronaut.png"
    atomic_write_image(photo, load_photo("astronaut"))
    assert main(["anonymize", str(photo), str(tmp_path / "out"), "--weights", str(tmp_path / "gan" / "generator.pt"),
                 "--device", "cpu", "--second-detector", "none"]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("ganon: note:")]
    assert len(notes) == 1 and "trained on 3 pairs" in notes[0] and "ganon weights fetch publication" in notes[0]
    code = main(["train", str(tmp_path / "nothing"), str(tmp_path / "gan2"), "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and "nothing" in err and "Traceback" not in err


def test_sample_command_takes_its_options_from_the_sample_config(tmp_path, capsys):
    assert main(["sample", str(tmp_path / "s"), "--variants-per-photo", "2", "--seed", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["images"] == 6


def test_sample_keeps_files_it_did_not_write_and_drops_only_its_own_old_variants(tmp_path, capsys):
    # a folder of the user's, with or without an index.csv naming their photos: refused, nothing touched
    mine = tmp_path / "mine"
    (mine / "images").mkdir(parents=True)
    (mine / "images" / "my_holiday.png").write_bytes(b"a user's photo")
    for index in (None, "file,caption\nimages/my_holiday.png,beach\n"):
        if index:
            (mine / "index.csv").write_text(index)
        assert main(["sample", str(mine), "--variants-per-photo", "2"]) == 2
        assert "no index.csv of the kit there" in capsys.readouterr().err
        assert (mine / "images" / "my_holiday.png").read_bytes() == b"a user's photo"
        expected = ["images", "my_holiday.png", *(["index.csv"] if index else [])]
        assert sorted(p.name for p in mine.rglob("*")) == sorted(expected)
    # the kit's own folder, a user's file put in it later: rebuilt, the user's file stays
    out = tmp_path / "s"
    assert main(["sample", str(out), "--variants-per-photo", "3"]) == 0
    (out / "images" / "my_holiday.png").write_bytes(b"a user's photo")
    assert main(["sample", str(out), "--variants-per-photo", "2"]) == 0  # fewer variants: the third ones go
    capsys.readouterr()
    names = sorted(p.name for p in (out / "images").iterdir())
    assert "my_holiday.png" in names and (out / "images" / "my_holiday.png").read_bytes() == b"a user's photo"
    assert len(names) == 1 + 3 * 2 and not any(n.endswith("_002.png") for n in names)


@pytest.mark.slow
def test_train_refuses_an_unbounded_lr_and_stops_on_a_non_finite_loss_keeping_the_generator(pairs, tmp_path,
                                                                                             capsys):
    out = tmp_path / "gan"
    steps = ["--epochs", "1", "--batch-size", "2", "--max-steps-per-epoch", "1", "--samples", "1", "--device", "cpu",
             "--no-resume"]
    assert main(["train", str(pairs), str(out), *steps]) == 0
    good = (out / "generator.pt").read_bytes()
    capsys.readouterr()
    for bad in (["--lr", "inf"], ["--lr", "1e30"], ["--lr", "nan"], ["--lambda-l1", "inf"]):
        assert main(["train", str(pairs), str(out), *steps, *bad]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith(f"ganon: {bad[0]}:"), err
    # a weight that overflows float32: the first loss is infinite
    assert main(["train", str(pairs), str(out), *steps, "--lambda-l1", "1e39"]) == 1
    err = capsys.readouterr().err
    assert "training diverged: g_total inf" in err and "Traceback" not in err
    assert (out / "generator.pt").read_bytes() == good
