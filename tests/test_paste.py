import cv2
import numpy as np
import pandas as pd
import pytest

from conftest import shared_data
from ganonlib.anonymize.cover import cover_box, grown_box
from ganonlib.anonymize.generator import Anonymizer
from ganonlib.anonymize.paste import face_mask, match_colour, paste_back
from ganonlib.anonymize.run import anonymize_files
from ganonlib.config import AnonymizeConfig
from ganonlib.data.sample import PHOTOS, load_photo
from ganonlib.faces.align import align_face
from ganonlib.faces.detect import Detection
from ganonlib.io import atomic_write_image, iter_images, read_image
from ganonlib.metrics.seams import seam_report


def test_a_face_pasted_back_lands_where_it_was():
    photo = np.zeros((300, 400, 3), np.uint8)
    det = Detection(box=(150.0, 80.0, 250.0, 200.0), score=0.9, right_eye=(180.0, 120.0), left_eye=(220.0, 135.0))
    aligned = align_face(photo, det, image_size=128)
    new_face = np.full((128, 128, 3), 255, np.uint8)
    out = paste_back(photo, new_face, aligned, face_mask(None, aligned, feather=0.01))
    box_centre = np.array([200.0, 140.0])
    y, x = np.round(box_centre[::-1]).astype(int)
    assert out[y, x].min() > 250  # the face centre is replaced
    assert out[5, 5].max() == 0 and out[290, 390].max() == 0  # far away: untouched
    bright = np.argwhere(out[..., 0] > 128)
    np.testing.assert_allclose(bright.mean(axis=0)[::-1], box_centre, atol=3.0)  # centred on the face box
    # the bright region is rotated with the face: its principal axis follows the eye line (atan2(15, 40) ~ 20.6 deg)
    cov = np.cov((bright[:, ::-1] - bright.mean(axis=0)[::-1]).T)
    minor = np.linalg.eigh(cov)[1][:, 0]  # the box is taller than wide: the minor axis runs along the eye line
    angle = np.degrees(np.arctan2(minor[1], minor[0])) % 180
    assert min(abs(angle - 20.56), abs(angle - 200.56) % 180) < 4.0


def test_mask_from_mesh_is_soft_and_inside_the_face():
    photo = np.zeros((256, 256, 3), np.uint8)
    det = Detection(box=(64.0, 64.0, 192.0, 192.0), score=0.9, right_eye=(100.0, 110.0), left_eye=(156.0, 110.0))
    aligned = align_face(photo, det, image_size=128)
    t = np.linspace(0, 2 * np.pi, 478, endpoint=False)
    points = np.stack([0.5 + 0.3 * np.cos(t), 0.5 + 0.35 * np.sin(t), np.zeros_like(t)], 1)
    points[10], points[152] = (0.5, 0.15, 0), (0.5, 0.85, 0)
    mask = face_mask(points, aligned, feather=0.04)
    pad = (mask.shape[0] - 128) // 2  # the crop grown on every side
    assert pad > 0 and mask.dtype == np.float32 and mask[pad + 64, pad + 64] > 0.99 and mask[2, 2] == 0.0
    assert 0.05 < mask[pad + 64, pad + 64 + int(0.3 * 128) - 4] < 0.95  # soft edge near the hull border


@pytest.mark.parametrize("size, feather", [(512, 0.06), (1024, 0.12)])
def test_a_wide_feather_blurred_at_reduced_resolution_matches_the_full_size_blur(size, feather):
    """The mask's wide Gaussian runs on a smaller frame (a tenth of the cost); against the full-size blur it differs
    by about 0.1 % at most, a quarter of a grey level in the blend."""
    from ganonlib.anonymize.paste import _soften

    sigma = feather * size
    big = size + 2 * int(3.2 * sigma + 1)  # as face_mask grows the frame: the face 3.2 sigmas inside its border
    region = np.zeros((big, big), np.float32)
    cv2.ellipse(region, (big // 2 + 3, big // 2 - 5), (size // 3, size // 2 - 10), 12, 0, 360, 1.0, -1)
    fast, exact = _soften(region, sigma), cv2.GaussianBlur(region, (0, 0), sigma)
    assert fast.shape == exact.shape and fast.dtype == np.float32
    assert np.abs(fast - exact).max() < 0.0015 and 0.0 <= fast.min() and fast.max() <= 1.0


def test_seam_report_tells_a_hard_paste_from_a_feathered_one():
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 60, (120, 160, 3), dtype=np.uint8)
    face = np.full_like(photo, 200)
    hard = np.zeros((120, 160), np.float32)
    hard[30:90, 40:120] = 1.0
    soft = cv2.GaussianBlur(cv2.erode(hard, np.ones((13, 13), np.uint8)), (0, 0), 6.0)
    mix = lambda a: np.rint(photo * (1 - a[..., None]) + face * a[..., None]).astype(np.uint8)  # noqa: E731
    assert seam_report(mix(hard), photo).share > 0.95
    assert seam_report(mix(soft), photo).share < 0.01
    # pixels that match the original by chance inside the new face are no edge, unless asked for literally
    speckled = mix(hard)
    speckled[60, 80] = photo[60, 80]
    assert seam_report(speckled, photo).rim_pixels == seam_report(mix(hard), photo).rim_pixels
    assert seam_report(speckled, photo, min_area=1).rim_pixels > seam_report(mix(hard), photo).rim_pixels


def test_a_face_taller_than_its_box_is_replaced_past_the_crop_without_a_seam():
    """The hull reaches past the aligned crop's top: the new face goes on there (its edge continued) and fades out
    where the face ends, with no step where the crop ends."""
    rng = np.random.default_rng(2)
    photo = rng.integers(0, 60, (220, 200, 3), dtype=np.uint8)
    det = Detection(box=(60.0, 50.0, 140.0, 170.0), score=0.9, right_eye=(85.0, 95.0), left_eye=(115.0, 95.0))
    aligned = align_face(photo, det, image_size=128)
    t = np.linspace(0, 2 * np.pi, 478, endpoint=False)
    points = np.stack([0.5 + 0.4 * np.cos(t), 0.45 + 0.6 * np.sin(t), np.zeros_like(t)], 1)  # beyond the crop
    points[10], points[152] = (0.5, -0.15, 0), (0.5, 1.05, 0)
    out = paste_back(photo, np.full((128, 128, 3), 160, np.uint8), aligned, face_mask(points, aligned, 0.04))
    diff = np.abs(out.astype(int) - photo.astype(int)).mean(axis=2)
    assert diff[110, 100] > 120  # the face's centre is replaced
    assert diff[45, 100] > 100 and diff[52, 100] > 100  # and it goes on past the crop's top edge (y = 50), evenly
    assert seam_report(out, photo).share < 0.01 and diff[5, 100] < 2  # then fades out, no seam, far away untouched


def test_a_covered_face_is_covered_whole_and_fades_outside_its_box():
    rng = np.random.default_rng(1)
    photo = rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)
    box = (70.0, 60.0, 130.0, 140.0)
    out = cover_box(photo, box, "fill")
    x0, y0, x1, y1 = grown_box(box, photo.shape)
    assert out[y0:y1, x0:x1].max() == 0  # fail closed: every pixel of the grown box is covered
    assert np.array_equal(out[:20], photo[:20])  # far away: untouched
    assert seam_report(out, photo).share < 0.01  # and no hard edge around it


def test_blend_modes_and_colour_match_paste_the_face_in_place():
    photo = np.full((200, 200, 3), (180, 140, 120), np.uint8)
    det = Detection(box=(60.0, 50.0, 140.0, 150.0), score=0.9, right_eye=(85.0, 90.0), left_eye=(115.0, 90.0))
    aligned = align_face(photo, det, image_size=128)
    face = np.full((128, 128, 3), (90, 90, 200), np.uint8)
    face[::8] = 20  # poisson keeps the face's gradients and takes its colour from the surroundings: give it some
    mask = face_mask(None, aligned, feather=0.04)
    for blend in ("feather", "poisson"):
        out = paste_back(photo, face, aligned, mask, blend=blend)
        assert np.array_equal(out[:10], photo[:10]) and not np.array_equal(out[100, 100], photo[100, 100]), blend
    pad = (mask.shape[0] - 128) // 2
    crop_mask = mask[pad:pad + 128, pad:pad + 128]
    matched = match_colour(face, aligned.image, crop_mask)
    assert np.abs(matched[65, 65].astype(int) - aligned.image[65, 65].astype(int)).max() <= 40
    assert np.abs(matched.astype(int).mean() - aligned.image[crop_mask > 0.5].mean()) < 3
    with pytest.raises(ValueError, match="blend"):
        paste_back(photo, face, aligned, mask, blend="alpha")


def _seam_share_of_anonymized(photos, out_dir, generator_file) -> tuple[float, int]:
    cfg = AnonymizeConfig(weights=str(generator_file), second_detector="none", device="cpu",
                          photo_format="png")  # lossless: a JPEG's recompression is no seam
    anonymize_files(photos, out_dir, Anonymizer(cfg), progress=False)
    manifest = pd.read_csv(out_dir / "manifest.csv", keep_default_na=False)
    written = manifest[manifest.outputs.str.startswith("photos/")]
    reports = [seam_report(read_image(out_dir / r.outputs), read_image(r.source)) for r in written.itertuples()]
    rim = sum(r.rim_pixels for r in reports)
    return sum(r.sharp_pixels for r in reports) / max(rim, 1), len(reports)


@pytest.mark.realdata
def test_pasted_faces_leave_no_seam_on_real_photos(tmp_path, generator_file):
    photos = sorted(iter_images(shared_data("celeba_sample") / "img_align_celeba"))[:10]
    share, written = _seam_share_of_anonymized(photos, tmp_path / "out", generator_file)
    assert written == len(photos) and share <= 0.01


@pytest.mark.slow
def test_pasted_faces_leave_no_seam_on_the_bundled_photos(tmp_path, generator_file):
    for name in PHOTOS:
        atomic_write_image(tmp_path / "in" / f"{name}.png", load_photo(name))
    share, written = _seam_share_of_anonymized(tmp_path / "in", tmp_path / "out", generator_file)
    assert written == len(PHOTOS) and share <= 0.01
