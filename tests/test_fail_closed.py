"""The anonymizer fails closed (docs/anonymize.md, "What the anonymizer guarantees"): no face found leaves unchanged, every face
counted, settings checked before any work, nothing of the user's overwritten or deleted."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ganonlib.cli import main
from ganonlib.data.border_faces import EDGES, cut_by_border
from ganonlib.data.sample import load_photo
from ganonlib.io import read_manifest

# pixel boxes (x0, y0, x1, y1) of the faces each privacy photo holds, known from how it is built
ASTRONAUT_FACE = (178, 83, 273, 178)
GRACE_HOPPER_FACE = (171, 147, 366, 341)  # as MediaPipe boxes it in the whole photo


def _grid() -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """Twelve faces tiled 4 x 3 (the case where a cap of 10 let two through unchanged), with their face boxes."""
    face = Image.fromarray(load_photo("astronaut")).crop((130, 0, 330, 220))
    grid = Image.new("RGB", (4 * 240, 3 * 240), (90, 90, 90))
    boxes = []
    for i in range(12):
        w, h = 150 + 5 * i, 165 + 5 * i
        tile = face.resize((w, h)).rotate((-15, 0, 15)[i % 3], expand=False, fillcolor=(90, 90, 90))
        x, y = (i % 4) * 240 + 10, (i // 4) * 240 + 10
        grid.paste(tile, (x, y))
        sx, sy = w / 200, h / 220  # the face inside the 200 x 220 crop: x 48-143, y 83-178
        boxes.append((x + int(58 * sx), y + int(93 * sy), x + int(133 * sx), y + int(168 * sy)))
    return np.asarray(grid), boxes


def _privacy_photos(folder):
    """name -> (image, face boxes): the 12-face grid, an upside-down face, a 40 px face in a 2000 px photo, faces
    cut by the image border at each edge and in corners."""
    folder.mkdir(parents=True, exist_ok=True)
    astronaut = load_photo("astronaut")
    x0, y0, x1, y1 = ASTRONAUT_FACE
    small = np.asarray(Image.fromarray(astronaut[0:300, 100:360]).resize((109, 126), Image.Resampling.LANCZOS))
    big = np.full((2000, 2000, 3), 120, np.uint8)
    big[1000:1126, 700:809] = small
    photos = {
        "grid.png": _grid(),
        "upside_down.png": (np.ascontiguousarray(astronaut[::-1, ::-1]), [(512 - x1, 512 - y1, 512 - x0, 512 - y0)]),
        "small_face.png": (big, [(735, 1035, 771, 1071)]),
        "cut_by_border.png": (np.ascontiguousarray(astronaut[:, 230:]), [(0, y0, x1 - 230, y1)]),
    }
    # half of a 60 px face at each edge of a 600 px photo and in each corner (where it shows a quarter): the search
    # before its edge tiles missed top, bottom and every corner (issue: a group photo's faces cut by the top and the
    # left edge came back unchanged)
    from skimage import data

    scene = data.coffee()  # no face in it
    for edge in EDGES:
        case = cut_by_border(astronaut, ASTRONAUT_FACE, scene, edge, 0.5, 60)
        photos[f"cut_{edge}.png"] = (case.image, [case.box])
    hopper = load_photo("grace_hopper")
    case = cut_by_border(hopper, GRACE_HOPPER_FACE, scene, "right", 0.5, 60)
    photos["cut_right_hopper.png"] = (case.image, [case.box])
    for name, (image, _) in photos.items():
        Image.fromarray(image).save(folder / name)
    return photos


def _changed(before: np.ndarray, after: np.ndarray, box) -> float:
    x0, y0, x1, y1 = (max(0, int(v)) for v in box)
    diff = np.abs(before[y0:y1, x0:x1].astype(int) - after[y0:y1, x0:x1].astype(int)).max(axis=-1)
    return float((diff > 20).mean())


def _anonymize(tmp_path, generator_file, *args, name="out"):
    return main(["anonymize", str(tmp_path / "in"), str(tmp_path / name), "--weights", str(generator_file),
                 "--device", "cpu", *args])


@pytest.fixture(scope="module")
def privacy_run(tmp_path_factory, generator_file):
    tmp_path = tmp_path_factory.mktemp("privacy")
    photos = _privacy_photos(tmp_path / "in")
    # the face search alone: MTCNN, the default cross-check, is the independent checker below
    assert _anonymize(tmp_path, generator_file, "--second-detector", "none") == 0
    return tmp_path, photos


def test_every_face_of_the_input_changes_in_the_output(privacy_run):
    tmp_path, photos = privacy_run
    rows = read_manifest(tmp_path / "out" / "manifest.csv")
    for name, (image, boxes) in photos.items():
        out = np.asarray(Image.open(tmp_path / "out" / "photos" / name))
        shares = [_changed(image, out, box) for box in boxes]
        assert min(shares) > 0.5, (name, shares)
        faces = [r for r in rows if r.source.endswith(name) and r.face >= 0]
        assert len(faces) >= len(boxes) and all(r.outcome in ("ok", "covered") for r in faces), name
    # the upside-down face: mouth and lips too (the mesh hull of an upside-down crop used to leave them)
    image, _ = photos["upside_down.png"]
    out = np.asarray(Image.open(tmp_path / "out" / "photos" / "upside_down.png"))
    assert _changed(image, out, (267, 345, 307, 365)) > 0.9


def test_a_second_detector_finds_no_face_left_in_the_outputs(privacy_run):
    """Checked independently: MTCNN (its weights ship in facenet-pytorch) on each input; every face it finds must
    be changed in the output."""
    from ganonlib.faces.detect import make_detector

    tmp_path, photos = privacy_run
    mtcnn = make_detector("mtcnn", 0.9, 0)
    found = 0
    for name, (image, _) in photos.items():
        out = np.asarray(Image.open(tmp_path / "out" / "photos" / name))
        for det in mtcnn.detect(image):
            found += 1
            assert _changed(image, out, det.box) > 0.5, (name, det.box)
    assert found >= 12  # the check saw the grid's faces at least


@pytest.mark.slow
def test_faces_beyond_the_cap_are_covered_and_counted(tmp_path, generator_file, capsys):
    (tmp_path / "in").mkdir()
    image, boxes = _grid()
    Image.fromarray(image).save(tmp_path / "in" / "grid.png")
    assert _anonymize(tmp_path, generator_file, "--max-faces", "10") == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert "12 faces found, 10 re-synthesized, 2 covered by the fallback (blur), 0 left unchanged" in line
    out = np.asarray(Image.open(tmp_path / "out" / "photos" / "grid.png"))
    assert min(_changed(image, out, box) for box in boxes) > 0.5
    covered = [r for r in read_manifest(tmp_path / "out" / "manifest.csv") if r.outcome == "covered"]
    assert len(covered) == 2 and all(r.reason.startswith("cap: beyond max_faces=10") for r in covered)
    # strict: a batch job stops on covered faces
    assert _anonymize(tmp_path, generator_file, "--max-faces", "10", "--strict", name="strict") == 3
    assert "2 faces covered by the fallback" in capsys.readouterr().err


@pytest.mark.parametrize("fallback", ["fill", "none"])
@pytest.mark.slow
def test_the_fallback_is_recorded_and_none_leaves_the_face_visible(tmp_path, generator_file, fallback):
    photos = _privacy_photos(tmp_path / "in")
    for name in set(photos) - {"cut_by_border.png"}:
        (tmp_path / "in" / name).unlink()
    assert _anonymize(tmp_path, generator_file, "--fallback", fallback) == 0
    rows = read_manifest(tmp_path / "out" / "manifest.csv")
    face = [r for r in rows if r.face >= 0]
    assert [r.outcome for r in face] == ["covered" if fallback == "fill" else "skipped"]
    assert face[0].reason.startswith("no_mesh") and face[0].reason.endswith(
        "covered (fill)" if fallback == "fill" else "left unchanged (fallback none)")
    photo = tmp_path / "out" / "photos" / "cut_by_border.png"
    if fallback == "fill":
        image, boxes = photos["cut_by_border.png"]
        assert _changed(image, np.asarray(Image.open(photo)), boxes[0]) > 0.9
    else:  # nothing changed: no "anonymized" copy of the original is written
        assert not photo.exists() and rows[-1].outcome == "skipped" and "no photo written" in rows[-1].reason


@pytest.mark.realdata
def test_the_second_detector_adds_the_faces_the_search_missed(tmp_path, generator_file):
    """A CelebA photo with a small face cut by the border behind the subject: mediapipe misses it, MTCNN does not."""
    from conftest import shared_data

    photo = shared_data("celeba_sample") / "img_align_celeba" / "004070.jpg"
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / photo.name).write_bytes(photo.read_bytes())
    background = (2, 151, 38, 197)
    image = np.asarray(Image.open(photo).convert("RGB"))
    for second, faces, changed in (("none", 1, False), ("mtcnn", 2, True)):
        # lossless output: a JPEG's recompression would blur what "changed" means
        assert _anonymize(tmp_path, generator_file, "--second-detector", second, "--photo-format", "png",
                          name=second) == 0
        rows = [r for r in read_manifest(tmp_path / second / "manifest.csv") if r.face >= 0]
        out = np.asarray(Image.open(tmp_path / second / "photos" / "004070.png"))
        assert len(rows) == faces and (_changed(image, out, background) > 0.5) == changed
