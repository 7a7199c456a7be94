import io

import numpy as np
import pytest
from PIL import Image

from ganonlib.io import (ImageReadError, ManifestRow, atomic_write_image, read_image, read_manifest, to_rgb8,
                         write_manifest)


def _save(path, image, **kw):
    image.save(path, **kw)
    return path


def test_sixteen_bit_png_is_rescaled_not_clipped(tmp_path):
    arr = np.array([[0, 32768], [65535, 256]], dtype=np.uint16).repeat(8, 0).repeat(8, 1)
    path = _save(tmp_path / "g16.png", Image.fromarray(arr))
    out = read_image(path, min_side=1)
    assert out.dtype == np.uint8 and out.shape == (16, 16, 3)
    assert out[0, 0, 0] == 0 and out[0, 8, 0] == 128 and out[8, 0, 0] == 255 and out[8, 8, 0] == 1


def test_rgba_is_composited_on_black(tmp_path):
    arr = np.zeros((20, 20, 4), dtype=np.uint8)
    arr[..., 0] = 200
    arr[:10, :, 3] = 255  # top half opaque red, bottom transparent
    out = read_image(_save(tmp_path / "a.png", Image.fromarray(arr, "RGBA")))
    assert tuple(out[0, 0]) == (200, 0, 0) and tuple(out[15, 0]) == (0, 0, 0)


def test_cmyk_grey_and_palette_become_rgb(tmp_path):
    cmyk = _save(tmp_path / "c.jpg", Image.new("CMYK", (20, 20), (0, 255, 255, 0)))
    assert read_image(cmyk).shape == (20, 20, 3)
    grey = read_image(_save(tmp_path / "g.png", Image.new("L", (20, 20), 77)))
    assert (grey == 77).all()
    pal = Image.new("P", (20, 20), 1)
    pal.putpalette([0, 0, 0, 10, 20, 30] + [0] * 762)
    assert tuple(read_image(_save(tmp_path / "p.png", pal))[0, 0]) == (10, 20, 30)


def test_exif_orientation_is_applied(tmp_path):
    arr = np.zeros((20, 40, 3), dtype=np.uint8)
    arr[:, :20] = 255  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW on display
    path = _save(tmp_path / "r.jpg", Image.fromarray(arr), exif=exif, quality=100)
    out = read_image(path)
    assert out.shape == (40, 20, 3)
    assert out[5, 10, 0] > 200 and out[35, 10, 0] < 50  # white half now on top


@pytest.mark.parametrize("name,payload,reason", [
    ("empty.jpg", b"", "empty"),
    ("text.jpg", b"this is not an image\n" * 10, "unreadable"),
])
def test_bad_bytes_give_reasons(tmp_path, name, payload, reason):
    (tmp_path / name).write_bytes(payload)
    with pytest.raises(ImageReadError) as err:
        read_image(tmp_path / name)
    assert err.value.reason == reason


def test_truncated_jpeg(tmp_path, astronaut):
    buffer = io.BytesIO()
    Image.fromarray(astronaut).save(buffer, format="JPEG")
    (tmp_path / "t.jpg").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageReadError) as err:
        read_image(tmp_path / "t.jpg")
    assert err.value.reason == "truncated"


def test_size_limits_read_the_header_only(tmp_path):
    Image.new("L", (400, 300)).save(tmp_path / "big.png")
    with pytest.raises(ImageReadError) as err:
        read_image(tmp_path / "big.png", max_pixels=100_000)
    assert err.value.reason == "too_large"
    Image.new("RGB", (1, 1)).save(tmp_path / "one.png")
    with pytest.raises(ImageReadError) as err:
        read_image(tmp_path / "one.png")
    assert err.value.reason == "too_small"


def test_float_mode_is_scaled():
    img = Image.fromarray(np.array([[0.0, 0.5], [1.0, 0.25]], dtype=np.float32), "F")
    assert to_rgb8(img)[1, 0, 0] == 255 and to_rgb8(img)[0, 1, 0] == 128


def test_atomic_write_leaves_only_the_file(tmp_path):
    atomic_write_image(tmp_path / "x" / "a.png", np.zeros((4, 4, 3), np.uint8))
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["a.png"]


def test_manifest_round_trip(tmp_path):
    rows = [ManifestRow("a.jpg", "ok", outputs="i.png;l.png", face=0, score=0.9, split="train"),
            ManifestRow("b.jpg", "error", reason="empty: zero bytes")]
    write_manifest(tmp_path / "m.csv", rows)
    back = read_manifest(tmp_path / "m.csv")
    assert back[0].outputs == "i.png;l.png" and back[0].face == 0 and back[0].score == pytest.approx(0.9)
    assert back[1].outcome == "error" and np.isnan(back[1].score)


def test_json_helpers_write_null_for_undefined_metrics(tmp_path):
    from ganonlib.io import atomic_write_json, json_number

    assert json_number(float("nan")) is None and json_number(None) is None
    assert json_number(0.12345678) == 0.123457 and json_number(np.float32(0.5), 2) == 0.5
    path = atomic_write_json(tmp_path / "m.json", {"rate": json_number(float("nan")), "n": 3})
    assert path.read_text() == '{\n  "rate": null,\n  "n": 3\n}\n'


@pytest.mark.parametrize("shape", [(37, 53), (37, 53, 3), (37, 53, 4)])
def test_a_png_holds_exactly_the_pixels_written(tmp_path, shape):
    """Grey and RGB go through libpng (OpenCV), anything else through Pillow: lossless either way, RGB kept RGB."""
    image = np.random.default_rng(len(shape)).integers(0, 256, shape, dtype=np.uint8)
    path = atomic_write_image(tmp_path / "x.png", image)
    with Image.open(path) as png:
        assert png.format == "PNG"
        np.testing.assert_array_equal(np.asarray(png), image)


def test_png_rows_use_one_filter_at_zlib_level_one(tmp_path):
    """The fast setting: every row filtered with PNG's "sub" filter (type 1), not chosen per row."""
    import struct
    import zlib

    image = np.random.default_rng(0).integers(0, 256, (19, 23, 3), dtype=np.uint8)
    data, pos, idat = atomic_write_image(tmp_path / "x.png", image).read_bytes(), 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        idat += data[pos + 8:pos + 8 + length] if kind == b"IDAT" else b""
        pos += 12 + length
    assert idat[1] >> 6 == 0  # the zlib header's level field: the fastest compression
    raw = zlib.decompress(idat)
    assert [raw[row * (1 + 23 * 3)] for row in range(19)] == [1] * 19


@pytest.mark.parametrize("length", [200, 241, 255])
def test_an_atomic_write_takes_any_name_the_file_system_takes(tmp_path, length):
    from ganonlib.io import atomic_write_bytes

    target = tmp_path / ("\u00e9" * (length // 2) + "x" * (length % 2))  # two bytes a character: a cut mid-character
    assert len(target.name.encode()) == length
    atomic_write_bytes(target, b"data")
    assert target.read_bytes() == b"data" and [p.name for p in tmp_path.iterdir()] == [target.name]


def test_photo_formats_pillow_cannot_decode_are_named_not_called_unreadable(tmp_path):
    from corpus import HEIC_HEAD

    for name, payload, fmt in (("a.heic", HEIC_HEAD, "HEIC"), ("b.jpg", HEIC_HEAD, "HEIC"),
                               ("c.bin", b"\x00\x00\x00\x14ftypmif1\x00\x00\x00\x00mif1", "HEIF"),
                               ("d.jxl", b"\xff\x0a", "JPEG XL"), ("e.NEF", b"MM\x00*", "Nikon raw")):
        (tmp_path / name).write_bytes(payload + bytes(500))
        with pytest.raises(ImageReadError, match=f"unsupported_format: a {fmt} photo"):
            read_image(tmp_path / name)
    (tmp_path / "f.txt").write_text("not a photo at all\n")
    with pytest.raises(ImageReadError, match="^unreadable"):
        read_image(tmp_path / "f.txt")
