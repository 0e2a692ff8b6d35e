"""The example in protos/README.md compiles against the same imports as our protos and passes our buf lint."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from ...support import ROOT

BUF = Path(sys.executable).parent / "buf"


def test_the_readme_example_compiles_and_passes_lint(tmp_path: Path) -> None:
    readme = (ROOT / "protos" / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```proto\n(.*?)```", readme, re.S)
    assert example is not None
    target = tmp_path / "medpay" / "settlement" / "v1" / "settlement_service.proto"
    target.parent.mkdir(parents=True)
    target.write_text(example[1], encoding="utf-8")
    import grpc_tools

    wkt = Path(grpc_tools.__file__).parent / "_proto"
    image = tmp_path / "image.binpb"
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{tmp_path}", f"-I{ROOT / 'protos'}",
                    f"-I{ROOT / 'gen' / 'include'}", f"-I{wkt}", "--include_imports", "--include_source_info",
                    f"--descriptor_set_out={image}", str(target.relative_to(tmp_path))],
                   check=True, capture_output=True, cwd=tmp_path)
    lint = subprocess.run([str(BUF), "lint", str(image), "--path", "medpay/settlement",
                           "--config", str(ROOT / "protos" / "buf.yaml")], check=False, capture_output=True,
                          text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
