"""Every file accounted for, nothing of the user's lost: streaming manifest and resume, crash isolation, write
failures, path checks, settings and weights checked before any work."""
from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganonlib.anonymize.inputs import discover_inputs
from ganonlib.anonymize.journal import Journal
from ganonlib.cli import main
from ganonlib.io import ManifestRow, read_manifest
from ganonlib.workers import Crashed, CrashSafePool

GANON = str(Path(sys.executable).with_name("ganon"))


def _photos(folder: Path, n: int, astronaut: np.ndarray) -> Path:
    """``n`` distinct 256 px face photos (shifted and brightened so each has its own hash and result)."""
    folder.mkdir(parents=True, exist_ok=True)
    base = Image.fromarray(astronaut).resize((256, 256))
    for i in range(n):
        shifted = np.roll(np.asarray(base), i % 7, axis=1).astype(np.int16) + i
        Image.fromarray(np.clip(shifted, 0, 255).astype(np.uint8)).save(folder / f"p{i:02d}.png")
    return folder


def _outputs(out: Path) -> dict[str, np.ndarray]:
    return {str(p.relative_to(out)): np.asarray(Image.open(p)) for p in sorted(out.rglob("*.png"))}


def _complete_blocks(manifest: Path) -> int:
    return len(Journal(manifest).blocks()) if manifest.exists() else 0


@pytest.mark.slow
def test_a_run_killed_with_sigkill_resumes_to_the_same_result(tmp_path, generator_file, astronaut, capsys):
    photos = _photos(tmp_path / "in", 40, astronaut)
    args = ["anonymize", str(photos), "--weights", str(generator_file), "--device", "cpu", "--crops",
            "--batch-size", "2"]
    assert main([*args[:2], str(tmp_path / "whole"), *args[2:]]) == 0
    run = subprocess.Popen([GANON, *args[:2], str(tmp_path / "cut"), *args[2:]], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)
    manifest = tmp_path / "cut" / "manifest.csv"
    deadline = time.monotonic() + 240
    while _complete_blocks(manifest) < 8 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(run.pid, signal.SIGKILL)  # the run and its extraction worker, mid-way
    run.wait()
    finished = _complete_blocks(manifest)
    assert 8 <= finished < 40, "the run was to be killed mid-way"
    done = {r.outputs: (tmp_path / "cut" / r.outputs).stat().st_mtime_ns
            for rows in Journal(manifest).blocks().values() for r in rows if r.outputs}
    capsys.readouterr()
    assert main([*args[:2], str(tmp_path / "cut"), *args[2:]]) == 0
    assert f" {finished} reused from an earlier run" in capsys.readouterr().out
    # summary.json holds what the folder holds, not what this run reused: the uninterrupted run's bytes
    assert (tmp_path / "cut" / "summary.json").read_bytes() == (tmp_path / "whole" / "summary.json").read_bytes()
    assert '"faces_anonymized": 40' in (tmp_path / "cut" / "summary.json").read_text()
    # finished files were not recomputed, and the result is the uninterrupted run's
    assert all((tmp_path / "cut" / p).stat().st_mtime_ns == t for p, t in done.items())
    whole, cut = _outputs(tmp_path / "whole"), _outputs(tmp_path / "cut")
    assert whole.keys() == cut.keys() and len(whole) >= 80
    worst = max(np.abs(whole[k].astype(int) - cut[k].astype(int)).max() for k in whole)
    assert worst <= 2  # bf16 batches of other compositions may round a level apart; within 2 grey levels
    assert len(Journal(manifest).blocks()) == 40


def _abort_on_odd(state: int, item: int) -> int:
    if item % 2:
        os.kill(os.getpid(), signal.SIGKILL if item == 3 else signal.SIGABRT)
    return item * state


def _ten() -> int:
    return 10


@pytest.mark.slow
def test_a_worker_killed_by_a_signal_costs_one_item():
    with CrashSafePool(_abort_on_odd, _ten, workers=2) as pool:
        results = dict(pool.imap(range(6)))
    assert results[0] == 0 and results[2] == 20 and results[4] == 40
    assert isinstance(results[3], Crashed) and str(results[3]) == "worker killed by SIGKILL"
    assert isinstance(results[1], Crashed) and str(results[1]) == "worker killed by SIGABRT"


def _slow_first(state: int, item: int) -> int:
    import time

    time.sleep(1.0 if item == 0 else 0.01)  # the first item holds the line while the other worker runs ahead
    return item


@pytest.mark.slow
def test_a_slow_item_does_not_stall_the_pool_once_the_others_have_run_ahead():
    """Item 0 is slow: the second worker finishes the next items until the pool's look-ahead is full; when item 0
    comes back, everything pending is yielded, and the idle workers must get new items instead of waiting on none."""
    import threading

    got: list = []
    with CrashSafePool(_slow_first, _ten, workers=2) as pool:
        runner = threading.Thread(target=lambda: got.extend(i for i, _ in pool.imap(range(20))), daemon=True)
        runner.start()
        runner.join(timeout=60)
        assert not runner.is_alive(), f"the pool stalled after {len(got)} of 20 items"
    assert got == list(range(20))


@pytest.mark.slow
def test_a_native_crash_in_extraction_costs_one_row(tmp_path, generator_file, astronaut):
    from crashing_extract import extract_or_abort
    from ganonlib.anonymize.generator import Anonymizer
    from ganonlib.anonymize.run import anonymize_files
    from ganonlib.config import AnonymizeConfig

    photos = _photos(tmp_path / "in", 3, astronaut)
    (photos / "p01.png").rename(photos / "crash.png")
    an = Anonymizer(AnonymizeConfig(weights=str(generator_file), device="cpu"))
    summary = anonymize_files(photos, tmp_path / "out", an, progress=False, extract=extract_or_abort)
    rows = {Path(r.source).name: r for r in read_manifest(tmp_path / "out" / "manifest.csv") if r.face < 0}
    assert rows["crash.png"].outcome == "error" and rows["crash.png"].reason == "crashed: worker killed by SIGABRT"
    assert rows["p00.png"].outcome == rows["p02.png"].outcome == "ok"
    assert summary["files_failed"] == 1 and summary["faces_anonymized"] == 2


def _append_blocks(path: str, tag: str) -> None:
    journal = Journal(Path(path))
    for i in range(150):
        journal.append([ManifestRow(source=f"{tag}{i}", outcome="ok", face=0),
                        ManifestRow(source=f"{tag}{i}", outcome="ok", reason="x" * 3000)])


@pytest.mark.slow
def test_concurrent_runs_into_one_folder_keep_every_row(tmp_path):
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    workers = [ctx.Process(target=_append_blocks, args=(str(tmp_path / "manifest.csv"), t)) for t in "ab"]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    blocks = Journal(tmp_path / "manifest.csv").blocks()
    assert len(blocks) == 300 and all(len(rows) == 2 for rows in blocks.values())
    assert len(read_manifest(tmp_path / "manifest.csv")) == 600  # one header, no interleaved lines


@pytest.mark.slow
def test_a_failed_write_stops_the_run_with_one_line(tmp_path, generator_file, astronaut, monkeypatch, capsys):
    import errno

    import ganonlib.anonymize.run as run_module

    photos = _photos(tmp_path / "in", 6, astronaut)
    written = []

    def full_disk(path, image, fmt=None):
        if len(written) >= 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        written.append(path)

    monkeypatch.setattr(run_module, "atomic_write_image", full_disk)
    code = main(["anonymize", str(photos), str(tmp_path / "out"), "--weights", str(generator_file),
                 "--device", "cpu", "--batch-size", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and "No space left on device" in err[-1] and "Traceback" not in "\n".join(err)
    assert len(written) == 2


@pytest.mark.slow
def test_paths_that_would_cost_the_user_a_file_are_refused(tmp_path, generator_file, astronaut, capsys):
    photos = _photos(tmp_path / "in", 2, astronaut)
    before = {p: p.read_bytes() for p in photos.iterdir()}
    weights = ["--weights", str(generator_file), "--device", "cpu"]
    for out in (photos, tmp_path):  # OUT == IN; OUT holding IN
        assert main(["anonymize", str(photos), str(out), *weights]) == 2
        assert "outside the input" in capsys.readouterr().err
    (tmp_path / "a_file").write_text("mine")
    assert main(["anonymize", str(photos), str(tmp_path / "a_file"), *weights]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert main(["anonymize", str(photos), str(tmp_path / ("n" * 300)), *weights]) == 2
    assert "File name too long" in capsys.readouterr().err
    # OUT inside IN: the outputs are never read back as inputs
    assert main(["anonymize", str(photos), str(photos / "anon"), *weights]) == 0
    assert main(["anonymize", str(photos), str(photos / "anon"), *weights]) == 0
    sources = {Path(r.source).parent for r in read_manifest(photos / "anon" / "manifest.csv")}
    assert sources == {photos}
    assert all(p.read_bytes() == data for p, data in before.items())
    assert stat.S_IMODE((photos / "anon" / "photos" / "p00.png").stat().st_mode) == 0o666 & ~_umask()


def test_an_output_folder_holding_the_users_files_is_refused(tmp_path, generator_file, astronaut, capsys):
    """A run writes summary.json, manifest.csv and the photos' names in OUT: an existing OUT must be empty or an
    earlier run's (its manifest starts with the kit's header), and hold no link a write could follow out of it."""
    from ganonlib.anonymize.inputs import check_paths
    from ganonlib.io import MANIFEST_HEADER

    photos = _photos(tmp_path / "in", 1, astronaut)
    weights = ["--weights", str(generator_file), "--device", "cpu"]
    mine = tmp_path / "mine"
    (mine / "photos").mkdir(parents=True)
    (mine / "summary.json").write_text('{"my": "notes"}\n')
    (mine / "photos" / "p00.png").write_bytes(b"my own photo")
    for manifest in (None, "name,notes\nholiday,mine\n"):  # no manifest; a CSV of the user's under that name
        if manifest:
            (mine / "manifest.csv").write_text(manifest)
        before = {p: p.read_bytes() for p in mine.rglob("*") if p.is_file()}
        assert main(["anonymize", str(photos), str(mine), *weights]) == 2
        assert "holds files that no run of the kit wrote" in capsys.readouterr().err
        assert {p: p.read_bytes() for p in mine.rglob("*") if p.is_file()} == before

    ours = tmp_path / "ours"
    (ours / "photos").mkdir(parents=True)
    (ours / "manifest.csv").write_text(MANIFEST_HEADER + "\n")  # a run killed before its first row: still ours
    (ours / "photos" / "p00.png").write_bytes(b"half a run")
    (tmp_path / "empty").mkdir()
    (tmp_path / "hidden").mkdir()
    (tmp_path / "hidden" / ".DS_Store").write_bytes(b"")
    for out in (ours, tmp_path / "empty", tmp_path / "hidden", tmp_path / "new"):
        check_paths(photos, out)

    (ours / "photos" / "elsewhere").symlink_to(tmp_path / "mine")
    assert main(["anonymize", str(photos), str(ours), *weights]) == 2
    assert "is a link to a folder" in capsys.readouterr().err
    (ours / "photos" / "elsewhere").unlink()
    (ours / "manifest.csv").unlink()
    (ours / "manifest.csv").symlink_to(mine / "manifest.csv")
    assert main(["anonymize", str(photos), str(ours), *weights]) == 2
    assert "is a link or not a file" in capsys.readouterr().err


def test_a_photo_that_leads_into_the_output_folder_is_not_read(tmp_path, generator_file, astronaut, capsys):
    """A link in the input to a file in OUT, or a photo listed from OUT, would have its output written over it:
    it gets an error row and stays as it was; the other photos are anonymized."""
    from ganonlib.io import MANIFEST_HEADER

    photos = _photos(tmp_path / "in", 1, astronaut)
    out = tmp_path / "out"
    (out / "photos").mkdir(parents=True)
    (out / "manifest.csv").write_text(MANIFEST_HEADER + "\n")  # an earlier run's folder
    Image.fromarray(astronaut).resize((256, 256)).save(out / "photos" / "me.png")
    mine = (out / "photos" / "me.png").read_bytes()
    (photos / "me.png").symlink_to(out / "photos" / "me.png")
    assert main(["anonymize", str(photos), str(out), "--weights", str(generator_file), "--device", "cpu"]) == 0
    rows = {Path(r.source).name: r for r in read_manifest(out / "manifest.csv") if r.face < 0}
    assert rows["me.png"].outcome == "error" and rows["me.png"].reason.startswith("inside_output: ")
    assert rows["p00.png"].outcome == "ok" and (out / "photos" / "p00.png").is_file()
    assert (out / "photos" / "me.png").read_bytes() == mine
    assert "1 failed" in capsys.readouterr().out
    listed = {e.rel: e.problem.split(":")[0] for e in
              discover_inputs([out / "photos" / "me.png", photos / "p00.png"], out)}
    assert listed == {"me.png": "inside_output", "p00.png": ""}


def test_the_manifest_header_is_written_before_any_output(tmp_path):
    from ganonlib.io import MANIFEST_HEADER

    journal = Journal(tmp_path / "manifest.csv")
    journal.create()
    assert (tmp_path / "manifest.csv").read_text() == MANIFEST_HEADER + "\n"
    journal.append([ManifestRow(source="a.jpg", outcome="skipped", reason="no_face")])
    journal.create()  # a rerun's: the rows stay, no second header
    assert [r.source for r in read_manifest(tmp_path / "manifest.csv")] == ["a.jpg"]
    assert (tmp_path / "manifest.csv").read_text().count(MANIFEST_HEADER) == 1


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_unreadable_entries_each_get_a_row(tmp_path, monkeypatch, astronaut):
    """As a non-root user: an unreadable file and an unreadable folder (root reads everything, so the denial is
    simulated at the two calls that meet it)."""
    photos = _photos(tmp_path / "in", 2, astronaut)
    (photos / "locked").mkdir()
    real_scandir, real_access = os.scandir, os.access
    monkeypatch.setattr(os, "scandir", lambda p: (_ for _ in ()).throw(PermissionError(13, "Permission denied"))
                        if str(p).endswith("locked") else real_scandir(p))
    monkeypatch.setattr(os, "access", lambda p, mode: not str(p).endswith("p01.png") and real_access(p, mode))
    found = {e.rel: e.problem for e in discover_inputs(photos, tmp_path / "out")}
    assert found == {"locked": "unreadable_folder: Permission denied; its photos were not read", "p00.png": "",
                     "p01.png": "unreadable: permission denied"}


BAD_SETTINGS = [
    (["--detector", "bogus"], "--detector: choose one of mediapipe, retinaface, mtcnn"),
    (["--detector", "retinaface"], "retinaface.onnx"),
    (["--blend", "alpha"], "--blend: choose one of feather, poisson"),
    (["--photo-format", "webp"], "--photo-format: choose one of auto, png, jpeg"),
    (["--device", "cuda"], "--device: cuda asked for, but no CUDA GPU is visible"),
    (["--search-device", "cuda"], "--search-device: cuda asked for, but no CUDA GPU is visible (use cpu)"),
    (["--search-device", "gpu"], "--search-device: choose one of cpu, cuda"),
    (["--batch-size", "-3"], "--batch-size: must be at least 1"),
    (["--batch-size", "0"], "--batch-size: must be at least 1"),
    (["--min-confidence", "1.5"], "--min-confidence: must lie in (0.0, 1.0]"),
    (["--min-confidence", "0"], "--min-confidence: must lie in (0.0, 1.0]"),
    (["--margin", "1000"], "--margin: must lie in [0.0, 2.0]"),
    (["--max-faces", "-1"], "--max-faces: must be at least 0"),
    (["--fallback", "pixelate"], "--fallback: choose one of blur, fill, none"),
    (["--no-face", "ignore"], "--no-face: choose one of average, skip, blur"),
]


@pytest.mark.skipif(torch.cuda.is_available(), reason="the cuda case needs a machine without a GPU")
def test_bad_settings_stop_before_any_work(tmp_path, generator_file, astronaut, capsys, monkeypatch):
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path / "home"))
    photos = _photos(tmp_path / "in", 1, astronaut)
    for args, message in [*BAD_SETTINGS, ([], "does not exist")]:
        source = str(photos) if args else str(tmp_path / "missing")
        code = main(["anonymize", source, str(tmp_path / "out"), "--weights", str(generator_file), *args])
        err = capsys.readouterr().err.strip()
        assert code == 2 and message in err and len(err.splitlines()) == 1, (args, err)
        assert not (tmp_path / "out").exists(), args  # nothing written
    code = main(["preprocess", str(photos), str(tmp_path / "pre"), "--image-size", "0"])
    assert code == 2 and "--image-size: must lie in [64, 4096]" in capsys.readouterr().err
    assert main(["train", str(photos), str(tmp_path / "gan"), "--epochs", "-1"]) == 2
    assert "--epochs: must be at least 1" in capsys.readouterr().err and not (tmp_path / "gan").exists()


def test_params_yaml_keys_are_named_when_a_stage_starts():
    from ganonlib.config import ConfigError, GanTrainConfig, PreprocessConfig, params_section

    with pytest.raises(ConfigError, match=r"params.yaml gan.epochs: must be at least 1 \(got -1\)"):
        with params_section("gan"):
            GanTrainConfig(data_dir="d", out_dir="o", epochs=-1)
    with pytest.raises(ConfigError, match=r"params.yaml preprocess.image_size: must lie in \[64, 4096\]"):
        with params_section("preprocess"):
            PreprocessConfig(image_size=0)
    with pytest.raises(ConfigError, match="expected int, got True"):
        PreprocessConfig(max_faces=True)


def _broken_weights(folder: Path, generator_file: Path) -> dict[str, tuple[Path, str]]:
    """name -> (weights file, expected message)."""
    folder.mkdir()
    good = generator_file.read_bytes()
    state = torch.load(generator_file, weights_only=True)
    cases = {}

    def case(name, data, message):
        path = folder / f"{name}.pt"
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            torch.save(data, path)
        cases[name] = (path, message)

    case("zero_byte", b"", "is empty (0 bytes)")
    case("truncated", good[: len(good) // 2], "is not a readable generator file")
    case("text", b"version https://git-lfs.github.com/spec/v1\n", "is not a readable generator file")
    case("missing_keys", {"weights": state["generator"]}, "holds no generator")
    gen = dict(state["generator"])
    gen.pop(next(iter(gen)))
    case("missing_tensor", {"generator": gen, "image_size": 256}, "do not fit the kit's generator")
    shaped = {k: (v[..., :1] if v.ndim == 4 else v) for k, v in state["generator"].items()}
    case("wrong_shapes", {"generator": shaped, "image_size": 256}, "do not fit the kit's generator")
    nan = {k: v.clone() for k, v in state["generator"].items()}
    next(v for v in nan.values() if v.is_floating_point()).fill_(float("nan"))
    case("nan", {"generator": nan, "image_size": 256}, "NaN or infinite weights")
    case("empty_sidecar", state, ".sha256 is empty")
    (folder / "empty_sidecar.pt.sha256").write_text("")
    return cases


def test_unusable_weights_files_give_one_line_each(tmp_path, generator_file, astronaut, capsys):
    photos = _photos(tmp_path / "in", 1, astronaut)
    for name, (path, message) in _broken_weights(tmp_path / "weights", generator_file).items():
        code = main(["anonymize", str(photos), str(tmp_path / "out"), "--weights", str(path), "--device", "cpu"])
        err = capsys.readouterr().err.strip()
        assert code == 2 and message in err and len(err.splitlines()) == 1, (name, err)


def test_preprocess_removes_only_what_its_manifest_lists(tmp_path, astronaut):
    photos = _photos(tmp_path / "in", 2, astronaut)
    out = tmp_path / "out"
    args = ["preprocess", str(photos), str(out), "--image-size", "96", "--n-jobs", "1"]
    assert main(args) == 0
    mine = out / "images" / "train" / "my_notes.png"
    Image.new("RGB", (8, 8)).save(mine)
    (photos / "p01.png").unlink()  # its pair is now stale: removed, the user's file is not
    assert main(args) == 0
    assert mine.is_file() and not (out / "images" / "train" / "p01.png_f0.png").exists()
    assert (out / "images" / "train" / "p00.png_f0.png").is_file()
    # the input as the output: refused before anything is written or removed
    before = sorted(p.name for p in photos.iterdir())
    assert main(["preprocess", str(photos), str(photos), "--image-size", "96", "--n-jobs", "1"]) == 2
    assert sorted(p.name for p in photos.iterdir()) == before
    # a folder of the user's files: refused, as `ganon anonymize` refuses it
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "summary.json").write_text("mine\n")
    assert main(["preprocess", str(photos), str(tmp_path / "mine"), "--image-size", "96", "--n-jobs", "1"]) == 2
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["summary.json"]


def test_dvc_passes_every_parameter_quoted():
    """A value with a space or a ';' reaches the notebook as one value, never as a second shell command."""
    import re

    import yaml

    stages = yaml.safe_load((Path(__file__).resolve().parents[1] / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        cmd = (stage.get("do") or stage)["cmd"]
        unquoted = [t for t in re.findall(r"""(?:"[^"]*"|'[^']*'|\S)+""", cmd) if "${" in t and t[0] not in "'\""]
        assert not unquoted, (name, unquoted)


def test_a_read_only_output_folder_is_one_line_before_any_work(tmp_path, generator_file, astronaut, monkeypatch,
                                                              capsys):
    """Root writes through permission bits, so the read-only file system is simulated where the probe write meets
    it."""
    import errno

    photos = _photos(tmp_path / "in", 1, astronaut)
    real = Path.write_bytes
    monkeypatch.setattr(Path, "write_bytes", lambda self, data: (_ for _ in ()).throw(
        OSError(errno.EROFS, os.strerror(errno.EROFS))) if ".ganon-write-test" in self.name else real(self, data))
    code = main(["anonymize", str(photos), str(tmp_path / "out"), "--weights", str(generator_file), "--device", "cpu"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.endswith("Read-only file system") and len(err.splitlines()) == 1
    assert not (tmp_path / "out" / "manifest.csv").exists()


def _block(source: str) -> list[ManifestRow]:
    return [ManifestRow(source=source, outcome="ok", face=0, box="1 2 3 4"), ManifestRow(source=source, outcome="ok")]


def test_a_disk_that_fills_during_an_append_leaves_no_half_row(tmp_path, monkeypatch):
    """A short write is continued; an error after part of the block is on disk cuts the file back to where the
    block began: the rerun appends onto whole rows and loses none."""
    import errno

    import ganonlib.anonymize.journal as journal_module

    journal = Journal(tmp_path / "manifest.csv")
    journal.append(_block("a.jpg"))
    real_write, calls = os.write, []

    def short_then_full(fd, data):
        calls.append(len(data))
        if len(calls) == 1:  # part of the block on disk, then the disk is full
            real_write(fd, bytes(data[:5]))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        if len(calls) == 2:
            return real_write(fd, bytes(data[:7]))  # a short write: the kernel took 7 bytes
        return real_write(fd, data)

    size = (tmp_path / "manifest.csv").stat().st_size
    monkeypatch.setattr(journal_module.os, "write", short_then_full)
    with pytest.raises(OSError, match="No space left"):
        journal.append(_block("b.jpg"))
    assert (tmp_path / "manifest.csv").stat().st_size == size  # cut back: no half row
    journal.append(_block("c.jpg"))  # short write continued
    assert calls[1] == calls[2] + 7 and set(journal.blocks()) == {"a.jpg", "c.jpg"}
    monkeypatch.undo()
    journal.append(_block("b.jpg"))
    assert set(journal.blocks()) == {"a.jpg", "b.jpg", "c.jpg"} and len(read_manifest(journal.path)) == 6


def test_a_row_cut_by_a_kill_costs_only_its_own_input(tmp_path):
    journal = Journal(tmp_path / "manifest.csv")
    journal.append(_block("a.jpg"))
    whole = (tmp_path / "manifest.csv").read_bytes()
    journal.append(_block("b.jpg"))
    cut = (tmp_path / "manifest.csv").read_bytes()[: len(whole) + 30]  # b.jpg's face row, cut mid-row
    (tmp_path / "manifest.csv").write_bytes(cut)
    journal.append(_block("c.jpg"))  # begins on a line of its own
    assert set(journal.blocks()) == {"a.jpg", "c.jpg"}
    # the rows a writer of an older kit split at a "\r" are dropped, not a reason to stop: their input is redone
    (tmp_path / "manifest.csv").write_bytes(whole + b"car\rriage.jpg,ok,,,-1,,,,,\nx.jpg,ok,,,one,,,,,\n")
    blocks = journal.blocks()
    assert "a.jpg" in blocks and "car\rriage.jpg" not in blocks and "x.jpg" not in blocks
