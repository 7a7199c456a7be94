"""The authors' Lightning checkpoint, read as data: converted when it is one, refused when its pickle would run code."""
from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import torch

from ganonlib.anonymize.generator import Anonymizer
from ganonlib.config import AnonymizeConfig
from ganonlib.models.convert import (Inert, UnsafeCheckpointError, convert_lightning_checkpoint,
                                     read_lightning_checkpoint)
from ganonlib.models.generator_file import load_checkpoint


def test_a_real_lightning_checkpoint_is_read_without_running_its_pickle(lightning_checkpoint):
    with pytest.raises(pickle.UnpicklingError):  # what a tensors-only load says of it
        torch.load(lightning_checkpoint, weights_only=True)
    state = read_lightning_checkpoint(lightning_checkpoint)
    assert {"state_dict", "optimizer_states", "loops", "callbacks", "pytorch-lightning_version"} <= set(state)
    hparams = state["hyper_parameters"]
    assert isinstance(hparams, Inert) and "AttributeDict" in repr(hparams)
    assert hparams.as_dict()["img_size"] == 256 and hparams.as_dict()["dataset_name"] == "celeba"


def test_the_converted_generator_keeps_the_weights_and_the_training_size(lightning_checkpoint, tmp_path):
    digest = convert_lightning_checkpoint(lightning_checkpoint, tmp_path / "gen.pt")
    assert (tmp_path / "gen.pt.sha256").read_text().split()[0] == digest
    converted = load_checkpoint(tmp_path / "gen.pt")
    assert converted["image_size"] == 256 and converted["landmarks_style"] == "cross"  # from the hyper-parameters
    original = read_lightning_checkpoint(lightning_checkpoint)["state_dict"]
    assert all(torch.equal(converted["generator"][k], original[f"generator.{k}"]) for k in converted["generator"])
    anonymizer = Anonymizer(AnonymizeConfig(weights=str(tmp_path / "gen.pt"), device="cpu"))
    assert anonymizer.image_size == 256 and anonymizer.preprocess.landmarks_style == "cross"
    convert_lightning_checkpoint(lightning_checkpoint, tmp_path / "g512.pt", image_size=512, landmarks_style="point")
    assert load_checkpoint(tmp_path / "g512.pt")["image_size"] == 512  # the arguments win


class _Payload:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_a_checkpoint_whose_pickle_would_run_code_is_refused(lightning_checkpoint, tmp_path):
    marker = tmp_path / "ran"
    state = torch.load(lightning_checkpoint, weights_only=False)  # the fixture is ours: trusted
    state["callbacks"] = {"ModelCheckpoint": _Payload(str(marker))}
    torch.save(state, tmp_path / "malicious.ckpt")
    with pytest.raises(UnsafeCheckpointError, match=r"(posix|os|nt)\.system.*refused"):
        convert_lightning_checkpoint(tmp_path / "malicious.ckpt", tmp_path / "gen.pt")
    assert not marker.exists() and not (tmp_path / "gen.pt").exists()
    # nor does a known library smuggle a function in: only its classes become placeholders
    torch.save({"state_dict": {}, "callbacks": {"x": np.zeros(3), "y": np.float32(0.5)}}, tmp_path / "data.ckpt")
    assert all(isinstance(v, Inert) for v in read_lightning_checkpoint(tmp_path / "data.ckpt")["callbacks"].values())
    torch.save({"state_dict": {}, "x": np.save}, tmp_path / "function.ckpt")
    with pytest.raises(UnsafeCheckpointError, match=r"numpy\S*\.save"):
        read_lightning_checkpoint(tmp_path / "function.ckpt")
    torch.save({"state_dict": {}, "x": eval}, tmp_path / "builtin.ckpt")
    with pytest.raises(UnsafeCheckpointError, match=r"builtins\.eval"):
        read_lightning_checkpoint(tmp_path / "builtin.ckpt")


def test_not_a_generator_checkpoint_is_one_message(tmp_path):
    torch.save({"state_dict": {"x": torch.zeros(1)}}, tmp_path / "other.ckpt")
    with pytest.raises(ValueError, match="no 'generator"):
        convert_lightning_checkpoint(tmp_path / "other.ckpt", tmp_path / "o.pt")
    (tmp_path / "text.ckpt").write_text("not a checkpoint")
    with pytest.raises(ValueError, match="not a readable torch checkpoint"):
        convert_lightning_checkpoint(tmp_path / "text.ckpt", tmp_path / "o.pt")


@pytest.mark.parametrize("size", ["7", "-1", "0", "384", "99999"])
def test_an_image_size_the_generator_cannot_run_is_refused_before_anything_is_written(lightning_checkpoint, tmp_path,
                                                                                      capsys, size):
    from ganonlib.cli import main

    out = tmp_path / "generator.pt"
    out.write_bytes(b"the generator in use")
    assert main(["convert-checkpoint", str(lightning_checkpoint), str(out), "--image-size", size]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "image_size must be a multiple of 256" in err and size in err
    assert out.read_bytes() == b"the generator in use" and not (tmp_path / "generator.pt.sha256").exists()


@pytest.mark.parametrize("recorded", [-5, 0, 10**6, "large"])
def test_a_checkpoint_recording_an_impossible_img_size_is_refused(tmp_path, recorded):
    from ganonlib.models.networks import define_G
    from ganonlib.weights import WeightsError

    ckpt = tmp_path / "odd.ckpt"
    torch.save({"state_dict": {f"generator.{k}": v for k, v in define_G().state_dict().items()},
                "hyper_parameters": {"img_size": recorded}}, ckpt)
    with pytest.raises(WeightsError, match="image_size must be a multiple of 256"):
        convert_lightning_checkpoint(ckpt, tmp_path / "gen.pt")
    assert not (tmp_path / "gen.pt").exists()


def test_a_generator_file_recording_an_impossible_size_is_refused_when_loaded(tmp_path):
    from ganonlib.models.generator_file import load_generator
    from ganonlib.models.networks import define_G
    from ganonlib.weights import WeightsError

    torch.save({"generator": define_G().state_dict(), "image_size": 7}, tmp_path / "g.pt")
    with pytest.raises(WeightsError, match="got 7"):
        load_generator(tmp_path / "g.pt", torch.device("cpu"))
