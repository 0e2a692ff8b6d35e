"""scripts/proto-check fails on a breaking change to published protos, passes a declared one, and compares a
branch with where it forked from main (a real git repository in a temporary folder)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ...support import ROOT

PROTO = """syntax = "proto3";

package medpay.demo.v1;

// A demo message.
message Thing {{
  // Its title.
  string {field} = {number};
{extra}}}
"""
ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@example.invalid"}


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=ENV)


def write(repo: Path, field: str = "title", number: int = 1, extra: str = "") -> None:
    target = repo / "protos" / "medpay" / "demo" / "v1" / "demo.proto"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(PROTO.format(field=field, number=number, extra=extra))


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def check(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "proto-check"), "--root", str(repo)],
                          check=False, capture_output=True, text=True, env=ENV)


def test_breaks_fail_unless_declared(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "protos").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "protos" / "buf.yaml").write_text((ROOT / "protos" / "buf.yaml").read_text())
    write(repo)
    commit(repo, "first contract")
    first = check(repo)
    assert first.returncode == 0 and "skipped" in first.stdout

    write(repo, extra="  // Added later.\n  string note = 2;\n")
    commit(repo, "an added field is compatible")
    assert check(repo).returncode == 0

    write(repo, field="caption", extra="  // Added later.\n  string note = 2;\n")
    commit(repo, "rename a published field")
    broken = check(repo)
    assert broken.returncode == 1
    assert 'changed name from "title" to "caption"' in broken.stdout and "Proto-Breaking-Change" in broken.stderr

    git(repo, "commit", "-q", "--amend", "-m", "rename a published field\n\nProto-Breaking-Change: nobody uses it yet")
    assert check(repo).returncode == 0  # the declared break

    write(repo, field="caption", extra="  // Added later.\n  int64 note = 2;\n")
    commit(repo, "retype a field after the declared break")
    later = check(repo)
    assert later.returncode == 1 and 'changed type from "string" to "int64"' in later.stdout

    git(repo, "reset", "-q", "--hard", "HEAD~1")
    git(repo, "checkout", "-q", "-b", "feature", "HEAD~2")  # a branch forked before the rename ...
    git(repo, "commit", "-q", "--allow-empty", "-m", "unrelated work")
    write(repo, number=3)  # ... renumbering a field in its working tree: compared with the fork point
    on_branch = check(repo)
    assert on_branch.returncode == 1
    assert 'field "1" with name "title" on message "Thing" was deleted' in on_branch.stdout
