"""Shared helpers for the data_scripts: resumable download, sha256 sidecars, safe extraction, done markers.

Standard library only (urllib, tarfile, zipfile), plus tqdm for progress bars.

- `download(url, dest, expected_sha256)`: streams into `<dest>.part`. Over http(s) an existing `.part` is
  continued with a `Range: bytes=<size>-` request; when the server answers 200 instead of 206 (it ignores
  Range) or the answer does not start where the `.part` ends, the download restarts cleanly from byte 0.
  ftp (and any other scheme) cannot resume through urllib, so a stale `.part` is discarded. Only a complete
  file is renamed to `dest` (atomic `os.replace`), and its sha256 is written next to it as
  `<dest>.sha256` (`sha256sum` format). When `dest` already exists, it is hashed again and checked against
  that sidecar and against `expected_sha256`: any mismatch is an error naming the file, never a silent reuse.
- `extract(archive, dest, strip_components)`: tar (any compression) or zip. Every member is checked before
  anything is written: absolute paths, `..` components, links and device files are rejected.
- `is_done` / `mark_done`: a `.<step>.done` marker file so re-running a script skips finished steps.

Importing this module also makes `ssl_kit` importable from the checkout it lives in when the kit is not
installed, so `python data_scripts/<script>.py` works from a fresh clone.
"""

from __future__ import annotations

import hashlib
import http.client
import importlib.util
import os
import re
import shutil
import stat
import sys
import tarfile
import time
import zipfile
import zlib
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlparse
from urllib.request import Request, urlopen

from tqdm import tqdm

if importlib.util.find_spec("ssl_kit") is None:  # kit not installed: use the checkout holding this folder
    sys.path.append(str(Path(__file__).resolve().parents[1]))

CHUNK = 1 << 20
RETRY_DELAY = 1.0  # seconds before the first retry; doubles each time, at most 10 s
USER_AGENT = "ssl_kit-data-scripts/0.1 (+urllib)"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


class DownloadError(Exception):
    """A download, checksum or archive problem, naming the file and what was expected."""

    def __init__(self, path: str | Path, problem: str, expected: str | None = None):
        self.path = Path(path)
        msg = f"{self.path}: {problem}"
        if expected:
            msg += f" (expected {expected})"
        super().__init__(msg)


class _Interrupted(Exception):
    """The transfer stopped early; the `.part` file is kept so the next attempt can resume."""


# --------------------------------------------------------------------------------------------- checksums


def sha256_file(path: Path, progress: bool = False) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    size = path.stat().st_size
    with open(path, "rb") as f, _bar(size, 0, f"sha256 {path.name}", progress) as bar:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            bar.update(len(chunk))
    return h.hexdigest()


def checksum_path(path: Path) -> Path:
    """The sidecar `<file>.sha256` next to `path`."""
    return path.with_name(path.name + ".sha256")


def _normalise(digest: str | None, where: str) -> str | None:
    if digest is None:
        return None
    digest = digest.strip().lower()
    if not _HEX64.match(digest):
        raise ValueError(f"{where}: {digest!r} is not a sha256 (64 hex digits)")
    return digest


def read_checksum(path: Path) -> str | None:
    """The digest recorded in `<path>.sha256`, or None when there is no sidecar."""
    side = checksum_path(path)
    if not side.exists():
        return None
    text = side.read_text(encoding="utf-8").split()
    if not text or not _HEX64.match(text[0].lower()):
        raise DownloadError(side, "is not a sha256 sidecar", "'<64 hex digits>  <file name>'")
    return text[0].lower()


def write_checksum(path: Path, digest: str) -> Path:
    """Write `<path>.sha256` atomically, in `sha256sum` format."""
    side = checksum_path(path)
    _atomic_text(side, f"{digest}  {path.name}\n")
    return side


def verify_file(path: Path, expected_sha256: str | None = None, progress: bool = False) -> str:
    """Hash an existing file and check it against its sidecar and `expected_sha256`; write a missing sidecar."""
    expected = _normalise(expected_sha256, str(path))
    recorded = read_checksum(path)
    actual = sha256_file(path, progress)
    if recorded is not None and recorded != actual:
        raise DownloadError(
            path,
            f"sha256 {actual} differs from {recorded} recorded in {checksum_path(path).name} "
            "(the file changed or is corrupt); delete both files to download it again",
            "the recorded checksum",
        )
    if expected is not None and actual != expected:
        raise DownloadError(
            path,
            f"sha256 {actual} differs from the published {expected}; delete it to download it again",
            "the published checksum",
        )
    if recorded is None:
        write_checksum(path, actual)
    return actual


# -------------------------------------------------------------------------------------------- download


def download(
    url: str,
    dest: str | Path,
    expected_sha256: str | None = None,
    *,
    progress: bool = True,
    timeout: float = 60.0,
    retries: int = 2,
) -> Path:
    """Fetch `url` to `dest` (resuming `<dest>.part` over http(s)); verify or record its sha256.

    Returns `dest`. Raises DownloadError naming the file on an HTTP error, an interrupted transfer (after
    `retries` resumed attempts; the `.part` is kept for the next run) or a checksum mismatch (the `.part`
    is removed, so the next run starts over).
    """
    dest = Path(dest)
    expected = _normalise(expected_sha256, url)
    if dest.exists():
        verify_file(dest, expected, progress)
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    for attempt in range(retries + 1):
        try:
            digest = _fetch(url, part, dest.name, progress, timeout)
            break
        except (_Interrupted, URLError, ConnectionError, TimeoutError, http.client.HTTPException) as e:
            if isinstance(e, HTTPError):
                raise DownloadError(dest, f"HTTP {e.code} {e.reason} for {url}", "HTTP 200 or 206") from e
            if attempt == retries:
                raise DownloadError(
                    dest,
                    f"download from {url} interrupted ({type(e).__name__}: {e}); "
                    f"{part.name} is kept, run again to resume",
                    "a complete transfer",
                ) from e
            _note(f"{dest.name}: {e}; retrying ({attempt + 1}/{retries})", progress)
            time.sleep(min(RETRY_DELAY * 2.0**attempt, 10.0))
    if expected is not None and digest != expected:
        part.unlink(missing_ok=True)
        raise DownloadError(
            dest,
            f"sha256 of the download is {digest} but the published one is {expected}; "
            "the partial file was removed, run again to fetch it anew",
            "the published checksum",
        )
    os.replace(part, dest)
    write_checksum(dest, digest)
    return dest


def _fetch(url: str, part: Path, label: str, progress: bool, timeout: float) -> str:
    """Transfer `url` into `part` (resuming when possible); return the sha256 of the whole file."""
    resumable = urlparse(url).scheme in ("http", "https")
    offset = part.stat().st_size if part.exists() else 0
    if offset and not resumable:
        _note(f"{label}: cannot resume over {urlparse(url).scheme}; starting again", progress)
        part.unlink()
        offset = 0
    request = Request(url, headers={"User-Agent": USER_AGENT})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urlopen(request, timeout=timeout)
    except HTTPError as e:
        if e.code == 416 and offset:  # nothing left after byte `offset`
            full = re.match(r"^bytes \*/(\d+)$", (e.headers.get("Content-Range") or "").strip())
            if full and int(full.group(1)) == offset:  # the .part is already the whole file
                h = hashlib.sha256()
                _hash_into(h, part)
                return h.hexdigest()
            _note(f"{label}: server refused to resume at byte {offset}; starting again", progress)
            part.unlink()
            return _fetch(url, part, label, progress, timeout)
        raise
    with response:
        length = response.headers.get("Content-Length")
        length = int(length) if length and length.isdigit() else None
        status = getattr(response, "status", None)
        start = _range_start(response.headers.get("Content-Range")) if status == 206 else None
        h = hashlib.sha256()
        if offset and start == offset:
            _hash_into(h, part)
            mode = "ab"
        elif status == 206:  # a range we did not ask for: ask again for the whole file
            _note(f"{label}: server answered with another range ({start}); starting again", progress)
            part.unlink(missing_ok=True)
            response.close()
            return _fetch(url, part, label, progress, timeout)
        else:
            if offset:
                _note(f"{label}: server ignored the Range request; restarting from byte 0", progress)
            offset, mode = 0, "wb"
        total = offset + length if length is not None else None
        with open(part, mode) as f, _bar(total, offset, label, progress) as bar:
            while chunk := response.read(CHUNK):
                f.write(chunk)
                h.update(chunk)
                bar.update(len(chunk))
            f.flush()
            os.fsync(f.fileno())
    size = part.stat().st_size
    if total is not None and size != total:
        raise _Interrupted(f"got {size} of {total} bytes")
    return h.hexdigest()


def _range_start(header: str | None) -> int | None:
    m = _CONTENT_RANGE.match(header.strip()) if header else None
    return int(m.group(1)) if m else None


def _hash_into(h: hashlib._Hash, path: Path) -> None:
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)


# ------------------------------------------------------------------------------------------- extraction


def _member_parts(archive: Path, name: str) -> list[str]:
    """The path components of an archive member; raises on absolute paths and `..`."""
    raw = name.replace("\\", "/")
    if raw.startswith("/") or re.match(r"^[A-Za-z]:", raw):
        raise DownloadError(archive, f"member {name!r} has an absolute path", "relative member paths")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise DownloadError(archive, f"member {name!r} escapes the destination", "no '..' in member paths")
    return parts


def _target(archive: Path, root: Path, name: str, strip: int) -> Path | None:
    parts = _member_parts(archive, name)[strip:]
    if not parts:
        return None
    target = root.joinpath(*parts)
    if not target.resolve().is_relative_to(root):  # e.g. through a symlink already on disk
        raise DownloadError(
            archive, f"member {name!r} resolves outside {root}", "paths inside the destination"
        )
    return target


def _zip_is_link(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def archive_names(archive: Path) -> list[str]:
    """Member names of a tar or zip archive."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            return zf.namelist()
    try:
        with tarfile.open(archive) as tf:
            return tf.getnames()
    except (tarfile.TarError, OSError) as e:
        raise DownloadError(archive, f"not a readable tar or zip archive ({e})", "a .tar or .zip file") from e


def common_top_folder(archive: Path) -> str | None:
    """The single top-level folder every member lies in (e.g. `PASCAL3D+_release1.1`), or None."""
    paths = [parts for n in archive_names(archive) if (parts := _member_parts(archive, n))]
    tops = {parts[0] for parts in paths}
    nested = any(len(parts) > 1 for parts in paths)  # something lies inside it, so it is a folder
    return tops.pop() if len(tops) == 1 and nested else None


def extract(archive: str | Path, dest: str | Path, strip_components: int = 0, progress: bool = True) -> int:
    """Extract a tar or zip archive into `dest` after checking every member; return the number of files.

    `strip_components` drops that many leading path components, like `tar --strip-components`. Nothing is
    written when any member is unsafe (absolute, `..`, a link or a device file). A damaged archive (short,
    a bad CRC, a truncated stream) is a DownloadError that says how to fetch it again.
    """
    archive = Path(archive)
    hint = f"delete it and {archive.name}.sha256 to download it again"
    try:
        return _extract_checked(archive, Path(dest), strip_components, progress)
    except DownloadError as e:
        raise DownloadError(archive, f"{str(e).removeprefix(f'{archive}: ')}; {hint}") from e
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error) as e:
        raise DownloadError(
            archive, f"is damaged ({type(e).__name__}: {e}); {hint}", "a complete archive"
        ) from e


def _extract_checked(archive: Path, dest: Path, strip_components: int, progress: bool) -> int:
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    if zipfile.is_zipfile(archive):
        return _extract_zip(archive, root, strip_components, progress)
    try:
        tf = tarfile.open(archive)
    except (tarfile.TarError, OSError) as e:
        raise DownloadError(archive, f"not a readable tar or zip archive ({e})", "a .tar or .zip file") from e
    with tf:
        return _extract_tar(tf, archive, root, strip_components, progress)


def _extract_tar(tf: tarfile.TarFile, archive: Path, root: Path, strip: int, progress: bool) -> int:
    plan: list[tuple[tarfile.TarInfo, Path]] = []
    for m in tf.getmembers():
        target = _target(archive, root, m.name, strip)
        if not (m.isfile() or m.isdir()):
            kind = "link" if (m.issym() or m.islnk()) else "special file"
            raise DownloadError(archive, f"member {m.name!r} is a {kind}", "only files and folders")
        if target is not None:
            plan.append((m, target))
    total = sum(m.size for m, _ in plan if m.isfile())
    files = 0
    with _bar(total, 0, f"extract {archive.name}", progress) as bar:
        for m, target in plan:
            if m.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            src = tf.extractfile(m)
            if src is None:
                raise DownloadError(archive, f"member {m.name!r} cannot be read", "a regular file")
            with src:
                _write_member(src, target)
            files += 1
            bar.update(m.size)
    return files


def _extract_zip(archive: Path, root: Path, strip: int, progress: bool) -> int:
    with zipfile.ZipFile(archive) as zf:
        plan: list[tuple[zipfile.ZipInfo, Path]] = []
        for info in zf.infolist():
            target = _target(archive, root, info.filename, strip)
            if _zip_is_link(info):
                raise DownloadError(archive, f"member {info.filename!r} is a link", "only files and folders")
            if target is not None:
                plan.append((info, target))
        total = sum(i.file_size for i, _ in plan if not i.is_dir())
        files = 0
        with _bar(total, 0, f"extract {archive.name}", progress) as bar:
            for info, target in plan:
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                with zf.open(info) as src:
                    _write_member(src, target)
                files += 1
                bar.update(info.file_size)
    return files


def _write_member(src, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink():
        target.unlink()
    with open(target, "wb") as out:
        shutil.copyfileobj(src, out, CHUNK)


# ---------------------------------------------------------------------------------------- done markers


def marker(folder: str | Path, step: str) -> Path:
    """The marker file `folder/.<step>.done`."""
    return Path(folder) / f".{step}.done"


def is_done(folder: str | Path, step: str) -> bool:
    return marker(folder, step).is_file()


def mark_done(folder: str | Path, step: str, info: str = "") -> Path:
    """Record that `step` finished (atomically); `info` is kept in the file for the curious."""
    path = marker(folder, step)
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_text(path, f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {info}".rstrip() + "\n")
    return path


# ----------------------------------------------------------------------------------------------- misc


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _bar(total: int | None, initial: int, desc: str, progress: bool) -> tqdm:
    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        disable=not progress,
        leave=False,
    )


def _note(message: str, progress: bool) -> None:
    if progress:
        print(message, file=sys.stderr)
