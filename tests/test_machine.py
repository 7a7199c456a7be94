"""Worker counts, batch sizes and held video frames stay within what the machine has, and the run says so."""
import pytest
from PIL import Image

from ganonlib.cli import main
from ganonlib.machine import (FACE_MIB, MEMORY_SHARE, WORKER_MIB, available_cores, available_mib, batch_bound,
                              jobs_bound, workers_bound)


def test_a_process_count_beyond_the_machine_is_lowered_to_its_cores_and_memory():
    cores, by_memory = available_cores(), max(1, int(available_mib() * MEMORY_SHARE // WORKER_MIB))
    bound = workers_bound(999_999_999_999)
    assert bound.used == min(cores, by_memory) and bound.note.startswith("--workers 999999999999 -> ")
    assert workers_bound(0).used == min(cores, by_memory)  # one per core, within memory
    assert workers_bound(1).used == 1 and not workers_bound(1).note
    assert jobs_bound(-1).used == min(cores, by_memory)  # every core, within memory
    assert jobs_bound(10**6).note.startswith("--n-jobs 1000000 -> ")


def test_a_batch_beyond_the_free_memory_is_lowered():
    at_512 = batch_bound(100_000, 512, "cpu")
    assert at_512.used == max(1, int(available_mib() * MEMORY_SHARE // FACE_MIB)) and "MiB of free RAM" in at_512.note
    assert batch_bound(100_000, 256, "cpu").used >= 3 * at_512.used  # a face of a quarter of the area
    assert batch_bound(8, 512, "cpu").used == 8 and not batch_bound(8, 512, "cpu").note


@pytest.mark.slow
def test_the_command_line_says_in_one_line_what_it_lowered(tmp_path, generator_file, astronaut, capsys):
    (tmp_path / "in").mkdir()
    Image.fromarray(astronaut).resize((256, 256)).save(tmp_path / "in" / "a.png")
    assert main(["anonymize", str(tmp_path / "in"), str(tmp_path / "out"), "--weights", str(generator_file),
                 "--device", "cpu", "--workers", "999999999999", "--batch-size", "100000000"]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if "as this machine holds" in line]
    assert len(notes) == 1 and "--workers 999999999999 -> " in notes[0] and "--batch-size 100000000 -> " in notes[0]


@pytest.mark.parametrize("option, value", [("--detect-every", "11"), ("--detect-every", "0"),
                                           ("--track-max-gap", "251"), ("--track-max-gap", "-1")])
def test_video_settings_outside_their_bounds_are_refused(tmp_path, option, value, capsys):
    assert main(["anonymize", str(tmp_path), str(tmp_path / "out"), option, value]) == 2
    assert capsys.readouterr().err.strip().startswith(f"ganon: {option}: must lie in")


def test_a_clip_whose_held_frames_do_not_fit_is_an_error_row(tmp_path, generator_file, monkeypatch):
    import ganonlib.anonymize.video as video
    from ganonlib.anonymize.generator import Anonymizer
    from ganonlib.config import AnonymizeConfig
    from ganonlib.data.synthetic_video import write_synthetic_clip

    write_synthetic_clip(tmp_path / "clip.mp4", frames=4, audio=False)
    anonymizer = Anonymizer(AnonymizeConfig(weights=str(generator_file), device="cpu"), follow_generator=True)
    monkeypatch.setattr(video, "available_mib", lambda: 6)  # 640 x 360 x 7 held frames need 4.8 MiB
    job = video.VideoJob(str(tmp_path / "clip.mp4"), "clip.mp4", "clip.mp4", "", "mp4", str(tmp_path / "out.mp4"),
                         str(tmp_path / "out.partial"), progress=False)
    reason = video.video_task((anonymizer, None), job)  # refused before any frame is searched
    assert reason.startswith("too_large: 640x360: the 5 frames held back") and not (tmp_path / "out.mp4").exists()
    rows = video.clip_rows(job, reason, "videos/clip.mp4", "", "blur")
    assert [(r.outcome, r.outputs) for r in rows] == [("error", "")]
