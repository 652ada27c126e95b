"""Publish build folders as versioned Hub datasets, fetch them back, and resolve `--data` specs.

    from datagen.hub import push, pull, resolve_data
    push(Path("out/points"), "me/points-sft")          # one commit, tagged v<package version>
    pull("me/points-sft@v0.1.0", Path("data/points"))  # a folder that works like a local build
    resolve_data("me/points-sft@v0.1.0")               # -> Path, for the trainer and `datagen eval`

Command line: `datagen push DIR --repo OWNER/NAME [--private] [--version X.Y.Z]`,
`datagen pull OWNER/NAME[@REV] [--revision vX.Y.Z] --out DIR` (datagen/cli/hub.py).

Release rules (see datagen.versioning): a release is the tag `vX.Y.Z` on a commit that holds the
whole folder (README.md, build.json, data/). Pushing a build whose dataset version (package
version + fingerprint) the tag already holds changes nothing; a tag that holds another build is
refused, and the error names a free version to give with `--version`. The commit message carries
the fingerprint, and build.json/README.md record the release (`build.json["release"]`).

Every failure a user can fix (no token, offline mode, no network, no such repo or revision, no
write access) raises `HubError`, a `click.ClickException` with a one-line message: inside a click
command it prints `Error: ...` and exits 1 without a traceback. Only the network calls go through
`api` (an `huggingface_hub.HfApi` by default), so tests can hand in an object that keeps a fake
hub in a temporary folder. The error translation is `datagen.hub_errors`.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from datagen import cards
from datagen.folders import (
    TASK_ENTRIES,
    FolderError,
    check_not_interrupted,
    install,
    is_empty,
    own_entry,
    staging_dir,
)
from datagen.hub_errors import (  # re-exported: hub.HubError
    HubError,
    endpoint,
    hub_api,
    hub_errors,
    offline,
    require_token,
    short,
)
from datagen.versioning import (
    check_version,
    is_fingerprint,
    next_version,
    tag_for,
    version_of_tag,
)
from datagen.versioning import fingerprint as compute_fingerprint

REPO_TYPE = "dataset"
# What a release holds; anything else in the folder (caches, notes) stays local.
# audit.json: imported folders; figures: the card's pictures.
RELEASE_FILES = [cards.CARD_NAME, cards.BUILD_NAME, "audit.json", "data/**", "figures/*.png"]
# Written into a pulled folder so that a later pull may replace it (and nothing else).
PULL_MARKER = Path(".cache") / "datagen-pull.json"
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")


@dataclass(frozen=True)
class PushResult:
    repo_id: str
    tag: str
    dataset_version: str
    fingerprint: str
    commit: str | None
    changed: bool  # False when the tag already held this very build
    url: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_repo_spec(spec: str) -> tuple[str, str | None]:
    """`"OWNER/NAME[@revision]"` -> (repo_id, revision or None); HubError if malformed."""
    repo_id, at, revision = str(spec).partition("@")
    if not _REPO_ID.fullmatch(repo_id) or (at and not revision):
        raise HubError(f"{spec!r} is not a Hub dataset id: expected OWNER/NAME or OWNER/NAME@REV")
    return repo_id, revision or None


def is_repo_spec(spec: str) -> bool:
    try:
        parse_repo_spec(spec)
    except HubError:
        return False
    return True


def find_task_dir(path: Path, task: str | None = None) -> Path:
    """The one build folder at `path` (a task folder, or a build root with one task or `task`)."""
    path = Path(path)
    if task is not None and not (path / cards.BUILD_NAME).is_file():
        path = path / task
    found = cards.task_dirs(path)
    if not found:
        raise HubError(f"{path} holds no build.json: give a folder written by `datagen build`")
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise HubError(f"{path} holds several builds ({names}): give one, e.g. {found[0]}")
    return found[0]


def _log(message: str) -> None:
    print(message, file=sys.stderr)


def _remote_build(api: Any, repo_id: str, revision: str) -> dict[str, Any] | None:
    """build.json of a published revision, or None when it has none (not one of our releases)."""
    from huggingface_hub.errors import EntryNotFoundError

    try:
        path = api.hf_hub_download(
            repo_id, cards.BUILD_NAME, repo_type=REPO_TYPE, revision=revision
        )
    except EntryNotFoundError:
        return None
    try:
        remote = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return remote if isinstance(remote, dict) else None


def _expected_fingerprint(build: dict[str, Any]) -> str | None:
    """The fingerprint build.json's options (and recorded file digests) give; None if they
    cannot be hashed (a hand-edited build.json)."""
    files = build.get("files")
    try:
        return compute_fingerprint(build["options"], files if isinstance(files, dict) else None)
    except (TypeError, ValueError):
        return None


def push(
    task_dir: Path,
    repo_id: str,
    *,
    version: str | None = None,
    private: bool = False,
    token: str | None = None,
    api: Any = None,
    task: str | None = None,
) -> PushResult:
    """Upload a build folder to the dataset repo `repo_id` in one commit and tag it `vX.Y.Z`.

    `version` defaults to the build's package version. Returns what happened; `changed` is
    False when the tag already holds this build. Raises HubError for anything the user can fix.
    """
    task_dir = find_task_dir(Path(task_dir), task)
    parse_repo_spec(repo_id)
    if "@" in repo_id:
        raise HubError(f"--repo takes OWNER/NAME without a revision, got {repo_id!r}")
    # Everything about the folder is checked here, before the first network call: a corrupted
    # folder must not create a repo, and its error must say what is wrong with the folder.
    try:
        build = cards.load_build(task_dir)
        cards.check_files(task_dir, build, cards.parquet_files(task_dir))
        version = check_version(version or build["version"])
        cards.render_card(task_dir)  # the card is re-rendered below: it must render now
    except ValueError as error:  # CardError and bad versions
        raise HubError(str(error)) from None
    fingerprint, dataset_version = build["fingerprint"], build["dataset_version"]
    if not is_fingerprint(fingerprint):
        raise HubError(f"{task_dir}/build.json has a malformed fingerprint {fingerprint!r}")
    if "options" in build and _expected_fingerprint(build) != fingerprint:
        # "Same fingerprint, same build" only holds if nobody edited the options afterwards.
        raise HubError(
            f"{task_dir}/build.json: fingerprint {fingerprint} does not match its options and "
            "data files; rebuild the folder with `datagen build`"
        )
    if dataset_version != f"{build['version']}+{fingerprint}":
        raise HubError(
            f"{task_dir}/build.json: dataset_version {dataset_version!r} is inconsistent"
        )
    tag = tag_for(version)
    url = f"{endpoint()}/datasets/{repo_id}/tree/{tag}"
    if offline():
        raise HubError(f"cannot push {repo_id}: offline mode is on; unset HF_HUB_OFFLINE")
    api = hub_api(api, require_token(token) if api is None else token)

    with hub_errors("push to", repo_id):
        api.create_repo(repo_id, repo_type=REPO_TYPE, private=private, exist_ok=True)
        tags = {
            ref.name: ref.target_commit
            for ref in api.list_repo_refs(repo_id, repo_type=REPO_TYPE).tags
        }
        if tag in tags:
            remote = _remote_build(api, repo_id, tag) or {}
            if remote.get("dataset_version") == dataset_version:
                _log(f"{repo_id} {tag} already holds {dataset_version}: nothing to do")
                return PushResult(repo_id, tag, dataset_version, fingerprint, tags[tag], False, url)
            taken = [v for v in map(version_of_tag, tags) if v]
            suggestion = next_version(version, taken)
            raise HubError(
                f"{repo_id} already has tag {tag} holding "
                f"{remote.get('dataset_version', 'another build')}, not {dataset_version}: "
                f"publish this build as a new version, e.g. --version {suggestion}"
            )

    # Record the release in build.json and the card before uploading, so the commit carries
    # them; put the old files back if anything below fails, so the folder never claims a
    # release that does not exist.
    saved = {
        name: (task_dir / name).read_bytes()
        for name in (cards.BUILD_NAME, cards.CARD_NAME)
        if (task_dir / name).is_file()
    }
    try:
        build["release"] = {"repo": repo_id, "tag": tag, "version": version}
        cards.write_text_atomic(
            task_dir / cards.BUILD_NAME, json.dumps(build, indent=2, ensure_ascii=False) + "\n"
        )
        cards.write_card(task_dir)
        _log(f"pushing {task_dir} ({dataset_version}) to {repo_id} as {tag}")
        with hub_errors("push to", repo_id):
            info = api.upload_folder(
                repo_id=repo_id,
                repo_type=REPO_TYPE,
                folder_path=str(task_dir),
                allow_patterns=RELEASE_FILES,
                # The release must be exactly this folder: drop data files of earlier pushes.
                delete_patterns=["data/**"],
                commit_message=f"{build['task']} {dataset_version} (fingerprint {fingerprint})",
                commit_description=json.dumps(
                    {"fingerprint": fingerprint, "tag": tag, "configs": build["configs"]}
                ),
            )
    except BaseException as error:
        for name, content in saved.items():
            (task_dir / name).write_bytes(content)
        if isinstance(error, Exception) and not isinstance(error, HubError):
            # Transfer back-ends (Xet, LFS) raise their own errors mid-upload; the commit is
            # atomic, so the Hub holds nothing of this push and a rerun is safe.
            raise HubError(
                f"upload to {repo_id} failed ({type(error).__name__}: {short(error)}); nothing "
                "was committed or tagged: run the same push again"
            ) from None
        raise
    commit = getattr(info, "oid", None) or str(info)
    try:
        with hub_errors("tag", repo_id):
            api.create_tag(
                repo_id,
                repo_type=REPO_TYPE,
                tag=tag,
                revision=commit,
                tag_message=f"{build['task']} dataset {dataset_version}",
            )
    except HubError as error:
        raise HubError(
            f"uploaded commit {commit[:12]} but could not tag it {tag}: {error.message} "
            "(nothing is tagged; run the same push again)"
        ) from None
    return PushResult(repo_id, tag, dataset_version, fingerprint, commit, True, url)


def _download(
    repo_id: str,
    revision: str | None,
    *,
    local_dir: Path | None = None,
    token: str | None = None,
    api: Any = None,
) -> Path:
    if offline() and local_dir is not None:
        raise HubError(f"cannot pull {repo_id}: offline mode is on; unset HF_HUB_OFFLINE")
    api = hub_api(api, token)
    with hub_errors("download", repo_id, revision):
        path = api.snapshot_download(
            repo_id,
            repo_type=REPO_TYPE,
            revision=revision,
            local_dir=str(local_dir) if local_dir is not None else None,
        )
    return Path(path)


def _check_folder(task_dir: Path, origin: str) -> None:
    try:
        build = cards.load_build(task_dir)
        cards.check_files(task_dir, build, cards.parquet_files(task_dir))
    except ValueError as error:
        raise HubError(f"{origin} is not a datagen dataset: {error}") from None


def pull(
    spec: str,
    out: Path,
    *,
    revision: str | None = None,
    token: str | None = None,
    api: Any = None,
) -> Path:
    """Download `OWNER/NAME[@revision]` into the folder `out`; return `out`.

    `out` must not exist, be empty, or hold an earlier pull (which is replaced only once the
    new download is complete). The result is a build folder: `datagen eval --data out`,
    `datagen show out` and the trainer read it like the output of `datagen build`. A repo that
    is not a datagen build is handed to `datagen.importers`; then `out/<task>` is returned.
    """
    repo_id, at_revision = parse_repo_spec(spec)
    if revision and at_revision and revision != at_revision:
        raise HubError(
            f"two revisions given: {at_revision!r} in {spec!r} and --revision {revision!r}"
        )
    revision = revision or at_revision
    out = Path(out)
    if out.exists() and not (out.is_dir() and (is_empty(out) or _earlier_pull(out))):
        raise HubError(f"{out} exists and is not an earlier pull: choose a new --out folder")
    try:
        if out.is_dir():
            check_not_interrupted(out)
        # Inside `out` when it exists (an empty mount point cannot be renamed onto).
        staging = staging_dir(out, sibling_name=f".{out.name}.pull")
    except FolderError as error:
        raise HubError(str(error)) from None
    try:
        _download(repo_id, revision, local_dir=staging, token=token, api=api)
        if not (staging / cards.BUILD_NAME).is_file() and any(staging.glob("**/*.parquet")):
            # Parquet but no build (e.g. the study's own datasets): the importer reads it.
            from datagen.importers import import_snapshot

            task_dir = import_snapshot(staging, out, repo_id, revision)
            shutil.rmtree(staging, ignore_errors=True)  # the snapshot, once its rows are read
            marker = out / PULL_MARKER
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(json.dumps({"repo": repo_id, "revision": revision}) + "\n")
            return task_dir
        _check_folder(staging, f"{repo_id}@{revision or 'main'}")
        marker = staging / PULL_MARKER
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps({"repo": repo_id, "revision": revision}) + "\n")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        install(staging, out)
    except FolderError as error:
        raise HubError(str(error)) from None
    return out


def _earlier_pull(out: Path) -> bool:
    """A folder that `pull` wrote and nobody added files to (those would be deleted)."""
    if not (out / PULL_MARKER).is_file():
        return False

    def pulled(p: Path) -> bool:  # a build's files, or the task folder an import wrote
        return p.name in TASK_ENTRIES or (p.is_dir() and (p / cards.BUILD_NAME).is_file())

    return all(own_entry(p) or pulled(p) for p in out.iterdir())


def resolve_data(
    spec: str | Path, *, task: str | None = None, token: str | None = None, api: Any = None
) -> Path:
    """The local build folder that `spec` names, downloading Hub datasets to the HF cache.

    `spec` is a local build folder (`DIR/<task>`, or `DIR` when it holds one task or `task` is
    given) or a Hub dataset `OWNER/NAME[@revision]`. An existing local path wins over a Hub id
    with the same spelling. Offline (HF_HUB_OFFLINE=1), a Hub dataset resolves from the cache.
    Raises HubError (one line) when neither works.
    """
    path = Path(spec).expanduser()
    if path.exists():
        return find_task_dir(path, task)
    text = str(spec)
    if not is_repo_spec(text):
        raise HubError(f"{text}: no such folder, and not a Hub dataset id OWNER/NAME[@revision]")
    repo_id, revision = parse_repo_spec(text)
    try:
        snapshot = _download(repo_id, revision, token=token, api=api)
    except HubError as error:
        raise HubError(f"no local folder {text}, and {error.message}") from None
    folder = find_task_dir(snapshot, task)
    _check_folder(folder, text)
    return folder
