"""ONNX export of the generator and the onnxruntime backend, checked against torch."""

import numpy as np
import pytest
import torch

from ganonlib.anonymize.generator import Anonymizer
from ganonlib.cli import main
from ganonlib.config import AnonymizeConfig
from ganonlib.io import atomic_write_torch
from ganonlib.models.networks import define_G
from ganonlib.models.onnx_generator import OnnxMismatchError, export_onnx, onnx_path


@pytest.fixture(scope="module")
def exported(tmp_path_factory, generator_file):
    weights = tmp_path_factory.mktemp("onnx") / "generator.pt"
    weights.write_bytes(generator_file.read_bytes())
    return weights, export_onnx(weights, check_batch=3)


def test_export_matches_torch_at_any_batch_size(exported):
    weights, report = exported
    assert report["onnx"] == str(onnx_path(weights)) and report["image_size"] == 256
    assert report["max_abs_diff"] < 1e-4 and report["checked_batch"] == 3  # a batch the export never saw


def test_the_onnx_backend_paints_the_torch_face(exported):
    weights, _ = exported
    marks = np.where(np.random.default_rng(1).random((5, 256, 256)) < 0.02, 255, 0).astype(np.uint8)
    torch_faces = Anonymizer(AnonymizeConfig(weights=str(weights), device="cpu", precision="fp32",
                                             batch_size=2)).generate(marks)
    onnx = Anonymizer(AnonymizeConfig(weights=str(weights), device="cpu", backend="onnx", batch_size=2))
    assert onnx.dtype is None  # onnxruntime runs fp32 whatever the precision setting
    faces = onnx.generate(marks)
    assert faces.shape == torch_faces.shape == (5, 256, 256, 3)
    assert np.abs(faces.astype(int) - torch_faces.astype(int)).max() <= 1  # rounding of the last grey level


@pytest.mark.slow
def test_a_stale_or_missing_onnx_file_is_refused_with_the_command_that_fixes_it(exported, tmp_path, capsys):
    weights, _ = exported
    other = tmp_path / "generator.pt"
    torch.manual_seed(1)
    atomic_write_torch(other, {"generator": define_G().state_dict(), "image_size": 256})
    with pytest.raises(FileNotFoundError, match="ganon export-onnx --weights"):
        Anonymizer(AnonymizeConfig(weights=str(other), device="cpu", backend="onnx"))
    onnx_path(other).write_bytes(onnx_path(weights).read_bytes())  # exported from other weights
    with pytest.raises(OnnxMismatchError, match="exported from other weights"):
        Anonymizer(AnonymizeConfig(weights=str(other), device="cpu", backend="onnx"))
    assert main(["export-onnx", "--weights", str(other)]) == 0
    assert "max abs difference" in capsys.readouterr().out
    Anonymizer(AnonymizeConfig(weights=str(other), device="cpu", backend="onnx"))  # fresh again


@pytest.mark.parametrize("opset", ["0", "-1", "7", "11", "99"])
def test_an_opset_the_generator_cannot_be_exported_at_is_one_line(exported, tmp_path, capsys, opset):
    weights, _ = exported
    assert main(["export-onnx", "--weights", str(weights), "--output", str(tmp_path / "g.onnx"),
                 "--opset", opset]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "opset must lie in [12, " in err and not (tmp_path / "g.onnx").exists()


def test_an_output_that_is_a_folder_or_unwritable_is_one_line(exported, lightning_checkpoint, tmp_path, capsys):
    weights, _ = exported
    (tmp_path / "folder").mkdir()
    (tmp_path / "a_file").write_text("x")
    for argv, code in ((["export-onnx", "--weights", str(weights), "--output", str(tmp_path / "folder")], 2),
                       (["convert-checkpoint", str(lightning_checkpoint), str(tmp_path / "folder")], 2),
                       (["export-onnx", "--weights", str(weights), "--output", str(tmp_path / "a_file" / "g.onnx")],
                        1)):
        assert main(argv) == code, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("ganon: ") and "Traceback" not in err, err


def test_a_command_told_to_write_over_its_own_input_keeps_it(exported, lightning_checkpoint, tmp_path, capsys):
    """convert-checkpoint and export-onnx refuse an output that is their input, named directly or through a link."""
    weights = tmp_path / "generator.pt"
    weights.write_bytes(exported[0].read_bytes())
    checkpoint = tmp_path / "last.ckpt"
    checkpoint.write_bytes(lightning_checkpoint.read_bytes())
    (tmp_path / "link.ckpt").symlink_to(checkpoint)
    before = {p: p.read_bytes() for p in (weights, checkpoint)}
    for argv in (["convert-checkpoint", str(checkpoint), str(checkpoint)],
                 ["convert-checkpoint", str(checkpoint), str(tmp_path / "link.ckpt")],
                 ["export-onnx", "--weights", str(weights), "--output", str(weights)]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "itself: name another file to write" in err, err
    assert {p: p.read_bytes() for p in (weights, checkpoint)} == before
    assert (tmp_path / "link.ckpt").is_symlink()
