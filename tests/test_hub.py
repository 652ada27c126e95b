"""Push, pull and resolve_data (datagen.hub) against a fake hub.

Only the network is replaced: `FakeHub` implements the six `huggingface_hub.HfApi` methods that
datagen.hub calls (same names and keywords, checked against the real signatures below) over an
in-memory store of commits and tags, and writes downloads to a temporary folder. Everything
else (build.json, cards, parquet, huggingface_hub's own ref, commit and error classes) is real.
"""

from __future__ import annotations

import fnmatch
import hashlib
import inspect
import json
from pathlib import Path

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.hf_api import CommitInfo, GitRefInfo, GitRefs
from test_cards import make_build

from datagen import cards, hub
from datagen.versioning import dataset_version, fingerprint


def _response(status: int):
    import httpx2

    return httpx2.Response(status, request=httpx2.Request("GET", "https://huggingface.co/api"))


class FakeHub:
    """A stand-in for HfApi whose network calls act on dicts: repo -> commits and tags."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.repos: dict[str, dict] = {}
        self.calls: list[str] = []
        self.fail: dict[str, BaseException] = {}  # method name -> error to raise when called

    def _enter(self, name: str) -> None:
        self.calls.append(name)
        if name in self.fail:
            raise self.fail[name]

    def _repo(self, repo_id: str) -> dict:
        if repo_id not in self.repos:
            raise RepositoryNotFoundError(f"404 {repo_id}", response=_response(404))
        return self.repos[repo_id]

    def _files(self, repo_id: str, revision: str | None) -> tuple[str, dict[str, bytes]]:
        repo = self._repo(repo_id)
        revision = revision or "main"
        oid = repo["tags"].get(revision) or (repo["head"] if revision == "main" else revision)
        if oid not in repo["commits"]:
            raise RevisionNotFoundError(f"404 {revision}", response=_response(404))
        return oid, repo["commits"][oid]["files"]

    # -- the HfApi methods datagen.hub uses --------------------------------------------------

    def create_repo(self, repo_id, *, token=None, private=None, repo_type=None, exist_ok=False):
        self._enter("create_repo")
        assert repo_type == "dataset"
        if repo_id in self.repos and not exist_ok:
            raise HfHubHTTPError("409 exists", response=_response(409))
        empty = {"files": {}, "message": "initial commit"}
        self.repos.setdefault(
            repo_id,
            {"private": private, "commits": {"0" * 40: empty}, "head": "0" * 40, "tags": {}},
        )
        return f"https://huggingface.co/datasets/{repo_id}"

    def list_repo_refs(self, repo_id, *, repo_type=None, token=None):
        self._enter("list_repo_refs")
        repo = self._repo(repo_id)
        main = GitRefInfo(name="main", ref="refs/heads/main", target_commit=repo["head"])
        tags = [
            GitRefInfo(name=t, ref=f"refs/tags/{t}", target_commit=o)
            for t, o in repo["tags"].items()
        ]
        return GitRefs(branches=[main], converts=[], tags=tags)

    def upload_folder(
        self,
        *,
        repo_id,
        folder_path,
        commit_message=None,
        commit_description=None,
        token=None,
        repo_type=None,
        allow_patterns=None,
        delete_patterns=None,
    ):
        self._enter("upload_folder")
        repo = self._repo(repo_id)
        files = dict(repo["commits"][repo["head"]]["files"])
        for path in list(files):
            if any(fnmatch.fnmatch(path, p) for p in delete_patterns or []):
                del files[path]
        for path in sorted(Path(folder_path).rglob("*")):
            rel = path.relative_to(folder_path).as_posix()
            if path.is_file() and any(fnmatch.fnmatch(rel, p) for p in allow_patterns or ["*"]):
                files[rel] = path.read_bytes()
        if files != repo["commits"][repo["head"]]["files"]:  # the Hub makes no empty commits
            digest = hashlib.sha1(repr(sorted(files.items())).encode()).hexdigest()
            repo["commits"][digest] = {"files": files, "message": commit_message}
            repo["head"] = digest
        url = f"https://huggingface.co/datasets/{repo_id}/commit/{repo['head']}"
        return CommitInfo(url, commit_message, commit_description or "", repo["head"])

    def create_tag(
        self, repo_id, *, tag, tag_message=None, revision=None, token=None, repo_type=None
    ):
        self._enter("create_tag")
        repo = self._repo(repo_id)
        if tag in repo["tags"]:
            raise HfHubHTTPError("409 tag exists", response=_response(409))
        oid, _ = self._files(repo_id, revision)
        repo["tags"][tag] = oid

    def hf_hub_download(self, repo_id, filename, *, repo_type=None, revision=None, token=None):
        self._enter("hf_hub_download")
        oid, files = self._files(repo_id, revision)
        if filename not in files:
            raise EntryNotFoundError(f"{filename} not in {repo_id}@{revision}")
        path = self.root / "cache" / oid / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[filename])
        return str(path)

    def snapshot_download(
        self, repo_id, *, repo_type=None, revision=None, local_dir=None, token=None
    ):
        self._enter("snapshot_download")
        oid, files = self._files(repo_id, revision)
        dest = Path(local_dir) if local_dir else self.root / "snapshots" / repo_id / oid
        for rel, content in files.items():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            (dest / rel).write_bytes(content)
        return str(dest)

    # -- helpers for assertions ----------------------------------------------------------------

    def tagged(self, repo_id: str, tag: str) -> dict[str, bytes]:
        return self._files(repo_id, tag)[1]

    def commit_count(self, repo_id: str) -> int:
        return len(self.repos[repo_id]["commits"])


def test_fake_hub_matches_the_real_hfapi_signatures() -> None:
    names = ["create_repo", "list_repo_refs", "upload_folder", "create_tag"]
    for name in [*names, "hf_hub_download", "snapshot_download"]:
        real = inspect.signature(getattr(HfApi, name)).parameters
        fake = inspect.signature(getattr(FakeHub, name)).parameters
        for param in fake.values():
            assert param.name in real, f"HfApi.{name} has no parameter {param.name}"
            assert param.kind == real[param.name].kind, f"HfApi.{name}({param.name}) kind"


@pytest.fixture()
def fake(tmp_path: Path) -> FakeHub:
    return FakeHub(tmp_path / "hub")


@pytest.fixture()
def build_dir(tmp_path: Path) -> Path:
    task_dir = make_build(tmp_path / "out")
    cards.write_card(task_dir)
    return task_dir


def test_push_uploads_one_commit_and_tags_it(fake: FakeHub, build_dir: Path) -> None:
    result = hub.push(build_dir, "me/sokoban", private=True, api=fake)
    build = json.loads((build_dir / "build.json").read_text())
    assert result.changed and result.tag == "v0.1.0"
    assert result.dataset_version == build["dataset_version"]
    assert fake.repos["me/sokoban"]["private"] is True
    assert fake.commit_count("me/sokoban") == 2  # the initial commit and ours
    assert fake.repos["me/sokoban"]["tags"] == {"v0.1.0": result.commit}
    # the commit message carries the fingerprint; the release is recorded in build.json + card
    assert build["fingerprint"] in fake.repos["me/sokoban"]["commits"][result.commit]["message"]
    assert build["release"] == {"repo": "me/sokoban", "tag": "v0.1.0", "version": "0.1.0"}
    files = fake.tagged("me/sokoban", "v0.1.0")
    on_disk = {p.relative_to(build_dir).as_posix() for p in build_dir.rglob("*") if p.is_file()}
    assert set(files) == on_disk
    assert files["build.json"] == (build_dir / "build.json").read_bytes()
    assert b'load_dataset("me/sokoban", "answer-only", revision="v0.1.0")' in files["README.md"]


def test_pushing_the_same_build_again_changes_nothing(fake: FakeHub, build_dir: Path) -> None:
    first = hub.push(build_dir, "me/sokoban", api=fake)
    before = (build_dir / "build.json").read_bytes(), (build_dir / "README.md").read_bytes()
    fake.calls.clear()
    again = hub.push(build_dir, "me/sokoban", api=fake)
    assert not again.changed and again.commit == first.commit
    assert "upload_folder" not in fake.calls and "create_tag" not in fake.calls
    assert fake.commit_count("me/sokoban") == 2
    assert (
        (build_dir / "build.json").read_bytes(),
        (build_dir / "README.md").read_bytes(),
    ) == before


def test_a_taken_tag_with_another_build_is_refused(fake: FakeHub, tmp_path: Path) -> None:
    old = make_build(tmp_path / "a", seed=0)
    new = make_build(tmp_path / "b", seed=1)  # other options, other fingerprint
    hub.push(old, "me/sokoban", api=fake)
    before = (new / "build.json").read_bytes()
    fake.calls.clear()
    with pytest.raises(hub.HubError, match=r"--version 0\.1\.1") as info:
        hub.push(new, "me/sokoban", api=fake)
    assert "\n" not in info.value.message
    assert "upload_folder" not in fake.calls and "create_tag" not in fake.calls
    assert (new / "build.json").read_bytes() == before

    result = hub.push(new, "me/sokoban", api=fake, version="0.1.1")
    repo = fake.repos["me/sokoban"]
    assert set(repo["tags"]) == {"v0.1.0", "v0.1.1"}
    old_fp = json.loads(fake.tagged("me/sokoban", "v0.1.0")["build.json"])["fingerprint"]
    new_fp = json.loads(fake.tagged("me/sokoban", "v0.1.1")["build.json"])["fingerprint"]
    assert old_fp != new_fp == result.fingerprint
    assert json.loads((new / "build.json").read_text())["release"]["tag"] == "v0.1.1"


def test_a_new_release_drops_data_files_of_the_old_one(fake: FakeHub, build_dir: Path) -> None:
    hub.push(build_dir, "me/sokoban", api=fake)
    # rebuild without the rl config
    (build_dir / "data" / "rl" / "train-00000-of-00001.parquet").unlink()
    (build_dir / "data" / "rl").rmdir()
    build = json.loads((build_dir / "build.json").read_text())
    del build["configs"]["rl"]
    build["options"]["configs"] = "no rl"
    build["fingerprint"] = fingerprint(build["options"])
    build["dataset_version"] = dataset_version("0.1.0", build["fingerprint"])
    (build_dir / "build.json").write_text(json.dumps(build))
    hub.push(build_dir, "me/sokoban", api=fake, version="0.2.0")
    assert "data/rl/train-00000-of-00001.parquet" in fake.tagged("me/sokoban", "v0.1.0")
    assert "data/rl/train-00000-of-00001.parquet" not in fake.tagged("me/sokoban", "v0.2.0")


def test_failed_upload_leaves_the_folder_and_the_tags_as_they_were(
    fake: FakeHub, build_dir: Path
) -> None:
    import httpx2

    before = {n: (build_dir / n).read_bytes() for n in ("build.json", "README.md")}
    fake.fail["upload_folder"] = httpx2.ConnectError("connection reset")
    with pytest.raises(hub.HubError, match="cannot reach the Hub") as info:
        hub.push(build_dir, "me/sokoban", api=fake)
    assert "\n" not in info.value.message
    assert {n: (build_dir / n).read_bytes() for n in before} == before
    assert fake.repos["me/sokoban"]["tags"] == {}


def test_an_unexpected_transfer_error_is_one_line_too(fake: FakeHub, build_dir: Path) -> None:
    before = (build_dir / "build.json").read_bytes()
    fake.fail["upload_folder"] = RuntimeError("xet: stream closed\nat chunk 3")
    with pytest.raises(hub.HubError, match="RuntimeError: xet: stream closed at chunk 3") as info:
        hub.push(build_dir, "me/sokoban", api=fake)
    assert "run the same push again" in info.value.message and "\n" not in info.value.message
    assert (build_dir / "build.json").read_bytes() == before


def test_failed_tagging_says_nothing_is_tagged_and_a_rerun_tags(
    fake: FakeHub, build_dir: Path
) -> None:
    fake.fail["create_tag"] = HfHubHTTPError("500 Internal Error", response=_response(500))
    with pytest.raises(hub.HubError, match="nothing is tagged; run the same push again"):
        hub.push(build_dir, "me/sokoban", api=fake)
    assert fake.repos["me/sokoban"]["tags"] == {}
    del fake.fail["create_tag"]
    result = hub.push(build_dir, "me/sokoban", api=fake)
    assert result.changed and fake.repos["me/sokoban"]["tags"] == {"v0.1.0": result.commit}
    assert fake.commit_count("me/sokoban") == 2  # the rerun made no second commit


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (OfflineModeIsEnabled("offline"), "unset HF_HUB_OFFLINE"),
        (HfHubHTTPError("403 Forbidden", response=_response(403)), "write access"),
        (RepositoryNotFoundError("404", response=_response(404)), "no such dataset repo"),
        (HfHubHTTPError("502 Bad Gateway\nretry", response=_response(502)), "HTTP 502"),
    ],
)
def test_hub_errors_become_one_line_messages(
    fake: FakeHub, build_dir: Path, error: BaseException, expected: str
) -> None:
    fake.fail["create_repo"] = error
    with pytest.raises(hub.HubError, match=expected) as info:
        hub.push(build_dir, "me/sokoban", api=fake)
    assert "\n" not in info.value.message


def test_offline_setting_stops_push_before_any_call(
    fake: FakeHub, build_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(hub.HubError, match="offline"):
        hub.push(build_dir, "me/sokoban", api=fake)
    assert fake.calls == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"repo_id": "not-a-repo"}, "not a Hub dataset id"),
        ({"repo_id": "me/x@v1.0.0"}, "without a revision"),
        ({"repo_id": "me/x", "version": "1.0"}, "X.Y.Z"),
    ],
)
def test_bad_arguments_are_refused_before_any_call(
    fake: FakeHub, build_dir: Path, args: dict, message: str
) -> None:
    with pytest.raises(hub.HubError, match=message):
        hub.push(build_dir, api=fake, **args)
    assert fake.calls == []


def test_pull_gives_a_folder_that_works_like_a_build(
    fake: FakeHub, build_dir: Path, tmp_path: Path
) -> None:
    from datasets import load_dataset

    hub.push(build_dir, "me/sokoban", api=fake)
    out = hub.pull("me/sokoban@v0.1.0", tmp_path / "pulled", api=fake)
    assert out == tmp_path / "pulled"
    for path in build_dir.rglob("*"):
        if path.is_file():
            assert (out / path.relative_to(build_dir)).read_bytes() == path.read_bytes()
    assert hub.resolve_data(str(out)) == out
    assert cards.render_card(out) == (out / "README.md").read_text()
    ds = load_dataset(str(out), "eval", cache_dir=str(tmp_path / "hf-cache"))
    assert ds["fake_cardinal"].num_rows == 2
    # pulling again (another revision) replaces the earlier pull; no staging folder is left
    hub.pull("me/sokoban", out, revision="main", api=fake)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".pulled")) == []


def test_pull_refuses_a_foreign_folder_and_conflicting_revisions(
    fake: FakeHub, build_dir: Path, tmp_path: Path
) -> None:
    hub.push(build_dir, "me/sokoban", api=fake)
    with pytest.raises(hub.HubError, match="not an earlier pull"):
        hub.pull("me/sokoban", build_dir, api=fake)  # would overwrite a local build
    with pytest.raises(hub.HubError, match="two revisions"):
        hub.pull("me/sokoban@v0.1.0", tmp_path / "x", revision="v0.2.0", api=fake)
    with pytest.raises(hub.HubError, match=r"no revision 'v9\.9\.9'"):
        hub.pull("me/sokoban", tmp_path / "y", revision="v9.9.9", api=fake)
    assert not (tmp_path / "y").exists()
    assert [p for p in tmp_path.iterdir() if ".pull" in p.name] == []


def test_pull_of_a_repo_that_is_not_a_datagen_dataset_fails_cleanly(
    fake: FakeHub, tmp_path: Path
) -> None:
    fake.create_repo("me/other", repo_type="dataset")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "notes.txt").write_text("hello")
    fake.upload_folder(repo_id="me/other", folder_path=tmp_path / "src", repo_type="dataset")
    with pytest.raises(hub.HubError, match="not a datagen dataset"):
        hub.pull("me/other", tmp_path / "o", api=fake)
    assert not (tmp_path / "o").exists()


def test_resolve_data_local_folders(tmp_path: Path) -> None:
    task_dir = make_build(tmp_path / "out")
    assert hub.resolve_data(str(task_dir)) == task_dir
    assert hub.resolve_data(tmp_path / "out") == task_dir  # a build root with one task
    make_build(tmp_path / "two")
    second = tmp_path / "two" / "points"
    (tmp_path / "two" / "sokoban").rename(second)
    make_build(tmp_path / "two")
    with pytest.raises(hub.HubError, match="several builds"):
        hub.resolve_data(str(tmp_path / "two"))
    assert hub.resolve_data(str(tmp_path / "two"), task="points") == second
    with pytest.raises(hub.HubError, match=r"no build\.json"):
        hub.resolve_data(str(tmp_path))  # holds out/ and two/, but no build directly below
    with pytest.raises(hub.HubError, match="no such folder"):
        hub.resolve_data(str(tmp_path / "missing" / "deeper" / "path"))


def test_resolve_data_downloads_hub_specs(fake: FakeHub, build_dir: Path) -> None:
    pushed = hub.push(build_dir, "me/sokoban", api=fake)
    folder = hub.resolve_data("me/sokoban@v0.1.0", api=fake)
    assert folder.name == pushed.commit
    assert json.loads((folder / "build.json").read_text())["fingerprint"] == pushed.fingerprint
    with pytest.raises(hub.HubError, match="no local folder me/nothing") as info:
        hub.resolve_data("me/nothing", api=fake)
    assert "no such dataset repo" in info.value.message


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("me/data", ("me/data", None)),
        ("me/data@v0.1.0", ("me/data", "v0.1.0")),
        ("org-1/some.name_2@main", ("org-1/some.name_2", "main")),
    ],
)
def test_parse_repo_spec(spec: str, parsed: tuple) -> None:
    assert hub.parse_repo_spec(spec) == parsed
    assert hub.is_repo_spec(spec)


@pytest.mark.parametrize("spec", ["data", "a/b/c", "me/data@", "/abs/path", "./x/y"])
def test_parse_repo_spec_rejects(spec: str) -> None:
    assert not hub.is_repo_spec(spec)


def test_an_edited_build_json_is_refused(fake: FakeHub, build_dir: Path) -> None:
    path = build_dir / "build.json"
    build = json.loads(path.read_text())
    build["options"]["train_size"] = 999  # options no longer match the fingerprint
    path.write_text(json.dumps(build))
    with pytest.raises(hub.HubError, match="does not match its options"):
        hub.push(build_dir, "me/sokoban", api=fake)
    assert fake.calls == []


# ---------------------------------------------------------------------------------------------
# Hardening (issue 11): corrupted folders, content fingerprints, pull into existing folders


def _real_build(root: Path, seed: int = 0) -> Path:
    from datagen.build import BuildConfig, build

    build([BuildConfig(task="points", train_size=8, eval_size=2, seed=seed, workers=1)], root)
    return root / "points"


def test_a_corrupted_folder_is_refused_before_any_hub_call(fake: FakeHub, tmp_path: Path) -> None:
    task_dir = _real_build(tmp_path / "out")
    part = task_dir / "data" / "eval" / "id-00000-of-00001.parquet"
    good = part.read_bytes()
    part.write_bytes(good[:100])  # truncated
    with pytest.raises(hub.HubError, match="not a readable parquet file") as info:
        hub.push(task_dir, "me/points", api=fake)
    assert "run the same push again" not in info.value.message
    middle = len(good) // 2
    part.write_bytes(good[:middle] + bytes([good[middle] ^ 1]) + good[middle + 1 :])  # a bit flip
    with pytest.raises(hub.HubError, match="sha256 differs"):
        hub.push(task_dir, "me/points", api=fake)
    part.unlink()
    with pytest.raises(hub.HubError, match="eval/id"):
        hub.push(task_dir, "me/points", api=fake)
    assert fake.calls == [] and fake.repos == {}  # no repo was created
    part.write_bytes(good)
    assert hub.push(task_dir, "me/points", api=fake).changed


def test_same_options_other_rows_is_another_build_not_nothing_to_do(
    fake: FakeHub, tmp_path: Path
) -> None:
    from datagen.build import BuildConfig, build_task
    from datagen.build_writer import write_task

    config = BuildConfig(task="points", train_size=8, eval_size=2, workers=1)
    first = write_task(build_task(config), tmp_path / "a")
    other = build_task(config)  # a sampling teacher would give other rows: change one
    row = other.configs["answer-only"]["train"][0]
    row["completion"] = [{"role": "assistant", "content": "another sample"}]
    second = write_task(other, tmp_path / "b")
    assert first["options"] == second["options"] and first["fingerprint"] != second["fingerprint"]
    hub.push(tmp_path / "a", "me/points", api=fake)
    with pytest.raises(hub.HubError, match=r"already has tag v0\.1\.0 holding .*--version 0\.1\.1"):
        hub.push(tmp_path / "b", "me/points", api=fake)
    # a byte-identical rebuild is the same build: nothing to do
    write_task(build_task(config), tmp_path / "c")
    assert not hub.push(tmp_path / "c", "me/points", api=fake).changed


def test_pull_into_an_existing_empty_folder_and_not_over_added_files(
    fake: FakeHub, build_dir: Path, tmp_path: Path
) -> None:
    hub.push(build_dir, "me/sokoban", api=fake)
    volume = tmp_path / "volume"
    volume.mkdir()  # an empty mount point: written inside, not renamed onto
    hub.pull("me/sokoban", volume, api=fake)
    assert (volume / "build.json").read_bytes() == (build_dir / "build.json").read_bytes()
    assert not [p for p in volume.iterdir() if p.name.startswith(".datagen-")]
    hub.pull("me/sokoban", volume, api=fake)  # an earlier pull is replaced
    (volume / "my-notes.md").write_text("mine")
    with pytest.raises(hub.HubError, match="not an earlier pull"):
        hub.pull("me/sokoban", volume, api=fake)
    assert (volume / "my-notes.md").read_text() == "mine"
