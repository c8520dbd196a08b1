"""``python -m content_schema ROOT``: validate the content tree under ROOT."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import ContentValidationError
from .loader import load_content


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m content_schema", description=__doc__)
    parser.add_argument(
        "root", type=Path, nargs="?", default=Path("."), help="folder holding courses/, exams/, roleplays/"
    )
    args = parser.parse_args(argv)
    try:
        bundle = load_content(args.root)
    except ContentValidationError as exc:
        for error in exc.errors:
            print(error)
        print(f"{len(exc.errors)} error(s)", file=sys.stderr)
        return 1
    print(f"{bundle.summary()}: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
