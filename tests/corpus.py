"""The bad-input corpus: every kind of file a researcher's photo folder may hold, with the expected outcome."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from ganonlib.data.sample import load_photo

# file name -> (outcome, reason code, faces expected to be written)
EXPECTED = {
    "zero_byte.jpg": ("error", "empty", 0),
    "truncated.jpg": ("error", "truncated", 0),
    "text_file.jpg": ("error", "unreadable", 0),
    "one_pixel.png": ("error", "too_small", 0),
    "huge_12000.png": ("error", "too_large", 0),
    "sixteen_bit.png": ("ok", "", 1),
    "rgba.png": ("ok", "", 1),
    "cmyk.jpg": ("ok", "", 1),
    "grayscale.jpg": ("ok", "", 1),
    "exif_rotated.jpg": ("ok", "", 1),
    "no_face.jpg": ("skipped", "no_face", 0),
    "several_faces.jpg": ("ok", "", 2),
}


def build_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    face = load_photo("astronaut")
    buffer = io.BytesIO()
    Image.fromarray(face).save(buffer, format="JPEG", quality=90)
    (folder / "zero_byte.jpg").write_bytes(b"")
    (folder / "truncated.jpg").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 3])
    (folder / "text_file.jpg").write_text("name,emotion\nnot,an image\n")
    Image.new("RGB", (1, 1), (255, 0, 0)).save(folder / "one_pixel.png")
    Image.new("L", (12000, 12000)).save(folder / "huge_12000.png")
    grey = np.asarray(Image.fromarray(face).convert("L"), dtype=np.uint16) * 257
    Image.fromarray(grey).save(folder / "sixteen_bit.png")
    Image.fromarray(np.dstack([face, np.full(face.shape[:2], 255, np.uint8)]), "RGBA").save(folder / "rgba.png")
    Image.fromarray(face).convert("CMYK").save(folder / "cmyk.jpg")
    Image.fromarray(face).convert("L").save(folder / "grayscale.jpg")
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated; a viewer turns it 90 deg clockwise to show it upright
    Image.fromarray(np.rot90(face, k=1).copy()).save(folder / "exif_rotated.jpg", exif=exif)
    from skimage import data

    Image.fromarray(data.coffee()).save(folder / "no_face.jpg")
    hopper = np.asarray(Image.fromarray(load_photo("grace_hopper")).resize((512, 512)))
    Image.fromarray(np.concatenate([face, hopper], axis=1)).save(folder / "several_faces.jpg")
    return folder
