"""Preprocessing on real faces from ../shared/data (skipped when absent): detection and mesh success rates."""
import pytest

from conftest import shared_data
from ganonlib.config import DatasetConfig, PreprocessConfig
from ganonlib.data.datasets import load_dataset
from ganonlib.data.preprocess import preprocess_dataset

pytestmark = pytest.mark.realdata


@pytest.mark.parametrize("name,kind,min_detection,min_mesh", [
    ("celeba_sample", "celeba", 0.98, 0.95),  # measured: 1.000 / 0.977 at 512
    ("emotion_sample", "folder", 0.95, 0.95),  # grey 350x350 close-ups; measured: 0.985 / 0.976 at 512
])
def test_detection_and_mesh_rates_on_real_photos(tmp_path, name, kind, min_detection, min_mesh):
    records = load_dataset(DatasetConfig(name=name, kind=kind, root=str(shared_data(name))))
    summary = preprocess_dataset(records, tmp_path, PreprocessConfig(image_size=256, n_jobs=2), progress=False)
    assert summary["files"] == len(records) > 500
    assert summary["detection_rate"] >= min_detection, summary
    assert summary["mesh_rate"] >= min_mesh, summary
    assert summary["reasons"].keys() <= {"no_face", "no_mesh"}, summary
