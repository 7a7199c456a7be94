"""``ganon`` command line: build the sample, preprocess one's own photos or a dataset in its official layout."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields

from ganonlib.config import DatasetConfig, PreprocessConfig, SampleConfig
from ganonlib.weights import MissingWeightsError

__all__ = ["main"]

_ANON_SKIP = ("image_size", "segmentation", "unet_weights", "n_jobs")  # fixed by the generator or unused there


def _add_preprocess_options(parser: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> None:
    defaults = PreprocessConfig()
    helps = {
        "image_size": "side of the square aligned face (paper: 512)",
        "detector": "mediapipe (offline default) | retinaface (the paper's; needs its weights) | mtcnn",
        "min_confidence": "minimum detection score",
        "margin": "fraction of the face box added on each side (paper: 0)",
        "max_faces": "most faces kept per photo, best scores first",
        "segmentation": "selfie (offline default) | unet (paper; needs package + weights) | none",
        "unet_weights": "checkpoint of the head-segmentation U-Net",
        "landmarks_style": "cross (what the published model saw) | point (the paper's text)",
        "mesh_confidence": "minimum face-mesh detection confidence",
        "max_pixels": "photos with more pixels are refused (decompression bombs)",
        "min_side": "photos with a shorter side are refused",
        "n_jobs": "parallel worker processes",
    }
    for f in fields(PreprocessConfig):
        if f.name in skip:
            continue
        default = getattr(defaults, f.name)
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=type(default), default=default,
                            help=f"{helps[f.name]} (default: {default})")


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
    from ganonlib.anonymize.ganonymization import AnonymizeConfig, Anonymizer, anonymize_files

    cfg = AnonymizeConfig(weights=args.weights, device=args.device, precision=args.precision,
                          batch_size=args.batch_size, no_face=args.no_face, paste_back=args.paste_back,
                          compile=args.compile)
    detection = {f.name: getattr(args, f.name) for f in fields(PreprocessConfig) if f.name not in _ANON_SKIP}
    # image_size 0: align faces at the size the generator was trained at
    anonymizer = Anonymizer(cfg, PreprocessConfig(image_size=0, **detection))
    s = anonymize_files(args.input, args.output, anonymizer)
    print(f"{s['files']} files: {s['faces_found']} faces found, {s['faces_anonymized']} anonymized, "
          f"{s['faces_skipped']} skipped; {s['files_without_face']} without face (policy {s['no_face_policy']}), "
          f"{s['files_failed']} unreadable. Details: {args.output}/manifest.csv")
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
    _add_preprocess_options(pre)
    pre.set_defaults(run=_preprocess)

    anon = sub.add_parser("anonymize", help="replace every face with a GAN-synthesized one (paper 3.4)")
    anon.add_argument("input", help="a photo or a folder of photos (the tree is mirrored)")
    anon.add_argument("output", help="output folder: aligned anonymized crops <name>_f<k>.png, manifest.csv")
    anon.add_argument("--weights", default="models/gan/generator.pt", help="generator file (default: %(default)s)")
    anon.add_argument("--device", default="auto", help="auto | cpu | cuda (default: %(default)s)")
    anon.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"],
                      help="auto: bf16 on CUDA and on CPUs with native bf16 (default: %(default)s)")
    anon.add_argument("--batch-size", type=int, default=8, help="faces per generator batch (default: %(default)s)")
    anon.add_argument("--no-face", default="average", choices=["average", "skip", "blur"],
                      help="photo or face without landmarks: the paper's average face from empty landmarks, skip, "
                           "or blur (default: %(default)s)")
    anon.add_argument("--paste-back", action="store_true",
                      help="also write the whole photo with every face replaced (<name>.png)")
    anon.add_argument("--compile", action="store_true",
                      help="torch.compile the generator: faster on many photos, ~1 min to start")
    _add_preprocess_options(anon, skip=_ANON_SKIP)
    anon.set_defaults(run=_anonymize)

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
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (MissingWeightsError, FileNotFoundError, ValueError) as err:
        print(f"ganon: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
