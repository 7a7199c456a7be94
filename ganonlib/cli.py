"""``ganon`` command line: build the sample, preprocess one's own photos or a dataset in its official layout,
train the GAN on them, anonymize photos."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import MISSING, fields

from ganonlib.config import (FALLBACKS, NO_FACE_POLICIES, AnonymizeConfig, ConfigError, DatasetConfig, GanTrainConfig,
                             PreprocessConfig, SampleConfig)
from ganonlib.weights import MissingWeightsError

__all__ = ["main"]

_ANON_SKIP = ("image_size", "segmentation", "unet_weights", "n_jobs")  # fixed by the generator or unused there


_PREPROCESS_HELP = {
    "image_size": "side of the square aligned face (paper: 512)",
    "detector": "mediapipe (offline default) | retinaface (the paper's; needs its weights) | mtcnn",
    "min_confidence": "minimum detection score",
    "margin": "fraction of the face box added on each side (paper: 0)",
    "max_faces": "most faces kept per photo, best scores first (0 = no cap); anonymizing covers the rest",
    "segmentation": "selfie (offline default) | unet (paper; needs package + weights) | none",
    "unet_weights": "checkpoint of the head-segmentation U-Net",
    "landmarks_style": "cross (what the published model saw) | point (the paper's text)",
    "mesh_confidence": "minimum face-mesh detection confidence",
    "max_pixels": "photos with more pixels are refused (decompression bombs)",
    "min_side": "photos with a shorter side are refused",
    "n_jobs": "parallel worker processes",
}

_ANONYMIZE_HELP = {
    "weights": "generator file",
    "device": "auto | cpu | cuda",
    "precision": "auto (bf16 on CUDA and on CPUs with native bf16) | fp32 | bf16",
    "batch_size": "faces per generator batch",
    "no_face": f"photo without any face: {' | '.join(NO_FACE_POLICIES)} (average = the paper's average face crop; "
               f"blur = the whole photo blurred, with --paste-back)",
    "fallback": f"face found but not re-synthesized (no mesh, cap, failure): {' | '.join(FALLBACKS)}; "
                f"none leaves it visible",
    "paste_back": "also write the whole photo with every face replaced (photos/<name>.png)",
    "feather": "blend edge, fraction of the face size",
    "compile": "torch.compile the generator: faster on many photos, ~1 min to start",
    "strict": "exit 3 when any face got the fallback or any file failed",
    "workers": "face extraction processes (a crash in one costs one file)",
    "second_detector": "mtcnn | none: a second detector of another kind; the faces it finds that the search missed "
                       "are anonymized too",
}

_TRAIN_HELP = {
    "epochs": "training epochs",
    "batch_size": "pairs per step and GPU",
    "lr": "Adam learning rate",
    "beta1": "Adam beta1",
    "beta2": "Adam beta2",
    "lambda_l1": "weight of the L1 loss",
    "seed": "seed of weights, shuffling and dropout",
    "device": "auto | cpu | cuda",
    "bf16": "bf16 autocast on CUDA",
    "channels_last": "channels_last memory format",
    "compile": "torch.compile the models (about a minute to start; faster on a GPU)",
    "compile_mode": "torch.compile mode",
    "resume": "continue from OUTPUT/checkpoint.pt when its settings match",
    "max_steps_per_epoch": "0 = the whole train split",
    "samples": "pairs shown in each sample grid",
    "checkpoint_every": "epochs between checkpoints (0 = after the last epoch only)",
    "max_seconds": "time budget in seconds (0 = none)",
    "num_workers": "data loader processes",
    "cache_dir": "folder for a memory-mapped face cache (empty = faces in memory)",
    "gpus": "DDP processes, one per GPU",
}


def _add_config_options(parser: argparse.ArgumentParser, config: type, helps: dict[str, str],
                        skip: tuple[str, ...] = (), defaults: dict | None = None) -> None:
    """One ``--option`` per field of a config dataclass that has a default, with that default or the one in
    ``defaults`` (``--x/--no-x`` for a boolean)."""
    for f in fields(config):
        if f.name in skip or f.default is MISSING:
            continue
        kind = {"action": argparse.BooleanOptionalAction} if isinstance(f.default, bool) else {"type": type(f.default)}
        default = (defaults or {}).get(f.name, f.default)
        parser.add_argument(f"--{f.name.replace('_', '-')}", default=default,
                            help=f"{helps[f.name]} (default: {default})", **kind)


def _preprocess(args: argparse.Namespace) -> int:
    from ganonlib.data.datasets import load_dataset
    from ganonlib.data.preprocess import preprocess_dataset

    cfg = PreprocessConfig(**{f.name: getattr(args, f.name) for f in fields(PreprocessConfig)})
    records = load_dataset(DatasetConfig(name="cli", kind=args.kind, root=args.input, seed=args.seed))
    summary = preprocess_dataset(records, args.output, cfg)
    print(json.dumps(summary, indent=2))
    print(f"{summary['files']} files, {summary['faces']} faces, {summary['pairs']} pairs written; "
          f"details per file in {args.output}/manifest.csv")
    return 0


def _anonymize(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ganonlib.anonymize.ganonymization import Anonymizer, anonymize_files, check_strict
    from ganonlib.anonymize.inputs import check_paths
    from ganonlib.anonymize.photos import StrictModeError

    cfg = AnonymizeConfig(**{f.name: getattr(args, f.name) for f in fields(AnonymizeConfig)})
    detection = PreprocessConfig(**{f.name: getattr(args, f.name) for f in fields(PreprocessConfig)
                                    if f.name not in _ANON_SKIP})
    check_paths(Path(args.input), Path(args.output))  # refused before the generator loads; walked once, later
    anonymizer = Anonymizer(cfg, detection, follow_generator_size=True)
    s = anonymize_files(args.input, args.output, anonymizer)
    print(f"{s['files']} files: {s['faces_found']} faces found, {s['faces_anonymized']} re-synthesized, "
          f"{s['faces_covered']} covered by the fallback ({s['fallback']}), {s['faces_left_unchanged']} left "
          f"unchanged; {s['files_without_face']} without face (policy {s['no_face_policy']}), {s['files_failed']} "
          f"failed, {s['files_not_images']} not images, {s['files_reused']} reused from an earlier run. "
          f"Faces by height: {', '.join(f'{k} px: {v}' for k, v in s['faces_by_height_px'].items() if v) or 'none'}. "
          f"Details: {args.output}/manifest.csv")
    try:
        check_strict(cfg, s)
    except StrictModeError as err:
        print(f"ganon: --{err} (exit 3)", file=sys.stderr)
        return 3
    return 0


def _train(args: argparse.Namespace) -> int:
    from ganonlib.train.gan import train_gan

    cfg = GanTrainConfig(data_dir=args.input, out_dir=args.output,
                         **{f.name: getattr(args, f.name) for f in fields(GanTrainConfig)
                            if f.name not in ("data_dir", "out_dir")})
    summary = train_gan(cfg)
    print(json.dumps(summary, indent=2))
    print(f"{summary['epochs_run']} epochs on {summary['train_pairs']} pairs ({summary['processes']} process(es), "
          f"{summary['device']}); generator in {args.output}/generator.pt, losses in {args.output}/losses.csv")
    return 0


def _convert(args: argparse.Namespace) -> int:
    from ganonlib.anonymize.convert import convert_lightning_checkpoint

    digest = convert_lightning_checkpoint(args.checkpoint, args.output, args.image_size, args.sha256)
    print(f"{args.output} written (sha256 {digest})")
    return 0


def _sample(args: argparse.Namespace) -> int:
    from ganonlib.data.sample import build_sample

    print(json.dumps(build_sample(SampleConfig(out_dir=args.output, variants_per_photo=args.variants,
                                               seed=args.seed)), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ganon", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    pre = sub.add_parser("preprocess", help="extract aligned, segmented faces and their landmarks (paper 3.1-3.3)")
    pre.add_argument("input", help="a photo or a folder of photos (or a dataset root with --kind)")
    pre.add_argument("output", help="output folder: images/, landmarks/, points/, manifest.csv, summary.json")
    pre.add_argument("--kind", default="folder",
                     help="folder (any photos) | celeba | wider | affectnet | ckplus | faces | sample")
    pre.add_argument("--seed", type=int, default=0, help="seed of subject-wise splits")
    _add_config_options(pre, PreprocessConfig, _PREPROCESS_HELP)
    pre.set_defaults(run=_preprocess)

    anon = sub.add_parser("anonymize", help="replace every face with a GAN-synthesized one (paper 3.4)")
    anon.add_argument("input", help="a photo or a folder of photos (the tree is mirrored)")
    anon.add_argument("output", help="output folder (not the input, nor holding it): faces/<name>_f<k>.png "
                                      "(aligned anonymized crops), photos/<name>.png (--paste-back), manifest.csv, "
                                      "summary.json")
    _add_config_options(anon, AnonymizeConfig, _ANONYMIZE_HELP)
    # anonymizing caps nothing unless asked: every face found is re-synthesized or covered
    _add_config_options(anon, PreprocessConfig, _PREPROCESS_HELP, skip=_ANON_SKIP, defaults={"max_faces": 0})
    anon.set_defaults(run=_anonymize)

    train = sub.add_parser("train", help="train the GAN on preprocessed pairs (paper 3.4; defaults: the paper's)")
    train.add_argument("input", help="a folder written by `ganon preprocess` (index.csv, images/, points/)")
    train.add_argument("output", help="output folder: checkpoint.pt, generator.pt, losses.csv, samples/")
    _add_config_options(train, GanTrainConfig, _TRAIN_HELP)
    train.set_defaults(run=_train)

    conv = sub.add_parser("convert-checkpoint", help="convert the authors' Lightning .ckpt to the kit's format")
    conv.add_argument("checkpoint", help="GANonymization Lightning checkpoint holding generator.* tensors")
    conv.add_argument("output", nargs="?", default="models/gan/generator.pt")
    conv.add_argument("--image-size", type=int, default=512, help="size the model was trained at (default: 512)")
    conv.add_argument("--sha256", default=None, help="expected sha256 of the .ckpt, checked before reading it")
    conv.set_defaults(run=_convert)

    sample = sub.add_parser("sample", help="build the bundled sample dataset")
    sample.add_argument("output", nargs="?", default="data/sample")
    sample.add_argument("--variants", type=int, default=SampleConfig.variants_per_photo, help="variants per photo")
    sample.add_argument("--seed", type=int, default=0)
    sample.set_defaults(run=_sample)
    return parser


def main(argv: list[str] | None = None) -> int:
    from ganonlib.anonymize.photos import OutputWriteError
    from ganonlib.workers import WorkerError

    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except ConfigError as err:  # name the option as the user typed it
        print(f"ganon: --{err.setting.replace('_', '-')}: {err.problem}", file=sys.stderr)
        return 2
    except (MissingWeightsError, FileNotFoundError, ValueError, WorkerError) as err:
        print(f"ganon: {err}", file=sys.stderr)
        return 2
    except OutputWriteError as err:
        print(f"ganon: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
