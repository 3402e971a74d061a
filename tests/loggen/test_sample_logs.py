"""The shipped sample drop is exactly what its README's command generates."""

from __future__ import annotations

import hashlib
import re
import shlex
from pathlib import Path

from pipelines.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "sample_logs"


def test_readme_command_regenerates_the_sample(tmp_path, capsys):
    readme = (SAMPLE / "README.md").read_text()
    (command,) = re.findall(r"^\.venv/bin/recrm (generate-logs .+)$", readme, flags=re.M)
    argv = shlex.split(command)
    argv[argv.index("--out") + 1] = str(tmp_path)
    assert main(argv) == 0
    capsys.readouterr()
    shipped = sorted(
        p.relative_to(SAMPLE) for p in SAMPLE.rglob("*") if p.is_file() and p.name != "README.md"
    )
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert shipped == fresh
    # Agent transcripts also depend on loggen.agent_turns; everything else is the generator's.
    for rel in shipped:
        if "agent_turns" in rel.name:
            continue
        digest = [
            hashlib.sha256(p.read_bytes()).hexdigest() for p in (SAMPLE / rel, tmp_path / rel)
        ]
        assert digest[0] == digest[1], (
            f"{rel} differs: regenerate sample_logs with the README command"
        )
