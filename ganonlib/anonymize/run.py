"""``ganon anonymize`` on a photo, a folder tree or a list, failing closed (docs/anonymize.md, "What the anonymizer
guarantees"): the walk, the manifest, reuse, the worker processes, the writer and the summary.

Every face the search finds is re-synthesized by the generator or, where that is impossible, covered by the
fallback; every input gets a manifest row, appended as the run goes; faces are extracted in worker processes, so a
native crash costs one file; a rerun skips what is done; the first failed write stops the run with one message.
The worker pools outlive a call (a notebook or benchmark calling again pays no start-up), kept per anonymizer until
:func:`close_workers`.
"""
from __future__ import annotations

import hashlib
import json
import os
import queue
import threading
import uuid
import weakref
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Callable, Iterator

from tqdm.auto import tqdm

from ganonlib.anonymize.decision import reason_keys
from ganonlib.anonymize.generator import Anonymizer
from ganonlib.anonymize.inputs import (InputFile, discover_inputs, display_name, photo_format_of, plan_photo_names,
                                       prepare_output, video_name)
from ganonlib.anonymize.journal import History, Journal
from ganonlib.anonymize.photos import OutputImage, Photo, compose_photo, extract_photo, generate_faces
from ganonlib.anonymize.video import ClipResult, VideoJob, clip_rows, start_video_worker, video_task
from ganonlib.anonymize.video_io import sniff_video
from ganonlib.config import AnonymizeConfig, changing
from ganonlib.faces.finder import FaceFinder, start_finder_worker
from ganonlib.faces.search import size_histogram
from ganonlib.io import MANIFEST_NAME, ManifestRow, atomic_write_image, atomic_write_json, file_sha256, reusable
from ganonlib.workers import Crashed, CrashSafePool

__all__ = ["RUN_KEYS", "OutputWriteError", "SEARCH_LIMITS", "StrictModeError", "anonymize_files", "check_strict",
           "close_workers", "fingerprint", "worker_pools"]


PARTIAL_FOLDER = ".partial"  # in OUT: the clips' copies while they are written (a dot folder: no output's place)
# what "0 left unchanged" cannot promise: the faces the search does not see (docs/anonymize.md, "What the anonymizer
# guarantees"; measured by benchmarks/quality/fail_closed.py --border)
SEARCH_LIMITS = ("Counts are of the faces found: the search can miss faces under about 20 px high and faces with "
                 "less than half inside the frame.")


class OutputWriteError(RuntimeError):
    """An output could not be written (disk full, read-only, permissions): the run stops at the first one."""


class StrictModeError(RuntimeError):
    """``strict`` was asked for and a face was not re-synthesized or a file failed."""


def check_strict(cfg: AnonymizeConfig, summary: dict) -> None:
    """Raise :class:`StrictModeError` under ``cfg.strict`` when any face got the fallback (or was left) or any file
    failed: a batch job can stop there instead of publishing covered faces."""
    if cfg.strict and (summary["faces_covered"] or summary["faces_left_unchanged"] or summary["files_failed"]):
        frames = summary.get("video_face_frames_covered", 0)
        in_videos = f" ({frames} face-frames of videos covered)" if frames else ""
        raise StrictModeError(f"strict: {summary['faces_covered']} faces covered by the fallback{in_videos}, "
                              f"{summary['faces_left_unchanged']} left unchanged, {summary['files_failed']} files "
                              f"failed (see manifest.csv)")


# the extraction and video worker pools of each anonymizer, by task and size (the model object holds no processes)
_POOLS: weakref.WeakKeyDictionary[Anonymizer, dict[tuple, CrashSafePool]] = weakref.WeakKeyDictionary()


def worker_pools(anonymizer: Anonymizer) -> dict[tuple, CrashSafePool]:
    """The worker pools :func:`anonymize_files` keeps for ``anonymizer`` between calls, by task and size."""
    return _POOLS.setdefault(anonymizer, {})


def close_workers(anonymizer: Anonymizer) -> None:
    """Stop ``anonymizer``'s extraction and video workers (they also end with this process)."""
    for pool in _POOLS.pop(anonymizer, {}).values():
        pool.close()


def fingerprint(anonymizer: Anonymizer, video: bool = False) -> str:
    """Everything that changes an output (of a photo, or of a ``video``): a finished input is reused only when this
    matches."""
    # the anonymizer's own settings that change a photo (or a video): a pipeline's (params.yaml's datasets, n_jobs,
    # ...) change none, nor do batch size, workers or strict
    changed = changing(AnonymizeConfig, "photos", "videos") if video else changing(AnonymizeConfig, "photos")
    cfg = {name: getattr(anonymizer.cfg, name) for name in changed}
    settings = {"anonymize": cfg, "preprocess": anonymizer.preprocess.fingerprint(),
                "weights": anonymizer.weights_sha256, "search": 1}
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


# one photo's composition: its images and its manifest rows
_Compose = Callable[[], tuple[list[OutputImage], list[ManifestRow]]]


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


def _summary(inputs: list[InputFile], blocks: dict[str, list[ManifestRow]], reused: int,
             anonymizer: Anonymizer) -> dict:
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
        "reasons": dict(Counter(k for r in rows if r.outcome not in ("ok",) for k in reason_keys(r.reason))),
        "search_limits": SEARCH_LIMITS,
        "fallback": anonymizer.cfg.fallback, "no_face_policy": anonymizer.cfg.no_face,
        "weights_sha256": anonymizer.weights_sha256, "precision": str(anonymizer.dtype or "torch.float32"),
    }


def _partial_path(out_dir: Path) -> str:
    """Where a clip's copy is written until it is complete: in ``OUT/.partial/``, where no output's name can lead
    (each lies under photos/, videos/ or faces/; ``<name>.partial`` beside the output would be the output of an input
    named so), under a name no other clip, nor a concurrent run's, takes."""
    return str(out_dir / PARTIAL_FOLDER / f"{uuid.uuid4().hex}.partial")


def _anonymize_videos(jobs: list[VideoJob], anonymizer: Anonymizer, journal: Journal, settings: str,
                      progress: bool) -> list[ClipResult]:
    """Each clip in the video worker (a native crash costs that clip; its unfinished file is removed), its rows
    appended once its copy is in place."""
    if not jobs:
        return []
    # the worker holds its own generator and settings: settings changed since its start need a new one
    pools = worker_pools(anonymizer)
    key = ("video", anonymizer.cfg, anonymizer.preprocess)
    for stale in [k for k in pools if k[0] == "video" and k != key]:
        pools.pop(stale).close()
    pool = pools.get(key)
    if pool is None:
        pool = pools[key] = CrashSafePool(
            video_task, start_video_worker, (anonymizer.cfg, anonymizer.preprocess, anonymizer.cfg.second_detector), 1)
    done = []
    try:
        for job, outcome in tqdm(pool.imap(jobs), total=len(jobs), desc="videos", disable=not progress):
            if isinstance(outcome, Crashed):
                Path(job.partial_path).unlink(missing_ok=True)
                outcome = f"crashed: {outcome}"
            if isinstance(outcome, str) and outcome.startswith("write_failed"):
                raise OutputWriteError(f"cannot write {job.out_path}: {outcome.split(': ', 1)[1]}")
            if isinstance(outcome, ClipResult):
                done.append(outcome)
            try:
                journal.append(clip_rows(job, outcome, video_name(job.rel), settings, anonymizer.cfg.fallback))
            except OSError as err:
                raise OutputWriteError(f"cannot write in {journal.path.parent}: {err.strerror or err}") from None
    except BaseException:
        pools.pop(key).close()
        raise
    finally:
        try:  # empty once every copy is in place, unless a concurrent run is writing one
            (journal.path.parent / PARTIAL_FOLDER).rmdir()
        except OSError:
            pass
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


# what this run reused, removed and anonymized of videos depends on the runs before it: returned (the command line
# prints it), not written, so that summary.json depends only on the inputs and settings, as the folder does: a stage
# notebook run again from JupyterLab leaves the bytes dvc.lock records
RUN_KEYS = ("files_reused", "outputs_replaced", *_video_summary([]))


def _remove_replaced(history: History, out_dir: Path) -> int:
    """Delete the outputs an earlier run recorded for an input that this or a later run wrote again under other names
    (older settings, an older kit's ``photos/x.jpg.jpg``, crops no longer asked for): the folder holds one
    anonymized copy of each input, not two. Only files the manifest lists are removed, never one that a current
    block lists, and never anything outside OUT. Returns how many were removed."""
    removed, root = 0, out_dir.resolve()
    for name in sorted(history.superseded_outputs - history.current_outputs):
        path = out_dir / name
        try:
            if root not in path.resolve().parents or not path.is_file() or path.is_symlink():
                continue
            path.unlink()
            removed += 1
        except OSError:  # gone already, or not ours to remove: it stays, as any file the kit cannot account for
            continue
    return removed


def anonymize_files(input_path: str | Path | list[str] | list[Path], out_dir: str | Path, anonymizer: Anonymizer,
                    progress: bool = True,
                    extract: Callable[[FaceFinder, tuple[str, str, str, str]], Photo] = extract_photo,
                    serial: bool = False) -> dict:
    """Anonymize a photo, a folder tree (mirrored) or a list of photos into ``out_dir`` (layout in
    :mod:`ganonlib.anonymize.inputs`); returns the summary, also written to ``summary.json`` less
    the run's own counts (:data:`RUN_KEYS`).

    Raises :class:`InputError` before any work when the paths cannot be used, :class:`OutputWriteError` at the first
    output that cannot be written. ``extract`` is the per-photo task run in the worker processes. ``serial`` runs
    one extraction worker and composes and writes in the caller, one step after the other: the baseline the
    pipeline is measured and checked against (same outputs, same manifest).
    """
    out_dir = Path(out_dir)
    inputs = discover_inputs([Path(p) for p in input_path] if isinstance(input_path, list) else Path(input_path),
                             out_dir)
    prepare_output(out_dir)
    journal = Journal(out_dir / MANIFEST_NAME)
    journal.create()
    done = journal.blocks()
    photo_fingerprint, video_fingerprint = fingerprint(anonymizer), fingerprint(anonymizer, True)
    todo, videos, reused, photos = [], [], 0, []
    for entry in inputs:
        old = done.get(entry.source)
        try:
            sha = "" if entry.problem else file_sha256(entry.path)
        except OSError as err:
            entry = InputFile(entry.path, entry.rel, f"unreadable: {err.strerror or err}")
            sha = ""
        if entry.problem:
            row = ManifestRow(source=entry.source, outcome=entry.outcome, reason=entry.problem,
                              fingerprint=photo_fingerprint)
            if old != [row]:
                journal.append([row])
            continue
        kind = sniff_video(entry.path)
        if kind and reusable(old or [], sha, video_fingerprint, out_dir):
            reused += 1
        elif kind:
            videos.append(VideoJob(str(entry.path), entry.source, entry.rel, sha, kind,
                                   str(out_dir / video_name(entry.rel)), _partial_path(out_dir), progress))
        else:
            photos.append((entry, sha, old or []))
    # every photo's output name at once (a name a format change would take twice gets a suffix), reused ones included
    targets = plan_photo_names([(e.rel, photo_format_of(e.path)) for e, _, _ in photos], anonymizer.cfg.photo_format)
    for entry, sha, old in photos:
        named = {p for r in old for p in r.outputs.split(";") if p.startswith("photos/")}
        if reusable(old, sha, photo_fingerprint, out_dir) and named <= {targets[entry.rel].name}:
            reused += 1
        else:
            todo.append((str(entry.path), entry.source, entry.rel, sha))

    # the pipeline: extraction workers -> (feeder thread) -> batched generation here -> compose and write threads
    cores = os.cpu_count() or 1
    workers = 1 if serial else (anonymizer.cfg.workers or cores)
    writer = _Writer(out_dir, journal, threads=0 if serial else min(4, cores))
    # the workers (and their models) outlive the call: a notebook or benchmark calling again pays no start-up
    pools = worker_pools(anonymizer)
    key = (extract, workers)
    pool = pools.get(key)
    if pool is None and todo:  # a run of videos only starts no photo workers
        pool = pools[key] = CrashSafePool(
            extract, start_finder_worker,
            (anonymizer.preprocess, anonymizer.cfg.second_detector, anonymizer.cfg.search_device), workers)
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
                generated, failure = generate_faces(anonymizer, chunk)
                for p, new in zip(chunk, generated):
                    writer.put(partial(compose_photo, anonymizer, p, targets[p.rel], new, failure, photo_fingerprint))
                chunk = []
    except BaseException:
        if feeder is not None:
            feeder.stop()
        if key in pools:  # items may still be in flight: a later call starts afresh
            pools.pop(key).close()
        raise
    finally:
        writer.close()
    writer.check()
    clips = _anonymize_videos(videos, anonymizer, journal, video_fingerprint, progress)
    history = journal.history()
    summary = _summary(inputs, history.last, reused, anonymizer)
    summary["outputs_replaced"] = _remove_replaced(history, out_dir)
    if videos:
        summary.update(_video_summary(clips))
    try:
        atomic_write_json(out_dir / "summary.json", {k: v for k, v in summary.items() if k not in RUN_KEYS})
    except OSError as err:
        raise OutputWriteError(f"cannot write {out_dir / 'summary.json'}: {err.strerror or err}") from None
    return summary
