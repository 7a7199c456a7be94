"""``ganon`` command line: build the sample, preprocess one's own photos or a dataset in its official layout,
train the GAN on them, anonymize photos."""
from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import MISSING, fields
from typing import NoReturn

from ganonlib.config import (DATASET_KINDS, AnonymizeConfig, ConfigError, DatasetConfig, GanTrainConfig,
                             PreprocessConfig, SampleConfig)
from ganonlib.machine import jobs_bound
from ganonlib.weights import MissingWeightsError

__all__ = ["main"]

# fixed by the generator file (its size and landmark style) or unused at inference
_ANON_SKIP = ("image_size", "landmarks_style", "segmentation", "unet_weights", "n_jobs", "scheduler")


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad option in one line, worded as a bad setting is (``--x: choose one of ...``)."""

    def error(self, message: str) -> NoReturn:
        choice = re.match(r"argument (\S+): invalid choice: (.+?) \(choose from (.+)\)$", message)
        if choice:
            choices = ", ".join(c.strip(" '") for c in choice.group(3).split(","))
            message = f"{choice.group(1).split('/')[0]}: choose one of {choices} (got {choice.group(2)})"
        print(f"{self.prog}: {message.removeprefix('argument ')} (see --help)", file=sys.stderr)
        raise SystemExit(2)


def _add_config_options(parser: argparse.ArgumentParser, config: type, skip: tuple[str, ...] = (),
                        defaults: dict | None = None) -> None:
    """One ``--option`` per field of a config dataclass that has a default, with the help and choices its metadata
    holds and that default, or the one in ``defaults`` (``--x/--no-x`` for a boolean)."""
    for f in fields(config):
        if f.name in skip or f.default is MISSING:
            continue
        kind: dict = ({"action": argparse.BooleanOptionalAction} if isinstance(f.default, bool)
                      else {"type": type(f.default)})
        if f.metadata.get("choices"):
            kind["choices"] = f.metadata["choices"]
        default = (defaults or {}).get(f.name, f.default)
        parser.add_argument(f"--{f.name.replace('_', '-')}", default=default,
                            help=f"{f.metadata.get('help', '')} (default: {default})".replace("%", "%%"), **kind)


def _preprocess(args: argparse.Namespace) -> int:
    from ganonlib.data.datasets import load_dataset
    from ganonlib.data.preprocess import preprocess_dataset

    cfg = PreprocessConfig(**{f.name: getattr(args, f.name) for f in fields(PreprocessConfig)})
    if not cfg.scheduler and (jobs := jobs_bound(cfg.n_jobs)).note:
        print(f"ganon: note: as this machine holds: {jobs.note}", file=sys.stderr)
    records = load_dataset(DatasetConfig(name="cli", kind=args.kind, root=args.input, seed=args.seed))
    summary = preprocess_dataset(records, args.output, cfg)
    print(json.dumps(summary, indent=2))
    print(f"{summary['files']} files, {summary['faces']} faces, {summary['pairs']} pairs written; "
          f"details per file in {args.output}/manifest.csv")
    return 0


def _replaced(summary: dict) -> str:
    n = summary.get("outputs_replaced", 0)
    return f" ({n} outputs of earlier runs, written again under other names, removed)" if n else ""


def _anonymize(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ganonlib.anonymize.generator import Anonymizer
    from ganonlib.anonymize.inputs import check_paths
    from ganonlib.anonymize.run import SEARCH_LIMITS, StrictModeError, anonymize_files, check_strict

    cfg = AnonymizeConfig(**{f.name: getattr(args, f.name) for f in fields(AnonymizeConfig)})
    detection = PreprocessConfig(**{f.name: getattr(args, f.name) for f in fields(PreprocessConfig)
                                    if f.name not in _ANON_SKIP})
    if args.paste_back:
        print("ganon: note: --paste-back is the default now (whole photos are always written); --crops adds the "
              "aligned crops", file=sys.stderr)
    # several inputs (a shell glob, photos/*.jpg): each photo under its file name, each folder under its own; one
    # input: a photo, or a folder whose tree is mirrored
    inputs = [Path(p) for p in args.input] if len(args.input) > 1 else Path(args.input[0])
    check_paths(inputs, Path(args.output))  # refused before the generator loads; walked once, later
    anonymizer = Anonymizer(cfg, detection, follow_generator=True)
    if anonymizer.bounds:
        print(f"ganon: note: as this machine holds: {anonymizer.bounds}", file=sys.stderr)
    if anonymizer.caveat:
        print(f"ganon: note: {cfg.weights}: {anonymizer.caveat}", file=sys.stderr)
    if anonymizer.followed:
        print(f"ganon: note: faces are cut as {cfg.weights}'s training faces were: {anonymizer.followed}",
              file=sys.stderr)
    s = anonymize_files(inputs, args.output, anonymizer)
    why = ", ".join(f"{k} {v}" for k, v in sorted(s["files_failed_by_reason"].items()))
    print(f"{s['files']} files: {s['faces_found']} faces found, {s['faces_anonymized']} re-synthesized, "
          f"{s['faces_covered']} covered by the fallback ({s['fallback']}), {s['faces_left_unchanged']} left "
          f"unchanged; {s['files_without_face']} without face (policy {s['no_face_policy']}), {s['files_failed']} "
          f"failed{f' ({why})' if why else ''}, {s['files_not_images']} not images, {s['files_reused']} reused from "
          f"an earlier run{_replaced(s)}. "
          f"Faces by height: {', '.join(f'{k} px: {v}' for k, v in s['faces_by_height_px'].items() if v) or 'none'}. "
          f"{SEARCH_LIMITS} "
          f"Details: {args.output}/manifest.csv")
    if s.get("videos_anonymized"):
        print(f"videos: {s['videos_anonymized']} anonymized, {s['video_frames']} frames; face-frames: "
              f"{s['video_face_frames_anonymized']} re-synthesized, {s['video_face_frames_covered']} covered "
              f"({', '.join(f'{k} {v}' for k, v in s['video_face_frames_by_outcome'].items() if k != 'ok') or '-'}); "
              f"a video's faces count as its tracks above")
    try:
        check_strict(cfg, s)
    except StrictModeError as err:
        print(f"ganon: --{err} (exit 3)", file=sys.stderr)
        return 3
    return 0


# `ganon train` trains: where the pipeline's generator comes from (gan.source, published_*) is not its choice
_NOT_TRAIN_OPTIONS = ("dataset", "data_dir", "out_dir", "source", "published_url", "published_sha256",
                      "published_dir")


def _train(args: argparse.Namespace) -> int:
    from ganonlib.train.gan import TrainingDiverged
    from ganonlib.train.launch import train

    cfg = GanTrainConfig(data_dir=args.input, out_dir=args.output,
                         **{f.name: getattr(args, f.name) for f in fields(GanTrainConfig)
                            if f.name not in _NOT_TRAIN_OPTIONS})
    try:
        summary = train(cfg)
    except TrainingDiverged as err:
        print(f"ganon: {err}", file=sys.stderr)
        return 1
    print(json.dumps(summary, indent=2))
    print(f"{summary['epochs_run']} epochs on {summary['train_pairs']} pairs ({summary['processes']} process(es), "
          f"{summary['device']}); generator in {args.output}/generator.pt, losses in {args.output}/losses.csv")
    return 0


def _convert(args: argparse.Namespace) -> int:
    from ganonlib.models.convert import convert_lightning_checkpoint

    digest = convert_lightning_checkpoint(args.checkpoint, args.output, args.image_size, args.sha256,
                                          args.landmarks_style)
    print(f"{args.output} written (sha256 {digest})")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ganonlib.models.convert import convert_lightning_checkpoint
    from ganonlib.published import PUBLISHED, download

    published = PUBLISHED[args.name]
    folder = Path(args.dir)
    checkpoint = download(args.url or published.url, folder / published.filename, published.size, published.sha256,
                          allow_mismatch=args.allow_mismatch)
    generator = folder / f"{published.name}.pt"
    digest = convert_lightning_checkpoint(checkpoint, generator)
    print(f"{checkpoint} verified; {generator} written (sha256 {digest}). Use it with "
          f"`ganon anonymize IN OUT --weights {generator}`")
    return 0


def _export_onnx(args: argparse.Namespace) -> int:
    from ganonlib.models.onnx_generator import export_onnx

    report = export_onnx(args.weights, args.output, args.opset)
    print(f"{report['onnx']} written (opset {report['opset']}, any batch size, {report['image_size']} px); "
          f"onnxruntime vs torch on {report['checked_batch']} landmark images: max abs difference "
          f"{report['max_abs_diff']:.2e} (outputs in [-1, 1]). Use it with `ganon anonymize IN OUT --backend onnx "
          f"--weights {args.weights}`")
    return 0


def _sample(args: argparse.Namespace) -> int:
    from ganonlib.data.sample import build_sample

    cfg = SampleConfig(out_dir=args.output, **{f.name: getattr(args, f.name) for f in fields(SampleConfig)
                                               if f.name != "out_dir"})
    print(json.dumps(build_sample(cfg), indent=2))
    return 0


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ganonymization-kit")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _verify(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ganonlib.verify import main as verify

    return verify(root=Path(args.root))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ganon", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    pre = sub.add_parser("preprocess", help="extract aligned, segmented faces and their landmarks (paper 3.1-3.3)")
    pre.add_argument("input", help="a photo or a folder of photos (or a dataset root with --kind)")
    pre.add_argument("output", help="output folder, new, empty or an earlier run's: images/, landmarks/, points/, "
                                     "manifest.csv, summary.json")
    pre.add_argument("--kind", default="folder", choices=DATASET_KINDS,
                     help="folder (any photos) or a dataset's official layout (default: folder)")
    pre.add_argument("--seed", type=int, default=0, help="seed of subject-wise splits")
    _add_config_options(pre, PreprocessConfig)
    pre.set_defaults(run=_preprocess)

    anon = sub.add_parser("anonymize", help="replace every face with a GAN-synthesized one (paper 3.4)")
    anon.add_argument("input", nargs="+", help="a photo, a video (mp4, mov, avi, mkv, webm: known by content) or a "
                                                "folder of them (the tree is mirrored); several (e.g. photos/*.jpg): "
                                                "each under its own name")
    anon.add_argument("output", help="output folder, new, empty or an earlier run's (not the input, nor holding "
                                      "it): photos/<name> (each photo under its own relative name and in its own "
                                      "format), videos/<name> (every frame), faces/<name>_f<k>.png (aligned "
                                      "anonymized crops, with --crops), manifest.csv, summary.json")
    _add_config_options(anon, AnonymizeConfig)
    # the whole photos were written only with --paste-back before they became the default: still accepted
    anon.add_argument("--paste-back", action="store_true", help=argparse.SUPPRESS)
    # anonymizing caps nothing unless asked: every face found is re-synthesized or covered
    _add_config_options(anon, PreprocessConfig, skip=_ANON_SKIP, defaults={"max_faces": 0})
    anon.set_defaults(run=_anonymize)

    train = sub.add_parser("train", help="train the GAN on preprocessed pairs (paper 3.4; defaults: the paper's)")
    train.add_argument("input", help="a folder written by `ganon preprocess` (index.csv, images/, points/)")
    train.add_argument("output", help="output folder, new, empty or an earlier training's: checkpoint.pt, "
                                      "generator.pt, losses.csv, samples/, live/")
    _add_config_options(train, GanTrainConfig, skip=_NOT_TRAIN_OPTIONS)
    train.set_defaults(run=_train)

    conv = sub.add_parser("convert-checkpoint", help="convert the authors' Lightning .ckpt to the kit's format")
    conv.add_argument("checkpoint", help="GANonymization Lightning checkpoint holding generator.* tensors")
    conv.add_argument("output", nargs="?", default="models/gan/generator.pt")
    conv.add_argument("--image-size", type=int, default=None,
                      help="size the model was trained at (default: the checkpoint's img_size, else 512)")
    conv.add_argument("--landmarks-style", choices=("cross", "point"), default=None,
                      help="how its landmark inputs were drawn (default: the checkpoint's, else cross)")
    conv.add_argument("--sha256", default=None, help="expected sha256 of the .ckpt, checked before reading it")
    conv.set_defaults(run=_convert)

    from ganonlib.models.onnx_generator import OPSET
    from ganonlib.published import PUBLISHED

    weights = sub.add_parser("weights", help="the authors' published checkpoints")
    weights_sub = weights.add_subparsers(dest="action", required=True, parser_class=_Parser)
    listed = "\n".join(f"  {p.name:12} {p.about}\n  {'':12} {p.url}" for p in PUBLISHED.values())
    fetch = weights_sub.add_parser(
        "fetch", help="download one (only when asked), verify it, convert it to the kit's format",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=f"Download one of the authors' checkpoints:\n{listed}\nA cut transfer resumes where it "
                    f"stopped; size and sha256 are checked where published;\nthe checkpoint is converted to "
                    f"DIR/<name>.pt with its .sha256 sidecar (read as data: no pickled code runs).")
    fetch.add_argument("name", choices=tuple(PUBLISHED), help="which checkpoint")
    fetch.add_argument("--dir", default="models/published", help="where the .ckpt and the converted .pt go "
                                                                  "(default: models/published)")
    fetch.add_argument("--url", default=None, help="another address of the same file (a mirror)")
    fetch.add_argument("--allow-mismatch", action="store_true",
                       help="keep and convert a file whose size or sha256 is not the published one")
    fetch.set_defaults(run=_fetch)

    onnx = sub.add_parser("export-onnx", help="export the generator to ONNX for `ganon anonymize --backend onnx`")
    onnx.add_argument("--weights", default=AnonymizeConfig.weights, help="generator file (default: %(default)s)")
    onnx.add_argument("--output", default=None, help="ONNX file (default: the weights' name with .onnx, where "
                                                     "--backend onnx looks)")
    onnx.add_argument("--opset", type=int, default=OPSET, help="ONNX opset (default: %(default)s)")
    onnx.set_defaults(run=_export_onnx)

    sample = sub.add_parser("sample", help="build the bundled sample dataset")
    sample.add_argument("output", nargs="?", default="data/sample",
                        help="output folder, new, empty or an earlier build's (default: data/sample)")
    _add_config_options(sample, SampleConfig, skip=("out_dir",))
    sample.set_defaults(run=_sample)

    verify = sub.add_parser("verify", help="after `make repro`: this run's headline metrics against the committed "
                                           "ones and their measured tolerances, the paper tables beside the "
                                           "published values (exit 1: a metric outside its tolerance)")
    verify.add_argument("--root", default=".", help="the project checkout (default: the current folder)")
    verify.set_defaults(run=_verify)
    return parser


def main(argv: list[str] | None = None) -> int:
    from ganonlib.anonymize.run import OutputWriteError
    from ganonlib.cluster import ClusterError
    from ganonlib.workers import WorkerError

    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # --help, --version, a bad option: the status as a return value, like the rest
        return int(exit_.code or 0)
    try:
        return args.run(args)
    except ConfigError as err:  # name the option as the user typed it
        print(f"ganon: --{err.setting.replace('_', '-')}: {err.problem}", file=sys.stderr)
        return 2
    except (MissingWeightsError, FileNotFoundError, ValueError, WorkerError, ClusterError) as err:
        print(f"ganon: {err}", file=sys.stderr)
        return 2
    except OutputWriteError as err:
        print(f"ganon: {err}", file=sys.stderr)
        return 1
    except OSError as err:  # a read-only or full disk, a folder where a file goes: one line, not a traceback
        where = f"{err.filename}: " if err.filename else ""
        print(f"ganon: {where}{err.strerror or err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
