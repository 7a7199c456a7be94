"""``ganon anonymize`` on a video: every face tracked through the clip, re-synthesized steadily, and covered wherever
it cannot be (docs/videos.md).

Per frame: the face search of the photos (every ``detect_every`` frames) or, in between, each face's mesh at its
predicted box; the tracker associates faces across frames (:mod:`ganonlib.anonymize.tracking`). Each face's
alignment and landmarks pass a One-Euro filter, so a still face gets the same landmark image, hence the same
generated face, frame after frame (the generator has no randomness); its paste-back mask is averaged over time.

Fail closed in time: a face the detector loses for up to ``track_max_gap`` frames is covered at its predicted box; a
face first found in frame t is also covered in the ``track_max_gap`` (at least ``detect_every``) frames before t,
which are held back for that; a face whose mesh does not fit, or whose new face changed too little of it, is
covered; a frame whose search failed is blurred whole. Nothing of a clip is written under its name before it is
finished.
"""
from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ganonlib.anonymize.cover import cover_region
from ganonlib.anonymize.decision import cover, face_outcome, replace_face, tally
from ganonlib.anonymize.generator import Anonymizer
from ganonlib.anonymize.paste import face_mask
from ganonlib.anonymize.tracking import FaceTracker, OneEuroFilter, Track
from ganonlib.anonymize.video_io import VideoError, VideoWriter, probe_video, read_frames
from ganonlib.config import AnonymizeConfig, PreprocessConfig
from ganonlib.faces.align import AlignedFace, align_face
from ganonlib.faces.detect import Detection
from ganonlib.faces.extract import ExtractedFace, mesh_matches
from ganonlib.faces.finder import FaceFinder, start_finder
from ganonlib.faces.landmarks import render_landmarks
from ganonlib.faces.search import overlap_of_smaller
from ganonlib.io import ManifestRow
from ganonlib.machine import MEMORY_SHARE, available_mib

__all__ = ["ClipResult", "VideoJob", "anonymize_clip", "clip_rows", "start_video_worker", "video_task"]

_MASK_MEMORY = 0.5  # weight of the previous frame's mask in a face's paste-back mask
# how far (in face heights) a steadied pose or landmark may stay behind the measured one: a moving face's new face
# must not trail it and leave a sliver of the real one at its leading edge
_MAX_TRAIL = 0.02
# a landmark set of which fewer than _STILL_POINTS points moved this far (pixels) since the face's last one, and
# none 4 times as far, is kept as it was, and so is a crop that moved less than _MAX_TRAIL: a still
# face then gets exactly the same landmark image, hence the same new face, frame after frame, while an expression
# (a mouth opening moves dozens of points by pixels) still comes through
_STILL_PX = 0.5
_STILL_POINTS = 5


class ClipTooLarge(ValueError):
    """The frames a clip must hold back do not fit in this machine's memory."""


@dataclass
class ClipResult:
    """What happened in one clip, for its manifest rows and the run's summary."""

    frames: int = 0
    frames_searched: int = 0
    frames_blurred: int = 0  # the search failed: the whole frame blurred
    faces: Counter = field(default_factory=Counter)  # face-frames by outcome
    most_faces: int = 0  # in one frame
    tracks: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    codec: str = ""


@dataclass
class _Steady:
    """One track's filters and its last paste-back mask."""

    frame_points: OneEuroFilter
    pose: OneEuroFilter
    scale: float  # the face's height when first seen: the filters work in face heights
    mask: np.ndarray | None = None
    offset: np.ndarray | None = None  # box centre minus mesh centre when last detected (follows the box by the mesh)
    last_pose: np.ndarray | None = None
    last_points: np.ndarray | None = None  # in the frame
    last_landmarks: np.ndarray | None = None  # and the face generated from them
    last_face: np.ndarray | None = None
    last_cover: np.ndarray | None = None  # the box last covered

    def still(self, kind: str, value: np.ndarray, tolerance: float = _STILL_PX) -> np.ndarray:
        """``value``, or the last one of this ``kind`` (pose | points | cover) where no part of it moved by
        ``tolerance`` pixels."""
        last = getattr(self, f"last_{kind}")
        if last is not None and last.shape == value.shape:
            if kind == "points":
                moved = np.linalg.norm(value - last, axis=1)
                if (moved >= tolerance).sum() < _STILL_POINTS and moved.max() < 4 * tolerance:
                    return last
            elif np.abs(value - last).max() < tolerance:
                return last
        setattr(self, f"last_{kind}", value)
        return value


def _grown_for_motion(track: Track) -> tuple[float, float, float, float]:
    """A lost face's predicted box, grown by how far it may have moved since it was last seen."""
    reach = np.abs(track.velocity).max() * max(track.misses, 1)
    x0, y0, x1, y1 = track.box
    return (x0 - reach, y0 - reach, x1 + reach, y1 + reach)


class _ClipAnonymizer:
    def __init__(self, anonymizer: Anonymizer, finder: FaceFinder, rate: float) -> None:
        self.anonymizer, self.finder, self.rate = anonymizer, finder, rate
        self.cfg = anonymizer.cfg
        self.size = anonymizer.image_size
        self.hold = max(self.cfg.track_max_gap, self.cfg.detect_every - 1)
        self.tracker = FaceTracker(self.cfg.track_max_gap)
        self.steady: dict[int, _Steady] = {}
        self.held: deque[list] = deque()  # [image, pts] of frames not yet written
        self.result = ClipResult()
        self._search_next = True

    # ---- per face ----------------------------------------------------------------------------------------------
    def _steadied(self, track: Track) -> tuple[Detection, _Steady]:
        """The track's detection with its box and eyes through the One-Euro filter."""
        steady = self.steady.get(track.id)
        if steady is None:
            scale = max(float(track.box[3] - track.box[1]), 1.0)
            make = lambda: OneEuroFilter(self.rate, self.cfg.smooth_min_cutoff, self.cfg.smooth_beta)  # noqa: E731
            steady = self.steady[track.id] = _Steady(make(), make(), scale)
        pose = steady.pose(np.concatenate([track.box, track.eyes.ravel()]) / steady.scale, _MAX_TRAIL) * steady.scale
        # the crop may stay put within the trail bound: where the new face goes follows the landmarks, not the crop
        pose = steady.still("pose", pose, _MAX_TRAIL * steady.scale)
        det = Detection(tuple(float(v) for v in pose[:4]), track.score, (float(pose[4]), float(pose[5])),
                        (float(pose[6]), float(pose[7])))
        return det, steady

    def _landmarks(self, aligned: AlignedFace, points: np.ndarray, source: AlignedFace, steady: _Steady
                   ) -> np.ndarray:
        """Mesh ``points`` (normalised to ``source``'s crop) steadied in the frame, expressed in ``aligned``."""
        in_frame = source.to_source(points[:, :2] * self.size)
        smooth = steady.still("points", steady.frame_points(in_frame / steady.scale, _MAX_TRAIL) * steady.scale)
        out = points.copy()
        out[:, :2] = aligned.to_aligned(smooth) / self.size
        return out

    def _face(self, image: np.ndarray, track: Track, seen: ExtractedFace | None) -> tuple[ExtractedFace, _Steady]:
        """The track's face in this frame, aligned on its steadied pose: the search's mesh where it was detected,
        else a new mesh at the predicted box (None points where there is none)."""
        det, steady = self._steadied(track)
        aligned = align_face(image, det, self.size, self.anonymizer.preprocess.margin)
        face = ExtractedFace(index=track.id, detection=det, aligned=aligned)
        if seen is not None and seen.points is not None:
            face.points = self._landmarks(aligned, seen.points, seen.aligned, steady)
        elif seen is None:
            points = self.finder.extractor.mesher(aligned.image)
            if points is not None:
                face.points = self._landmarks(aligned, points, aligned, steady)
        if face.points is not None:
            face.landmarks = render_landmarks(face.points, self.size, self.anonymizer.landmarks_style)
        return face, steady

    def _follow_by_mesh(self, track: Track, face: ExtractedFace, steady: _Steady, seen: bool) -> None:
        """Keep the track on the face between searches: the box follows the mesh's centre, the eyes its irises."""
        if face.points is None:
            return
        pts = face.aligned.to_source(face.points[:, :2] * self.size)
        centre = pts.mean(axis=0)
        box_centre = np.array([(track.box[0] + track.box[2]) / 2, (track.box[1] + track.box[3]) / 2])
        if seen or steady.offset is None:
            steady.offset = box_centre - centre
            return
        shift = centre + steady.offset - box_centre
        irises = pts[[468, 473]]
        if np.linalg.norm(irises - track.eyes) > np.linalg.norm(irises[::-1] - track.eyes):
            irises = irises[::-1]  # in the order of the track's eyes (the subject's right first)
        track.move_to(track.box + np.tile(shift, 2), irises)

    # ---- per frame ---------------------------------------------------------------------------------------------
    def _new_face_between_searches(self, image: np.ndarray) -> bool:
        """One pass of the detector over the whole frame (a fraction of the search's cost): does it see a face no
        track holds? Then the frame is searched now, not at the next k-th frame (a face may come and go between
        two searches)."""
        boxes = [_grown_for_motion(t) for t in self.tracker.tracks]
        return any(all(overlap_of_smaller(d.box, b) < 0.3 for b in boxes)
                   for d in self.finder.extractor.detector.detect(image))

    def frame(self, index: int, image: np.ndarray, pts: int | None) -> None:
        search = self._search_next or index % self.cfg.detect_every == 0
        self._search_next = False
        if not search:
            try:
                search = self._new_face_between_searches(image)
            except Exception:  # the check's failure is the search's to report
                search = True
        try:
            found = self.finder(image) if search else None
        except Exception as err:  # a frame the search fails on is not trusted to hold no face
            self.result.frames_blurred += 1
            self.result.notes.append(f"frame {index}: search failed ({type(err).__name__}): frame covered")
            self._hold(image if self.cfg.fallback == "none" else cover_region(image, self.cfg.fallback), pts)
            self.tracker.step(index, [])  # faces count as missed: their tracks are covered while they last
            return
        self.result.frames_searched += search
        tracks, born = self.tracker.step(index, [f.detection for f in found] if found is not None else None)
        by_detection = {id(f.detection): f for f in found or []}
        result, todo = image, []
        for track in tracks:
            if track.state == "lost":
                continue
            seen = by_detection.get(id(track.observed))
            face, steady = self._face(image, track, seen)
            self._follow_by_mesh(track, face, steady, track.state == "seen")
            if mesh_matches(face):
                todo.append((track, face, steady))
            else:
                self._search_next = True  # look again next frame rather than follow a misfit
                result = self._cover(result, track, face.detection.box, "no_mesh" if face.points is None
                                     else "mesh_mismatch")
        # a face whose landmarks are those of its last frame keeps its last new face: not recomputed
        fresh = [(f, steady) for _, f, steady in todo
                 if steady.last_landmarks is None or not np.array_equal(f.landmarks, steady.last_landmarks)]
        failure = ""
        if fresh:
            try:
                faces = self.anonymizer.generate(np.stack([f.landmarks for f, _ in fresh]))
            except Exception as err:  # e.g. out of memory: these faces are covered instead
                failure = f"{type(err).__name__}: {err}"
            else:
                for (f, steady), new in zip(fresh, faces):
                    steady.last_landmarks, steady.last_face = f.landmarks, new
        for track, face, steady in todo:
            if failure:
                result = self._cover(result, track, face.detection.box, "generation_failed")
                continue
            mask = face_mask(face.points, face.aligned, self.cfg.feather)
            if steady.mask is not None and steady.mask.shape == mask.shape:
                mask = _MASK_MEMORY * steady.mask + (1.0 - _MASK_MEMORY) * mask
            steady.mask = mask
            box = tuple(float(v) for v in track.box)
            result, why = replace_face(result, steady.last_face, face.aligned, mask, box, self.cfg.blend,
                                       self.cfg.match_colour)
            if why:
                result = self._cover(result, track, box, "unchanged")
            else:
                self._count(track, "ok")
        for track in tracks:
            if track.state == "lost":
                result = self._cover(result, track, _grown_for_motion(track), "lost")
        self.result.most_faces = max(self.result.most_faces, len(tracks))
        for track in born:  # the frames before a face was first found are not trusted to lack it
            self._cover_held(track)
        self._hold(result, pts)

    def _count(self, track: Track, outcome: str) -> None:
        track.frames[outcome] = track.frames.get(outcome, 0) + 1
        self.result.faces[outcome] += 1

    def _cover(self, image: np.ndarray, track: Track, box: tuple[float, ...], why: str) -> np.ndarray:
        self._count(track, why)
        if self.cfg.fallback == "none":
            return image
        steady = self.steady.get(track.id)
        if steady is not None:  # a still face keeps the same cover (a blur's cells do not shimmer with the box)
            box = tuple(steady.still("cover", np.asarray(box, dtype=np.float64), _MAX_TRAIL * steady.scale))
        return cover(image, box, self.cfg.fallback)

    def _cover_held(self, track: Track) -> None:
        """Cover a new face's box in the held frames, grown by a tenth of the face per frame back: it may have been
        moving."""
        for age, held in enumerate(reversed(self.held), start=1):
            held[0] = cover(held[0], tuple(track.box), self.cfg.fallback, margin=0.25 + 0.1 * age)
            self._count(track, "before_first_seen")

    def _hold(self, image: np.ndarray, pts: int | None) -> None:
        self.held.append([image, pts])
        self.result.frames += 1

    def ready(self, final: bool = False) -> list[list]:
        """Frames that no later face can reach back to any more: to be written."""
        out = []
        while self.held and (final or len(self.held) > self.hold):
            out.append(self.held.popleft())
        return out


def anonymize_clip(anonymizer: Anonymizer, finder: FaceFinder, source: str | Path, out_path: Path, kind: str,
                   progress: bool = True, partial: Path | None = None) -> ClipResult:
    """Anonymize the video ``source`` into ``out_path`` (same container ``kind``), written to ``partial`` (default
    ``<out_path>.partial``) until it is complete; raises :class:`ganonlib.anonymize.video_io.VideoError` for a video
    that cannot be read or written (nothing is left under ``out_path`` then)."""
    info = probe_video(source)
    clip = _ClipAnonymizer(anonymizer, finder, float(info.rate))
    held_mib, free_mib = (clip.hold + 2) * info.width * info.height * 3 / 2**20, available_mib()
    if held_mib > MEMORY_SHARE * free_mib:
        raise ClipTooLarge(f"{info.width}x{info.height}: the {clip.hold} frames held back to cover a new face in "
                           f"them need {held_mib:.0f} MiB, more than half of the {free_mib} MiB free: lower "
                           f"--track-max-gap and --detect-every")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    writer = VideoWriter(source, out_path, kind, info, partial)
    try:
        bar = tqdm(total=info.frames or None, desc=Path(source).name, unit="frame", disable=not progress)
        for index, (image, pts) in enumerate(read_frames(source, writer)):
            clip.frame(index, image, pts)
            for held_image, held_pts in clip.ready():
                writer.write(held_image, held_pts)
            bar.update(1)
        for held_image, held_pts in clip.ready(final=True):
            writer.write(held_image, held_pts)
        bar.close()
        writer.close()
    except BaseException:
        writer.abandon()
        raise
    result = clip.result
    result.codec, result.notes = writer.codec, writer.notes + result.notes
    if info.rotation:
        result.notes.insert(0, f"rotation tag {info.rotation} degrees: searched and written upright, "
                               f"{info.width}x{info.height}")
    if info.frames and result.frames < info.frames:  # a cut file: what follows the last decodable frame is lost
        result.notes.insert(0, f"truncated: the container states {info.frames} frames, {result.frames} could be "
                               f"decoded and are in the copy")
    result.tracks = [{"track": t.id, "first_frame": t.born, **t.frames} for t in clip.tracker.all_tracks()]
    return result


@dataclass(frozen=True)
class VideoJob:
    """One clip for the video worker: where it is, what it is, where its copy goes."""

    path: str
    source: str
    rel: str
    sha256: str
    kind: str
    out_path: str
    partial_path: str  # the copy while it is written: a name of its own, which no output can take (run.py)
    progress: bool = True


def start_video_worker(cfg: AnonymizeConfig, preprocess: PreprocessConfig, second_detector: str
                       ) -> tuple[Anonymizer, FaceFinder]:
    """Worker initializer: the generator and the face search, once per video worker process."""
    return Anonymizer(cfg, preprocess), start_finder(preprocess, second_detector, cfg.search_device)


def video_task(state: tuple[Anonymizer, FaceFinder], job: VideoJob) -> ClipResult | str:
    """Worker task: the clip's result, or why it failed (a reason for its row); never raises for a bad clip."""
    anonymizer, finder = state
    try:
        return anonymize_clip(anonymizer, finder, job.path, Path(job.out_path), job.kind, job.progress,
                              Path(job.partial_path))
    except VideoError as err:
        return f"video_unreadable: {err}"
    except ClipTooLarge as err:
        return f"too_large: {err}"
    except OSError as err:
        return f"write_failed: {err.strerror or err}"
    except Exception as err:  # one odd clip must not stop the run
        return f"failed: {type(err).__name__}: {err}"


def clip_rows(job: VideoJob, outcome: ClipResult | str, name: str, fingerprint: str, fallback: str
              ) -> list[ManifestRow]:
    """The clip's manifest rows: one per track (a face through the clip), then the clip's own."""
    base = dict(source=job.source, sha256=job.sha256, fingerprint=fingerprint)
    if isinstance(outcome, str):
        return [ManifestRow(outcome="error", reason=outcome, **base)]
    rows = []
    for track in outcome.tracks:
        counts = {k: v for k, v in track.items() if k not in ("track", "first_frame")}
        covered = sum(v for k, v in counts.items() if k != "ok")
        state = face_outcome("covered" if covered else "", fallback)
        rows.append(ManifestRow(outcome=state, face=track["track"],
                                reason=f"track from frame {track['first_frame']}: {tally(counts)}", **base))
    notes = "; ".join(outcome.notes)
    reason = (f"video: {outcome.frames} frames ({outcome.frames_searched} searched), {len(outcome.tracks)} tracks, "
              f"up to {outcome.most_faces} faces in a frame; face-frames: {tally(dict(outcome.faces))}"
              f"{f'; {outcome.frames_blurred} frames covered whole' if outcome.frames_blurred else ''}; "
              f"codec {outcome.codec}{f'; {notes}' if notes else ''}")
    rows.append(ManifestRow(outcome="ok", reason=reason, outputs=name, **base))
    return rows
