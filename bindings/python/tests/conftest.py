"""The tests import the package from the source tree (src/), and find the library through
MLSFRAME_LIB or the repository's target/ directory."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
