"""Remote references (`hf:`, `wandb:`) to a local export folder: who pays with which token,
how big a fetch may be, how long it may take, and how often a reference is asked again.

- Tokens: in local mode the app's own (`HF_TOKEN`, `WANDB_API_KEY`) serve every reference. In
  public mode a reference a visitor typed is fetched anonymously (`token=False` for the Hub; a
  `wandb:` one fails, W&B needs a key); references matching `GAN_TRUSTED_SOURCES`
  (comma-separated `fnmatch` patterns such as `hf:my-org/*`) are fetched with the token.
- Size: the files a fetch needs are summed from the Hub's file metadata or the W&B manifest
  and refused above `gan.limits.max_download_bytes()` before a weight file is requested; from
  the Hub, config.json is fetched and vetted (gan.generator_check) before the weights are.
- Time: one fetch gets `gan.limits.fetch_timeout_s()`; after that the caller gets an error (the
  worker thread finishes or fails on its own, off the request).
- Re-asking: a reference is asked again at most every `gan.limits.REASK_S` seconds; in between
  the last answer (folder or error) stands. `fetch=False` never touches the network: only what
  this process fetched already.
"""

from __future__ import annotations

import fnmatch
import os
import re
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gan.generator_check import LoadRefused, planned_tensors, read_config
from gan.limits import REASK_S, fetch_timeout_s, max_download_bytes, public_mode

CACHE_DIR = Path(os.environ.get("GAN_CACHE_DIR", Path.home() / ".cache" / "cgan-studio"))
NEEDED, OPTIONAL = ("config.json", "model.safetensors"), ("card.json",)
HF_REPO_RE = re.compile(r"[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}")
HF_REVISION_RE = re.compile(r"[\w.-][\w./-]{0,127}")
WANDB_RE = re.compile(r"[\w.-]{1,128}/[\w.-]{1,128}/[\w.-]{1,128}:[\w.-]{1,128}")
REMEMBERED = 512  # references whose last answer is kept


class FetchError(RuntimeError):
    """A remote reference cannot be fetched; the message says why and what to do."""


def trusted(text: str) -> bool:
    """Does the owner vouch for this reference (`GAN_TRUSTED_SOURCES`)?"""
    patterns = [p.strip() for p in os.environ.get("GAN_TRUSTED_SOURCES", "").split(",") if p.strip()]
    return any(fnmatch.fnmatchcase(text, p) for p in patterns)


def with_token(text: str) -> bool:
    return not public_mode() or trusted(text)


# ---------------------------------------------------------------- Hugging Face Hub


def parse_hf(ref: str) -> tuple[str, str | None]:
    repo_id, _, revision = ref.partition("@")
    bad = ".." in ref or not HF_REPO_RE.fullmatch(repo_id) or (
        revision and not HF_REVISION_RE.fullmatch(revision))
    if bad:
        raise FetchError("not a Hub reference; expected hf:<owner>/<repo>[@revision]")
    return repo_id, revision or None


def planned_files(sizes: dict[str, int | None]) -> list[str]:
    """The files to download, given the repo's file sizes; refused before any download."""
    if not all(name in sizes for name in NEEDED):
        raise FetchError("not an export folder: the repo has no config.json + model.safetensors")
    wanted = [*NEEDED, *(name for name in OPTIONAL if name in sizes)]
    if any(sizes[name] is None for name in wanted):
        raise FetchError("the Hub did not say how large its files are; refusing to download blind")
    total = sum(sizes[name] for name in wanted)
    if total > max_download_bytes():
        raise FetchError(f"{total / 2**20:,.0f} MB to download; at most "
                         f"{max_download_bytes() / 2**20:,.0f} MB here (GAN_MAX_DOWNLOAD_MB)")
    return wanted


def hf_folder(ref: str, token: bool | None) -> Path:
    """The snapshot folder of `hf:<ref>` (token None: the app's, False: anonymous)."""
    from huggingface_hub import HfApi, constants, hf_hub_download

    repo_id, revision = parse_hf(ref)
    if constants.HF_HUB_OFFLINE:  # only what the cache holds; it was size-checked when fetched
        return Path(hf_hub_download(repo_id, NEEDED[0], revision=revision, token=token)).parent
    info = HfApi().model_info(repo_id, revision=revision, files_metadata=True, token=token,
                              timeout=fetch_timeout_s())
    wanted = planned_files({s.rfilename: s.size for s in info.siblings or []})
    config = Path(hf_hub_download(repo_id, wanted[0], revision=info.sha, token=token))
    planned_tensors(read_config(config))  # a hostile config.json stops here, weights not fetched
    for name in wanted[1:]:
        hf_hub_download(repo_id, name, revision=info.sha, token=token)
    return config.parent


# ---------------------------------------------------------------- Weights & Biases


def wandb_folder(ref: str) -> Path:
    """The downloaded artifact folder of `wandb:<entity>/<project>/<artifact>:<alias>`."""
    if ".." in ref or not WANDB_RE.fullmatch(ref):
        raise FetchError("expected wandb:<entity>/<project>/<artifact>:<alias>")
    if not with_token(f"wandb:{ref}"):
        raise FetchError("W&B needs an API key, and this Space fetches visitors' references without "
                         "its owner's; publish the generator on the Hub (hf:...) or ask the owner to "
                         "add it to GAN_TRUSTED_SOURCES")
    import wandb

    artifact = wandb.Api(timeout=int(fetch_timeout_s())).artifact(ref, type="model")
    total = sum(entry.size or 0 for entry in artifact.manifest.entries.values())
    if total > max_download_bytes():
        raise FetchError(f"the artifact holds {total / 2**20:,.0f} MB; at most "
                         f"{max_download_bytes() / 2**20:,.0f} MB here (GAN_MAX_DOWNLOAD_MB)")
    entity, project, _ = ref.split("/")
    return Path(artifact.download(root=str(CACHE_DIR / "wandb" / entity / project / artifact.name)))


# ---------------------------------------------------------------- one fetch, timed and remembered


def _timed_out() -> str:
    return f"no answer within {fetch_timeout_s():g} s (GAN_FETCH_TIMEOUT); try again in a minute"


def why(e: Exception) -> str:
    """A short message for a client's failure, without its server's response text."""
    name = type(e).__name__
    if isinstance(e, (FetchError, LoadRefused)):
        return str(e)
    # the client's own timeout (httpx/requests, same limit) can fire before the pool's: one message
    if any("Timeout" in cls.__name__ for cls in type(e).__mro__):
        return _timed_out()
    if name in ("RepositoryNotFoundError", "GatedRepoError", "DisabledRepoError"):
        return "repository not found on the Hugging Face Hub (or it is private or gated)"
    if name == "RevisionNotFoundError":
        return "revision not found in the repository"
    if name in ("LocalEntryNotFoundError", "OfflineModeIsEnabled") or isinstance(
            e, ConnectionError):
        return "not reachable and not in the local cache (no network?)"
    first = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
    if public_mode() or not first:
        return f"the remote refused it ({name}); check the reference and try again"
    return f"{first} ({name})"


_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="fetch")
_LOCK = threading.Lock()
# reference -> (when last asked, its folder if it ever loaded, the last error or None)
_SEEN: OrderedDict[str, tuple[float, Path | None, str | None]] = OrderedDict()


def _fetch(text: str) -> Path:
    if text.startswith("hf:"):
        return hf_folder(text[3:], None if with_token(text) else False)
    return wandb_folder(text[6:])


def _timed(text: str) -> Path:
    future = _POOL.submit(_fetch, text)
    try:
        return future.result(timeout=fetch_timeout_s())
    except TimeoutError:
        raise FetchError(_timed_out()) from None


def _remember(text: str, folder: Path | None, error: str | None) -> None:
    with _LOCK:
        old = _SEEN.pop(text, None)
        _SEEN[text] = (time.monotonic(), folder or (old[1] if old else None), error)
        while len(_SEEN) > REMEMBERED:
            _SEEN.popitem(last=False)


def remote_folder(text: str, fetch: bool = True, refresh: bool = False) -> Path:
    """Local folder for a `hf:`/`wandb:` reference.

    Args:
        fetch: False: only a folder this process fetched before, else FetchError "load it first".
        refresh: ask the remote again (a moved alias), unless it was asked less than REASK_S ago.
    """
    with _LOCK:
        when, folder, error = _SEEN.get(text, (None, None, None))
    if not fetch:
        if folder is None:
            raise FetchError("not loaded yet: load it first (the Load button or /load_checkpoint); "
                             "generating never downloads")
        return folder
    recent = when is not None and time.monotonic() - when < REASK_S
    if recent or (folder is not None and not refresh):
        if error and recent:
            raise FetchError(f"{error} (asked less than {REASK_S:g} s ago; try again later)")
        if folder is not None:
            return folder
    try:
        folder = _timed(text)
    except Exception as e:  # noqa: BLE001 - every client's failure becomes one clear message
        _remember(text, None, why(e))
        raise FetchError(why(e)) from e
    _remember(text, folder, None)
    return folder
