"""Reading and writing video files for the anonymizer (PyAV, whose wheel bundles FFmpeg).

A video is recognised by its content (the container's signature), not its name. The output keeps the input's
container, resolution, frame rate and every frame's timestamp, so frame count and duration match; its audio streams
are copied packet for packet (never re-encoded). Video is encoded as H.264 (libx264, CRF 18, 4:2:0; 4:4:4 where a
side is odd) — VP9 for WebM, which cannot hold H.264 — and as MPEG-4 Part 2 where the installed FFmpeg lacks
libx264, which the clip's manifest row then says. Subtitle and data streams are not copied (also said).

A phone stores a portrait clip as landscape frames and a rotation tag (the display matrix) that players apply: the
frames are read turned as the tag says, so the search sees the faces upright as a viewer does, and the copy is
written upright, without the tag (its width and height are the ones shown).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

__all__ = ["VIDEO_CONTAINERS", "VideoError", "VideoInfo", "VideoWriter", "probe_video", "read_frames",
           "sniff_video"]

# container kind -> FFmpeg muxer
VIDEO_CONTAINERS = {"mp4": "mp4", "mov": "mov", "matroska": "matroska", "webm": "webm", "avi": "avi"}
_QUALITY = {"crf": "18", "preset": "fast"}
# ISO base media files whose major brand makes them still images (AVIF, HEIF/HEIC, their sequences, JPEG XL, CR3)
_IMAGE_BRANDS = {b"avif", b"avis", b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"miaf",
                 b"jxl ", b"crx "}


class VideoError(RuntimeError):
    """The file looks like a video but cannot be read (or the output cannot be encoded): one line for the row."""


def sniff_video(path: str | os.PathLike) -> str | None:
    """The container kind of a video file from its first bytes (``mp4``, ``mov``, ``matroska``, ``webm``,
    ``avi``), or None for anything else."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(64)
    except OSError:
        return None
    if len(head) >= 12 and head[4:8] == b"ftyp":
        if head[8:12] in _IMAGE_BRANDS:
            return None
        return "mov" if head[8:12] == b"qt  " else "mp4"
    if len(head) >= 8 and head[4:8] in (b"moov", b"mdat", b"wide", b"free"):
        return "mov"  # QuickTime files from before the ftyp box
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm" if b"webm" in head else "matroska"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    return None


@dataclass(frozen=True)
class VideoInfo:
    width: int  # as shown: the rotation tag applied
    height: int
    rate: Fraction  # average frame rate
    frames: int  # as the container states it (0 where it does not)
    duration_s: float
    audio_streams: int
    other_streams: int  # subtitles, data: not copied
    rotation: int = 0  # the rotation tag, degrees counter-clockwise (a multiple of 90; another angle is not applied)


def _quarter_turns(frame) -> int:
    """How many quarter turns counter-clockwise show ``frame`` upright (its display matrix's rotation)."""
    rotation = frame.rotation or 0
    return rotation // 90 % 4 if rotation % 90 == 0 else 0


def _upright(frame) -> np.ndarray:
    image = frame.to_ndarray(format="rgb24")
    turns = _quarter_turns(frame)
    return np.ascontiguousarray(np.rot90(image, turns)) if turns else image


def _open(path: str | os.PathLike):
    import av

    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError, ValueError) as err:
        raise VideoError(f"cannot open the video: {err}") from None
    if not container.streams.video:
        container.close()
        raise VideoError("the file holds no video stream")
    return container


def probe_video(path: str | os.PathLike) -> VideoInfo:
    container = _open(path)
    try:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or Fraction(25)
        duration = float(container.duration / 1_000_000) if container.duration else 0.0
        others = len(container.streams) - len(container.streams.video) - len(container.streams.audio)
        width, height, turns = stream.codec_context.width, stream.codec_context.height, _first_turns(container)
        return VideoInfo(*((height, width) if turns % 2 else (width, height)), Fraction(rate),
                         int(stream.frames or 0), duration, len(container.streams.audio),
                         others + len(container.streams.video) - 1, turns * 90 if turns < 3 else -90)
    finally:
        container.close()


def _first_turns(container) -> int:
    """The quarter turns of the first frame (the tag is the stream's); 0 where none decodes (reading the clip
    reports that)."""
    import av

    try:
        frame = next(container.decode(video=0), None)
    except (av.error.FFmpegError, ValueError):
        return 0
    return _quarter_turns(frame) if frame is not None else 0


def read_frames(path: str | os.PathLike, writer: "VideoWriter | None" = None
                ) -> Iterator[tuple[np.ndarray, int | None]]:
    """(H, W, 3) uint8 RGB frames of the first video stream, turned upright as its rotation tag says, with their
    timestamps, in decoding order; the audio packets met on the way go to ``writer`` unchanged."""
    import av

    container = _open(path)
    try:
        video = container.streams.video[0]
        video.thread_type = "AUTO"
        for packet in container.demux():
            if packet.stream.type == "audio":
                if writer is not None and packet.dts is not None:
                    writer.copy_audio(packet)
                continue
            if packet.stream.index != video.index:
                continue
            try:
                for frame in packet.decode():
                    if writer is not None and frame.pts is not None and frame.duration:
                        writer.source_end = max(writer.source_end, frame.pts + frame.duration)
                    yield _upright(frame), frame.pts
            except av.error.FFmpegError as err:
                raise VideoError(f"cannot decode the video: {err}") from None
    finally:
        container.close()


class VideoWriter:
    """The anonymized copy of one input video, written to ``partial`` (default ``<path>.partial``) and renamed on
    :meth:`close`; ``info`` is the source's :func:`probe_video`, whose size is that of the frames
    :func:`read_frames` gives (the rotation tag applied)."""

    def __init__(self, source: str | os.PathLike, path: Path, kind: str, info: VideoInfo,
                 partial: Path | None = None) -> None:
        import av

        self.path, self.partial = path, partial or path.with_name(path.name + ".partial")
        self.partial.parent.mkdir(parents=True, exist_ok=True)
        self._source = _open(source)
        video = self._source.streams.video[0]
        width, height = info.width, info.height
        self.codec = self._video_codec(kind)
        self.notes: list[str] = []
        if self.codec == "mpeg4":
            self.notes.append("H.264 encoder missing in this FFmpeg: MPEG-4 Part 2 written instead")
        self._out = av.open(str(self.partial), "w", format=VIDEO_CONTAINERS[kind])
        self._video = self._out.add_stream(self.codec, rate=video.average_rate or video.guessed_rate or 25)
        self._video.width, self._video.height = width, height
        odd = width % 2 or height % 2
        self._video.pix_fmt = "yuv444p" if odd and self.codec == "libx264" else "yuv420p"
        self._video.time_base = video.time_base
        self._video.codec_context.time_base = video.time_base
        if self.codec == "libx264":
            # AVI stores no reordering: with B-frames its frames decode out of order (and a frame late)
            self._video.options = {**_QUALITY, **({"bf": "0"} if kind == "avi" else {})}
        elif self.codec.startswith("libvpx"):
            self._video.options = {"crf": "20", "b": "0", "deadline": "good", "cpu-used": "4"}
        else:
            self._video.options = {"qscale": "2"}
        self._time_base = video.time_base
        self._audio = {s.index: self._out.add_stream_from_template(s) for s in self._source.streams.audio}
        dropped = len(self._source.streams) - 1 - len(self._audio)
        if dropped:
            self.notes.append(f"{dropped} subtitle/data/extra video stream(s) not copied")
        self.frames = 0
        self.source_end = 0  # where the source's last frame ends, in its time base (0: unknown)
        self._last, self._shown_until = None, 0  # the newest encoded packet (not yet muxed); the latest pts

    @staticmethod
    def _video_codec(kind: str) -> str:
        import av

        available = av.codecs_available
        if kind == "webm":
            return "libvpx-vp9" if "libvpx-vp9" in available else "libvpx"
        return "libx264" if "libx264" in available else "mpeg4"

    def copy_audio(self, packet) -> None:
        out = self._audio.get(packet.stream.index)
        if out is not None:
            packet.stream = out
            self._out.mux(packet)

    def write(self, image: np.ndarray, pts: int | None) -> None:
        import av

        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        frame.pts = pts if pts is not None else self.frames
        frame.time_base = self._time_base
        self._mux(self._video.encode(frame))
        self.frames += 1

    def _mux(self, packets: list) -> None:
        """Mux all but the newest packet, whose length :meth:`close` sets."""
        for packet in packets:
            if self._last is not None:
                self._out.mux(self._last)
            self._last = packet
            self._shown_until = max(self._shown_until, packet.pts if packet.pts is not None else 0)

    def close(self) -> None:
        """Flush the encoder and move the finished file into place."""
        self._mux(self._video.encode(None))
        if self._last is not None:
            # the copy ends where the source does: the muxer ends the track at the latest frame's time plus the last
            # packet's length, which the encoder sets from the average frame rate (a variable-rate clip then ended
            # 1.252 -> 1.254 s)
            if self.source_end > self._shown_until:
                self._last.duration = self.source_end - self._shown_until
            self._out.mux(self._last)
        self._out.close()
        self._source.close()
        os.replace(self.partial, self.path)

    def abandon(self) -> None:
        """Drop the unfinished file (nothing half-anonymized is ever left under the output's name)."""
        for handle in (self._out, self._source):
            try:
                handle.close()
            except Exception:  # already failed: the file goes anyway
                pass
        self.partial.unlink(missing_ok=True)
