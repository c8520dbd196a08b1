"""The README's settings table, generated from the settings model (app/settings.py).

Usage (from the repo root, with the virtualenv's python):
  python scripts/settings_table.py           # print the table
  python scripts/settings_table.py --write   # replace the table in README.md (between its markers)

tests/app/core/test_settings.py fails while the README's table and the model differ.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.settings import README, readme_table, readme_with_table  # noqa: E402


def main(argv: list[str]) -> int:
    if "--write" in argv:
        README.write_text(readme_with_table(README.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"wrote the settings table into {README}")
    else:
        print(readme_table())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
