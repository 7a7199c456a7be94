"""The anonymizer cuts every face as the generator's training faces were cut: the generator file records the
detector, margin, image size and landmark style, and paste-back, videos, the stages and `ganon anonymize` follow
them (or refuse, saying what differs)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ganonlib.anonymize.generator import AlignmentMismatch, Anonymizer, stage_anonymizer
from ganonlib.cli import main
from ganonlib.config import AnonymizeConfig, GanTrainConfig, PreprocessConfig
from ganonlib.data.datasets import Record
from ganonlib.data.preprocess import preprocess_dataset
from ganonlib.faces.align import align_face
from ganonlib.faces.finder import start_finder
from ganonlib.models.generator_file import load_generator
from ganonlib.train.gan import GENERATOR, train_gan

pytestmark = pytest.mark.slow  # trains a GAN for two steps: about 25 s on 2 cores


@pytest.fixture(scope="module")
def margin_gan(tmp_path_factory):
    """A GAN trained (two steps) on faces preprocessed at margin 0.2, and the photo they came from."""
    from ganonlib.data.sample import load_photo

    root = tmp_path_factory.mktemp("margin")
    image = load_photo("astronaut")
    (root / "in").mkdir()
    photos = [root / "in" / "a.png", root / "in" / "b.png"]
    Image.fromarray(image).save(photos[0])
    Image.fromarray(np.ascontiguousarray(image[:, ::-1])).save(photos[1])
    cfg = PreprocessConfig(image_size=256, margin=0.2, n_jobs=1)
    preprocess_dataset([Record(p, "train", p.stem) for p in photos], root / "processed", cfg, progress=False)
    train_gan(GanTrainConfig(data_dir=str(root / "processed"), out_dir=str(root / "gan"), epochs=1, batch_size=1,
                             device="cpu", max_steps_per_epoch=2, samples=1, seed=0))
    return root / "gan" / GENERATOR, image, photos[0]


def test_the_generator_file_records_how_its_faces_were_cut(margin_gan):
    import torch

    _, trained = load_generator(margin_gan[0], torch.device("cpu"))
    assert trained.alignment() == {"image_size": 256, "landmarks_style": "cross", "detector": "mediapipe",
                                   "margin": 0.2}


def test_a_gan_trained_on_margin_02_crops_gets_margin_02_crops_at_paste_back(margin_gan):
    weights, image, _ = margin_gan
    cfg = AnonymizeConfig(weights=str(weights), device="cpu", second_detector="none")
    for anonymizer in (Anonymizer(cfg), stage_anonymizer(cfg, PreprocessConfig(margin=0.0))):
        assert (anonymizer.preprocess.margin, anonymizer.preprocess.detector) == (0.2, "mediapipe")
        face = start_finder(anonymizer.preprocess, "none")(image)[0]
        at_02 = align_face(image, face.detection, 256, 0.2)
        assert np.allclose(face.aligned.matrix, at_02.matrix)  # the crop paste-back maps back from
        assert not np.allclose(face.aligned.matrix, align_face(image, face.detection, 256, 0.0).matrix)


def test_other_alignment_is_refused_with_what_differs(margin_gan):
    cfg = AnonymizeConfig(weights=str(margin_gan[0]), device="cpu")
    with pytest.raises(AlignmentMismatch, match="cut with margin 0.2, these are cut with margin 0.0"):
        Anonymizer(cfg, PreprocessConfig(image_size=256, margin=0.0))


def test_the_command_line_follows_the_generator_and_says_so(margin_gan, tmp_path, capsys):
    weights, _, photo = margin_gan
    assert main(["anonymize", str(photo), str(tmp_path / "out"), "--weights", str(weights), "--device", "cpu",
                 "--second-detector", "none"]) == 0
    assert "margin 0.2 (not 0.0)" in capsys.readouterr().err
    assert (tmp_path / "out" / "photos" / "a.png").is_file()
