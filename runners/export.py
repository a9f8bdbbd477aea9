"""python -m runners.export: write a retrained model as ONNX and/or TorchScript beside its weights, each file run on
test images and kept only when its logits match PyTorch's within the tolerance."""
from __future__ import annotations

import argparse
import sys

from runners.cli import fail, fail_from, parser

EPILOG = """\
outputs: DIR/model.onnx (any batch size; input "images", output "logits") and DIR/model.ts, each only if it passed
the check; card.json and card.md record each file's largest logit difference. Exit code 1 when a file was refused.

examples:
  python -m runners.export results/retrain/20261202-101500-1a2b3c
  python -m runners.export results/retrain/20261202-101500-1a2b3c --format onnx --tolerance 1e-5 --images 256
"""


def formats(text: str) -> tuple[str, ...]:
    """An argparse type: comma-separated export formats."""
    from nasbench.deploy.export import FORMATS
    from nasbench.errors import did_you_mean

    names = tuple(name.strip() for name in text.split(",") if name.strip())
    for name in names:
        if name not in FORMATS:
            raise argparse.ArgumentTypeError(did_you_mean("format", name, FORMATS))
    if not names:
        raise argparse.ArgumentTypeError(f"name at least one format ({', '.join(FORMATS)})")
    return names


def build_parser() -> argparse.ArgumentParser:
    from nasbench.deploy.export import FORMATS, TOLERANCE

    p = parser("export", "Export a retrained model (python -m runners.train) to ONNX and TorchScript beside its "
                         "weights: each file is run on test images (onnxruntime, torch.jit.load) and written only "
                         "if its logits equal PyTorch's within the tolerance.")
    p.epilog = EPILOG
    p.add_argument("folder", metavar="DIR", help="a retrain folder (card.json and model.pt)")
    p.add_argument("--format", dest="formats", type=formats, default=",".join(FORMATS),
                   help=f"comma-separated formats: {', '.join(FORMATS)}")
    p.add_argument("--tolerance", type=float, default=TOLERANCE,
                   help="the largest absolute difference of a logit from PyTorch's that a file may show")
    p.add_argument("--images", type=int, default=64, help="test images of the card's dataset the files are run on")
    p.add_argument("--data-dir", help="where the card's dataset files are now (default: the folder it records)")
    return p


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    from nasbench.deploy.export import ExportMismatch, export_model

    def written(exported) -> None:
        print(f"{exported.path}: largest |logit difference| from PyTorch {exported.max_abs_diff:.2e} on "
              f"{exported.images} test images (tolerance {exported.tolerance:g}): written")

    try:
        export_model(args.folder, args.formats, args.tolerance, args.images, args.data_dir, log=written)
    except ExportMismatch as exc:  # the file is not the input's fault: exit code 1
        fail(str(exc), code=1)
    except (ValueError, OSError) as exc:
        fail_from(exc)


if __name__ == "__main__":
    main()
