"""``ganon anonymize`` on one's own photos, failing closed (docs/anonymize.md, "What the anonymizer guarantees").

Every face the search finds is re-synthesized by the generator or, where that is impossible, covered by the
fallback; every input gets a manifest row, appended as the run goes; faces are extracted in worker processes, so a
native crash costs one file; a rerun skips what is done; the first failed write stops the run with one message.
"""
from __future__ import annotations

import hashlib
import json
import os
import queue
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from ganonlib.anonymize.cover import changed_share, cover_box, cover_region
from ganonlib.anonymize.inputs import (InputFile, PhotoTarget, crop_name, discover_inputs, display_name,
                                       photo_format_of, plan_photo_names, prepare_output, video_name)
from ganonlib.anonymize.journal import Journal
from ganonlib.anonymize.paste import face_mask, paste_back
from ganonlib.anonymize.video import VIDEO_SETTINGS, ClipResult, VideoJob, clip_rows, start_video_worker, video_task
from ganonlib.anonymize.video_io import sniff_video
from ganonlib.config import AnonymizeConfig, PreprocessConfig
from ganonlib.faces.extract import ExtractedFace, FaceExtractor, mesh_matches
from ganonlib.faces.search import find_faces, overlap_of_smaller, size_histogram
from ganonlib.io import (IMAGE_SUFFIXES, ImageReadError, ManifestRow, atomic_write_image, atomic_write_json,
                         file_sha256, read_image, reusable)
from ganonlib.workers import Crashed, CrashSafePool

__all__ = ["FaceFinder", "OutputWriteError", "StrictModeError", "anonymize_files", "check_strict", "extract_photo",
           "find_all_faces", "start_extractor"]

_MIN_CHANGED = 0.3  # share of a face box a replacement must change by > 20 grey levels, else it is covered


# what "0 left unchanged" cannot promise: the faces the search does not see (docs/anonymize.md, "What the anonymizer
# guarantees"; measured by benchmarks/quality/fail_closed.py --border)
SEARCH_LIMITS = ("Counts are of the faces found: the search can miss faces under about 20 px high and faces with "
                 "less than half inside the frame.")


class OutputWriteError(RuntimeError):
    """An output could not be written (disk full, read-only, permissions): the run stops at the first one."""


class StrictModeError(RuntimeError):
    """``strict`` was asked for and a face was not re-synthesized or a file failed."""


def check_strict(cfg: Any, summary: dict) -> None:
    """Raise :class:`StrictModeError` under ``cfg.strict`` when any face got the fallback (or was left) or any file
    failed: a batch job can stop there instead of publishing covered faces."""
    if cfg.strict and (summary["faces_covered"] or summary["faces_left_unchanged"] or summary["files_failed"]):
        frames = summary.get("video_face_frames_covered", 0)
        in_videos = f" ({frames} face-frames of videos covered)" if frames else ""
        raise StrictModeError(f"strict: {summary['faces_covered']} faces covered by the fallback{in_videos}, "
                              f"{summary['faces_left_unchanged']} left unchanged, {summary['files_failed']} files "
                              f"failed (see manifest.csv)")


@dataclass
class Photo:
    """One input after extraction in a worker: the image and its faces, or the row saying why there are none."""

    source: str
    rel: str
    sha256: str
    image: np.ndarray | None = None
    faces: list[ExtractedFace] = field(default_factory=list)
    note: str = ""  # e.g. only the first frame of an animation was read
    failure: tuple[str, str] | None = None  # (outcome, reason) when the file could not be used


@dataclass
class FaceFinder:
    """The models of one worker process: the kit's extractor and, as a cross-check, a second detector of another
    kind (MTCNN by default), whose faces the first missed are added: a face either detector finds is re-synthesized
    or covered."""

    extractor: FaceExtractor
    second: Any = None  # a FaceDetector, or None
    border: bool = True  # the search's tiles along the edges (False: the benchmarks' baseline)

    def __call__(self, image: np.ndarray) -> list[ExtractedFace]:
        faces = find_all_faces(self.extractor, image, self.border)
        if self.second is not None:
            missed = [d for d in self.second.detect(image)
                      if all(overlap_of_smaller(d.box, f.detection.box) < 0.5 for f in faces)]
            faces += self.extractor.extract(image, missed, first=len(faces))
        return faces


def start_extractor(cfg: PreprocessConfig, second_detector: str = "mtcnn") -> FaceFinder:
    """Worker initializer: the models, once per process (every face is searched for, so no cap at detection)."""
    from dataclasses import replace

    from ganonlib.faces.detect import make_detector

    second = make_detector(second_detector, 0.9, 0) if second_detector != "none" else None
    return FaceFinder(FaceExtractor(replace(cfg, max_faces=0)), second)


def _start_worker(cfg: PreprocessConfig, second_detector: str) -> FaceFinder:
    import torch

    torch.set_num_threads(1)  # the second detector runs on torch; the generator beside it has the other cores
    return start_extractor(cfg, second_detector)


def find_all_faces(extractor: FaceExtractor, image: np.ndarray, border: bool = True) -> list[ExtractedFace]:
    """Every face of ``image`` with its mesh where one fits: the thorough search, then, when a face lacks a fitting
    mesh or none was found, the search on the photo turned by 90, 180 and 270 degrees, whose faces replace the
    misfits they overlap and add those the first search missed."""
    faces = extractor.extract(image, find_faces(extractor.detector, image, border=border))
    if faces and all(mesh_matches(f) for f in faces):
        return faces
    # a face without a usable mesh, or none at all: look again with the photo turned by 90, 180 and 270 degrees
    turned = extractor.extract(image, find_faces(extractor.detector, image, turns=(1, 2, 3)))
    for extra in sorted(turned, key=mesh_matches, reverse=True):
        same = [f for f in faces if overlap_of_smaller(f.detection.box, extra.detection.box) >= 0.5]
        if not same:
            faces.append(extra)
        elif mesh_matches(extra) and not any(mesh_matches(f) for f in same):
            faces = [f for f in faces if f not in same] + [extra]
    for index, face in enumerate(faces):
        face.index = index
    return faces


def extract_photo(finder: FaceFinder, item: tuple[str, str, str, str]) -> Photo:
    """Worker task: read one input and find every face in it; never raises for a bad file."""
    path, source, rel, sha = item
    photo = Photo(source, rel, sha)
    try:
        cfg = finder.extractor.cfg
        photo.image = read_image(path, cfg.max_pixels, cfg.min_side)
        with Image.open(path) as handle:
            frames = getattr(handle, "n_frames", 1)
        if frames > 1:
            photo.note = f"only the first of {frames} frames anonymized"
        photo.faces = finder(photo.image)
    except ImageReadError as err:
        # a file named as an image that does not decode is an error; any other file is simply not a photo
        if err.reason == "unreadable" and Path(path).suffix.lower() not in IMAGE_SUFFIXES:
            photo.failure = ("skipped", f"not_an_image: {err.detail}")
        else:
            photo.failure = ("error", f"{err.reason}: {err.detail}")
    except Exception as err:  # one odd photo must not stop the run
        photo.failure = ("error", f"failed: {type(err).__name__}: {err}")
    for face in photo.faces:
        face.face = None  # the segmented copy is not needed for anonymizing: keep the transfer small
    return photo


def _fingerprint(anonymizer: Any, video: bool = False) -> str:
    """Everything that changes an output (of a photo, or of a ``video``): a finished input is reused only when this
    matches."""
    ignored = ("batch_size", "compile", "strict", "workers") + (() if video else VIDEO_SETTINGS)
    # the anonymizer's own settings only: a pipeline's (params.yaml's datasets, n_jobs, ...) change no output
    cfg = {f.name: getattr(anonymizer.cfg, f.name) for f in fields(AnonymizeConfig) if f.name not in ignored}
    settings = {"anonymize": cfg, "preprocess": anonymizer.preprocess.fingerprint(),
                "weights": anonymizer.weights_sha256, "search": 1}
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


# one output image: its name under OUT, its pixels and the format it is written in ("" = by its name: PNG crops)
_Image = tuple[str, np.ndarray, str]
# one photo's composition: its images and its manifest rows
_Compose = Callable[[], tuple[list[_Image], list[ManifestRow]]]


class _Writer:
    """Composes each photo (paste-back, covers), writes its images, then appends its rows, in the order the photos
    came: a row is never recorded before its outputs exist, and the manifest reads the same whatever the timing.
    With ``threads`` the photos are composed and encoded by a pool of threads (OpenCV's filters and Pillow's PNG
    and JPEG encoders run without the GIL, so they overlap each other and the next faces' generation) and recorded
    by one committing thread; with 0, in the caller (the serial path).
    """

    def __init__(self, out_dir: Path, journal: Journal, threads: int = 1) -> None:
        self.out_dir, self.journal = out_dir, journal
        self.error: OutputWriteError | None = None
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="write") if threads else None
        # bounded: memory stays flat on any number of photos (each entry holds one photo's images)
        self._queue: queue.Queue = queue.Queue(maxsize=4 * max(threads, 1))
        self._thread = threading.Thread(target=self._commit, daemon=True) if threads else None
        if self._thread:
            self._thread.start()

    def _write(self, compose: _Compose) -> list[ManifestRow]:
        images, rows = compose()
        for name, image, fmt in images:
            atomic_write_image(self.out_dir / name, image, fmt or None)
        return rows

    def _record(self, written: Callable[[], list[ManifestRow]]) -> None:
        if self.error:
            return
        try:
            self.journal.append(written())
        except Exception as err:  # OSError above all; anything else must stop the run too, not hang it
            detail = err.strerror if isinstance(err, OSError) and err.strerror else f"{type(err).__name__}: {err}"
            self.error = OutputWriteError(f"cannot write in {display_name(self.out_dir)}: {detail}; the run "
                                          f"stopped there, manifest.csv holds every photo finished before")

    def _commit(self) -> None:
        while (job := self._queue.get()) is not None:
            self._record(job)

    def put(self, compose: _Compose) -> None:
        """Queue one photo: ``compose`` returns its images and rows."""
        self.check()
        if self._pool is None:
            self._record(lambda: self._write(compose))
            return self.check()
        job = self._pool.submit(self._write, compose).result
        while True:
            self.check()
            try:
                self._queue.put(job, timeout=1.0)
                return
            except queue.Full:
                continue

    def check(self) -> None:
        if self.error:
            raise self.error

    def close(self) -> None:
        if self._thread:
            self._queue.put(None)
            self._thread.join()
            self._pool.shutdown()


class _Feeder:
    """Runs the extraction pool's results into a bounded queue from a thread of its own, so the workers go on
    extracting the next photos while the caller generates and composes: the pipeline's first stage."""

    def __init__(self, results: Iterator, depth: int) -> None:
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(results,), daemon=True)
        self._thread.start()

    def _run(self, results: Iterator) -> None:
        try:
            for entry in results:
                if not self._offer(("item", entry)):
                    return
        except BaseException as err:  # a worker that cannot start: raised in the caller
            self._offer(("error", err))
            return
        self._offer(("end", None))

    def _offer(self, message: tuple) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(message, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator:
        while True:
            kind, value = self._queue.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value

    def stop(self) -> None:
        """Stop taking results (the thread ends at its next one); the pool is the caller's to close."""
        self._stop.set()
        self._thread.join(timeout=60)


def _why_not(anonymizer: Any, face: ExtractedFace, failure: str) -> str:
    """Why ``face`` cannot be re-synthesized ("" when it can)."""
    cap = anonymizer.preprocess.max_faces
    if cap and face.index >= cap:
        return f"cap: beyond max_faces={cap}"
    if failure:
        return f"generation_failed: {failure}"
    if face.points is None:
        return "no_mesh: face mesh not found in the aligned face"
    if not mesh_matches(face):
        return "mesh_mismatch: the mesh does not lie on the detected face"
    return ""


def _notes(*notes: str) -> str:
    return "".join(f"; {n}" for n in notes if n)


def _no_face(anonymizer: Any, photo: Photo, target: PhotoTarget, base: dict) -> tuple[list, list[ManifestRow]]:
    policy = anonymizer.cfg.no_face
    note = _notes(photo.note)  # an animation's other frames were not searched
    if policy == "average":
        name = crop_name(photo.rel, 0)
        return [(name, anonymizer.average_face(), "")], [
            ManifestRow(outcome="ok", reason=f"no_face: average face written (policy average){note}", outputs=name,
                        **base)]
    if policy in ("blur", "keep"):
        note = _notes(photo.note, target.note)  # only a written photo can have changed format
        image, said = ((cover_region(photo.image, "blur"), "whole photo blurred") if policy == "blur"
                       else (photo.image, "photo written as it is"))
        return [(target.name, image, target.fmt)], [
            ManifestRow(outcome="ok", reason=f"no_face: {said} (policy {policy}){note}", outputs=target.name,
                        **base)]
    return [], [ManifestRow(outcome="skipped", reason=f"no_face: nothing written (policy {policy}){note}", **base)]


def _compose(anonymizer: Any, photo: Photo, target: PhotoTarget, generated: dict[int, np.ndarray], failure: str,
             fingerprint: str) -> tuple[list[_Image], list[ManifestRow]]:
    """One photo's outputs and rows: each face re-synthesized, or covered by the fallback, or (fallback none) left
    and said so; the photo's own row comes last."""
    cfg = anonymizer.cfg
    base = dict(source=photo.source, sha256=photo.sha256, fingerprint=fingerprint)
    if photo.failure:
        return [], [ManifestRow(outcome=photo.failure[0], reason=photo.failure[1], **base)]
    if not photo.faces:
        return _no_face(anonymizer, photo, target, base)
    images, rows, result = [], [], photo.image
    for face in photo.faces:
        box = face.detection.box
        why = _why_not(anonymizer, face, failure)
        new = generated.get(face.index)
        if not why:
            mask = face_mask(face.points, face.aligned, cfg.feather)
            candidate = paste_back(result, new, face.aligned, mask, blend=cfg.blend, colour=cfg.match_colour)
            if changed_share(result, candidate, box) < _MIN_CHANGED:
                why = "unchanged: the new face changed too little of the detected face"
            else:
                result = candidate
        face_row = dict(face=face.index, score=face.detection.score, box=" ".join(f"{v:.1f}" for v in box), **base)
        name = crop_name(photo.rel, face.index) if cfg.crops else ""
        if not why:
            images += [(name, new, "")] if name else []
            rows.append(ManifestRow(outcome="ok", outputs=name, **face_row))
        elif cfg.fallback == "none":
            rows.append(ManifestRow(outcome="skipped", reason=f"{why}; left unchanged (fallback none)", **face_row))
        else:
            result = cover_box(result, box, cfg.fallback)
            images += [(name, cover_region(face.aligned.image, cfg.fallback), "")] if name else []
            rows.append(ManifestRow(outcome="covered", reason=f"{why}; covered ({cfg.fallback})", outputs=name,
                                    **face_row))
    counts = Counter(r.outcome for r in rows)
    said = f"{counts['ok']} re-synthesized, {counts['covered']} covered, {counts['skipped']} left unchanged"
    if counts["skipped"] == len(rows):  # every face left as it was: never written as an anonymized photo
        rows.append(ManifestRow(outcome="skipped", reason=f"faces: {said}: no photo written{_notes(photo.note)}",
                                **base))
    else:
        images.append((target.name, result, target.fmt))
        rows.append(ManifestRow(outcome="ok", reason=f"faces: {said}{_notes(photo.note, target.note)}",
                                outputs=target.name, **base))
    return images, rows


def _generate(anonymizer: Any, photos: list[Photo]) -> tuple[list[dict[int, np.ndarray]], str]:
    """The new faces of several photos in shared batches; a failure (out of memory, ...) is returned, not raised:
    those faces get the fallback."""
    wanted = [(i, f) for i, p in enumerate(photos) for f in p.faces if not _why_not(anonymizer, f, "")]
    generated: list[dict[int, np.ndarray]] = [{} for _ in photos]
    if not wanted:
        return generated, ""
    try:
        faces = anonymizer.generate(np.stack([f.landmarks for _, f in wanted]))
    except Exception as err:
        return generated, f"{type(err).__name__}: {err}"
    for (i, face), new in zip(wanted, faces):
        generated[i][face.index] = new
    return generated, ""


def _summary(inputs: list[InputFile], blocks: dict[str, list[ManifestRow]], reused: int, anonymizer: Any) -> dict:
    rows = [r for entry in inputs for r in blocks.get(entry.source, [])]
    files = [r for r in rows if r.face < 0]
    faces = [r for r in rows if r.face >= 0]
    heights = [float(b[3]) - float(b[1]) for b in (r.box.split() for r in faces) if len(b) == 4]
    return {
        "files": len(inputs), "files_recorded": len(files), "files_reused": reused,
        "files_failed": sum(r.outcome == "error" for r in files),
        "files_failed_by_reason": dict(Counter(r.reason.split(":")[0] for r in files if r.outcome == "error")),
        "files_not_images": sum(r.outcome == "skipped" and not r.reason.startswith(("no_face", "faces"))
                                for r in files),
        "files_without_face": sum(r.reason.startswith("no_face") for r in files),
        "faces_found": len(faces), "faces_anonymized": sum(r.outcome == "ok" for r in faces),
        "faces_covered": sum(r.outcome == "covered" for r in faces),
        "faces_left_unchanged": sum(r.outcome == "skipped" for r in faces),
        "faces_by_height_px": size_histogram(heights),
        "reasons": dict(Counter(r.reason.split(":")[0] for r in rows if r.outcome not in ("ok",))),
        "search_limits": SEARCH_LIMITS,
        "fallback": anonymizer.cfg.fallback, "no_face_policy": anonymizer.cfg.no_face,
        "weights_sha256": anonymizer.weights_sha256, "precision": str(anonymizer.dtype or "torch.float32"),
    }


def _anonymize_videos(jobs: list[VideoJob], anonymizer: Any, journal: Journal, fingerprint: str,
                      progress: bool) -> list[ClipResult]:
    """Each clip in the video worker (a native crash costs that clip; its unfinished file is removed), its rows
    appended once its copy is in place."""
    if not jobs:
        return []
    # the worker holds its own generator and settings: settings changed since its start need a new one
    key = ("video", anonymizer.cfg, anonymizer.preprocess)
    for stale in [k for k in anonymizer.pools if k[0] == "video" and k != key]:
        anonymizer.pools.pop(stale).close()
    pool = anonymizer.pools.get(key)
    if pool is None:
        pool = anonymizer.pools[key] = CrashSafePool(
            video_task, start_video_worker, (anonymizer.cfg, anonymizer.preprocess, anonymizer.cfg.second_detector), 1)
    done = []
    try:
        for job, outcome in tqdm(pool.imap(jobs), total=len(jobs), desc="videos", disable=not progress):
            if isinstance(outcome, Crashed):
                Path(job.out_path + ".partial").unlink(missing_ok=True)
                outcome = f"crashed: {outcome}"
            if isinstance(outcome, str) and outcome.startswith("write_failed"):
                raise OutputWriteError(f"cannot write {job.out_path}: {outcome.split(': ', 1)[1]}")
            if isinstance(outcome, ClipResult):
                done.append(outcome)
            try:
                journal.append(clip_rows(job, outcome, video_name(job.rel), fingerprint, anonymizer.cfg.fallback))
            except OSError as err:
                raise OutputWriteError(f"cannot write in {journal.path.parent}: {err.strerror or err}") from None
    except BaseException:
        anonymizer.pools.pop(key).close()
        raise
    return done


def _video_summary(clips: list[ClipResult]) -> dict:
    faces = Counter()
    for clip in clips:
        faces.update(clip.faces)
    return {"videos_anonymized": len(clips), "video_frames": sum(c.frames for c in clips),
            "video_face_frames_anonymized": faces["ok"],
            "video_face_frames_covered": sum(v for k, v in faces.items() if k != "ok"),
            "video_face_frames_by_outcome": dict(faces),
            "video_frames_covered_whole": sum(c.frames_blurred for c in clips)}


def _remove_replaced(journal: Journal, out_dir: Path) -> int:
    """Delete the outputs an earlier run recorded for an input that this or a later run wrote again under other names
    (older settings, an older kit's ``photos/x.jpg.jpg``, crops no longer asked for): the folder holds one
    anonymized copy of each input, not two. Only files the manifest lists are removed, never one that a current
    block lists, and never anything outside OUT. Returns how many were removed."""
    stale, current = journal.replaced_outputs()
    removed, root = 0, out_dir.resolve()
    for name in sorted(stale - current):
        path = out_dir / name
        try:
            if root not in path.resolve().parents or not path.is_file() or path.is_symlink():
                continue
            path.unlink()
            removed += 1
        except OSError:  # gone already, or not ours to remove: it stays, as any file the kit cannot account for
            continue
    return removed


def anonymize_files(input_path: str | Path | list[str] | list[Path], out_dir: str | Path, anonymizer: Any,
                    progress: bool = True,
                    extract: Callable[[FaceFinder, tuple[str, str, str, str]], Photo] = extract_photo,
                    serial: bool = False) -> dict:
    """Anonymize a photo, a folder tree (mirrored) or a list of photos into ``out_dir`` (layout in
    :mod:`ganonlib.anonymize.inputs`); returns the summary, also written to ``summary.json``.

    Raises :class:`InputError` before any work when the paths cannot be used, :class:`OutputWriteError` at the first
    output that cannot be written. ``extract`` is the per-photo task run in the worker processes. ``serial`` runs
    one extraction worker and composes and writes in the caller, one step after the other: the baseline the
    pipeline is measured and checked against (same outputs, same manifest).
    """
    out_dir = Path(out_dir)
    inputs = discover_inputs([Path(p) for p in input_path] if isinstance(input_path, list) else Path(input_path),
                             out_dir)
    prepare_output(out_dir)
    journal = Journal(out_dir / "manifest.csv")
    done, fingerprint, video_fingerprint = journal.blocks(), _fingerprint(anonymizer), _fingerprint(anonymizer, True)
    todo, videos, reused, photos = [], [], 0, []
    for entry in inputs:
        old = done.get(entry.source)
        try:
            sha = "" if entry.problem else file_sha256(entry.path)
        except OSError as err:
            entry = InputFile(entry.path, entry.rel, f"unreadable: {err.strerror or err}")
            sha = ""
        if entry.problem:
            row = ManifestRow(source=entry.source, outcome=entry.outcome, reason=entry.problem, fingerprint=fingerprint)
            if old != [row]:
                journal.append([row])
            continue
        kind = sniff_video(entry.path)
        if kind and reusable(old or [], sha, video_fingerprint, out_dir):
            reused += 1
        elif kind:
            videos.append(VideoJob(str(entry.path), entry.source, entry.rel, sha, kind,
                                   str(out_dir / video_name(entry.rel)), progress))
        else:
            photos.append((entry, sha, old or []))
    # every photo's output name at once (a name a format change would take twice gets a suffix), reused ones included
    targets = plan_photo_names([(e.rel, photo_format_of(e.path)) for e, _, _ in photos], anonymizer.cfg.photo_format)
    for entry, sha, old in photos:
        named = {p for r in old for p in r.outputs.split(";") if p.startswith("photos/")}
        if reusable(old, sha, fingerprint, out_dir) and named <= {targets[entry.rel].name}:
            reused += 1
        else:
            todo.append((str(entry.path), entry.source, entry.rel, sha))

    # the pipeline: extraction workers -> (feeder thread) -> batched generation here -> compose and write threads
    cores = os.cpu_count() or 1
    workers = 1 if serial else (anonymizer.cfg.workers or cores)
    writer = _Writer(out_dir, journal, threads=0 if serial else min(4, cores))
    # the workers (and their models) outlive the call: a notebook or benchmark calling again pays no start-up
    key = (extract, workers)
    pool = anonymizer.pools.get(key)
    if pool is None and todo:  # a run of videos only starts no photo workers
        pool = anonymizer.pools[key] = CrashSafePool(
            extract, _start_worker, (anonymizer.preprocess, anonymizer.cfg.second_detector), workers)
    feeder = None if serial or not todo else _Feeder(pool.imap(todo), depth=2 * anonymizer.cfg.batch_size)
    try:
        chunk: list[Photo] = []
        if not todo:  # videos only: no photo worker was started
            results: Iterator = iter(())
        else:
            results = pool.imap(todo) if feeder is None else iter(feeder)
        for n, (item, photo) in enumerate(tqdm(results, total=len(todo), desc="anonymize", disable=not progress),
                                          start=1):
            if isinstance(photo, Crashed):
                photo = Photo(item[1], item[2], item[3], failure=("error", f"crashed: {photo}"))
            chunk.append(photo)
            if sum(len(p.faces) for p in chunk) >= anonymizer.cfg.batch_size or len(chunk) >= \
                    anonymizer.cfg.batch_size or n == len(todo):
                generated, failure = _generate(anonymizer, chunk)
                for p, new in zip(chunk, generated):
                    writer.put(partial(_compose, anonymizer, p, targets[p.rel], new, failure, fingerprint))
                chunk = []
    except BaseException:
        if feeder is not None:
            feeder.stop()
        if key in anonymizer.pools:  # items may still be in flight: a later call starts afresh
            anonymizer.pools.pop(key).close()
        raise
    finally:
        writer.close()
    writer.check()
    clips = _anonymize_videos(videos, anonymizer, journal, video_fingerprint, progress)
    removed = _remove_replaced(journal, out_dir)
    summary = _summary(inputs, journal.blocks(), reused, anonymizer)
    summary["outputs_replaced"] = removed
    if videos:
        summary.update(_video_summary(clips))
    try:
        atomic_write_json(out_dir / "summary.json", summary)
    except OSError as err:
        raise OutputWriteError(f"cannot write {out_dir / 'summary.json'}: {err.strerror or err}") from None
    return summary
