"""The README's Python example (its "### Python" section), run as written."""

import re
from pathlib import Path

README = (Path(__file__).resolve().parents[3] / "README.md").read_text()


def test_readme_python_example_runs():
    section = README.split("### Python", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1
    exec(compile(blocks[0], "README.md (Python)", "exec"), {})
