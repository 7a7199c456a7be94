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


# The anonymizer's hostile corpus, beside the files above: entry name -> (outcome of the photo row, reason code,
# faces re-synthesized). Built by :func:`build_hostile`; names are bytes where they are not valid UTF-8.
HOSTILE = {
    "photo.jfif": ("ok", "faces", 1),
    "no_extension": ("ok", "faces", 1),
    "photo.avif": ("ok", "faces", 1),
    "x.jpg": ("ok", "faces", 1),
    "x.png": ("ok", "faces", 1),
    "y.jpg": ("ok", "faces", 1),
    "y_f0.jpg": ("ok", "faces", 1),
    "caf\udce9.jpg": ("ok", "faces", 1),  # the name's bytes are not UTF-8; the manifest keeps them
    "animated.gif": ("ok", "faces", 1),  # the row says that only the first of its 2 frames was anonymized
    "wide_33000.png": ("error", "too_large", 0),  # OpenCV aborts the process on a side of 32767 px or more
    "panorama_26000.png": ("ok", "faces", 1),  # its mirrored view (+30 %) would pass that side: shrunk for it
    "dangling.jpg": ("error", "dangling_symlink", 0),
    "notes.txt": ("skipped", "not_an_image", 0),
    "pipe.jpg": ("skipped", "not_a_file", 0),
    "linked_folder": ("skipped", "symlink_to_folder", 0),
    "n" * 246 + ".jpg": ("error", "name_too_long", 0),
    "m" * 241 + ".jpg": ("ok", "faces", 1),  # its outputs' names fit in 255 bytes, their temporary names must too
    "car\rriage.jpg": ("ok", "faces", 1),  # a lone carriage return: its manifest row stays one row
    "line\nbreak.jpg": ("ok", "faces", 1),
    "IMG_0001.HEIC": ("error", "unsupported_format", 0),  # a phone's photo this installation cannot decode
    "IMG_0002.jpg": ("error", "unsupported_format", 0),  # the same bytes under a JPEG name
    "scan.jxl": ("error", "unsupported_format", 0),
}

# the first bytes of an iPhone's HEIC photo: an ISO base media "ftyp" box of brand heic
HEIC_HEAD = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic\x00\x00\x0c\x9fmeta"


def build_hostile(folder: Path) -> Path:
    import os

    folder.mkdir(parents=True, exist_ok=True)
    face = np.asarray(Image.fromarray(load_photo("astronaut")).resize((256, 256)))
    photo = Image.fromarray(face)
    photo.save(folder / "photo.jfif", format="JPEG")
    photo.save(folder / "no_extension", format="PNG")
    photo.save(folder / "photo.avif", format="AVIF")
    for name in ("x.jpg", "y.jpg", "y_f0.jpg", "n" * 246 + ".jpg", "m" * 241 + ".jpg", "car\rriage.jpg",
                 "line\nbreak.jpg"):
        photo.save(folder / name, format="JPEG")
    photo.save(folder / "x.png")
    photo.save(os.fsdecode(os.fsencode(str(folder)) + b"/caf\xe9.jpg"), format="JPEG")
    photo.save(folder / "animated.gif", save_all=True, append_images=[Image.fromarray(face[::-1])])
    Image.new("L", (33000, 20)).save(folder / "wide_33000.png")
    panorama = np.full((256, 26000, 3), 100, np.uint8)
    panorama[:, 20000:20256] = face
    Image.fromarray(panorama).save(folder / "panorama_26000.png")
    (folder / "dangling.jpg").symlink_to(folder / "nowhere.jpg")
    (folder / "notes.txt").write_text("shot list\n")
    for name in ("IMG_0001.HEIC", "IMG_0002.jpg"):
        (folder / name).write_bytes(HEIC_HEAD + bytes(range(256)) * 8)
    (folder / "scan.jxl").write_bytes(b"\xff\x0a" + bytes(range(256)) * 8)
    os.mkfifo(folder / "pipe.jpg")
    (folder / "real_folder").mkdir()
    (folder / "linked_folder").symlink_to(folder / "real_folder")
    return folder
