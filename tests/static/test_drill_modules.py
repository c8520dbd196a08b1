"""The call screen's audio modules (static/js/drill/: speech detector, downsampler, WAV encoder,
reply streaming, queued-reply polling) under Node's built-in test runner: tests/static/drill/."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NODE_TESTS = ROOT / "tests" / "static" / "drill"


def test_the_drill_modules_pass_their_node_tests():
    node = shutil.which("node") or shutil.which("nodejs")
    assert node, ("Node.js is needed to test static/js/drill (node --test): install it with "
                  "`bash scripts/install.sh --test` (apt package nodejs)")
    assert sorted(NODE_TESTS.glob("*.test.mjs")), f"no Node tests found in {NODE_TESTS}"
    run = subprocess.run([node, "--test", str(NODE_TESTS) + "/"], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, f"node --test {NODE_TESTS} failed:\n{run.stdout[-8000:]}\n{run.stderr[-2000:]}"
    assert "# fail 0" in run.stdout and "# pass 0" not in run.stdout, run.stdout[-2000:]
