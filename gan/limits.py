"""The app's two modes and every limit, in one place the core and the UI both consult.

Local mode (the default) is the user's own machine: any local path loads, every run is
visible, the owner's tokens serve every reference. Public mode (`SPACE_ID` set, or
`GAN_PUBLIC=1`) treats every visitor as a stranger: see gan.checkpoints (what may be loaded),
gan.fetch (tokens, sizes, timeouts) and gan.runs (runs belong to the session that started them).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

# ---------------------------------------------------------------- mode


def public_mode() -> bool:
    """Every visitor is a stranger: on a Hugging Face Space (`SPACE_ID`) or with `GAN_PUBLIC=1`."""
    return bool(os.environ.get("SPACE_ID")) or os.environ.get("GAN_PUBLIC") == "1"


def mode_line() -> str:
    """One line for the page header: which mode, and what that means for a visitor."""
    if public_mode():
        return ("**Public mode**: bundled generators, your own runs and public Hub repos load here; "
                "runs are visible only to the browser that started them.")
    return "**Local mode**: any local checkpoint loads, and every run in the runs folder is visible."


def _env_number(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default


# ---------------------------------------------------------------- loading a generator


@dataclass(frozen=True)
class LoadLimits:
    """What a config.json may ask for before anything is allocated (checked in both modes)."""

    latent_dim: int = 1024
    classes: int = 1000
    channels: tuple[int, ...] = (1, 3)
    side: tuple[int, int] = (8, 256)  # min and max image height / width
    width: int = 512
    params: int = 50_000_000  # estimated from the config on the meta device
    class_name_chars: int = 64
    config_bytes: int = 64 * 1024  # config.json
    card_bytes: int = 256 * 1024  # card.json; a larger card is ignored
    header_bytes: int = 1024 * 1024  # safetensors JSON header
    tensors: int = 4096  # entries in the safetensors header


LOAD = LoadLimits()
REASK_S = 60.0  # a remote reference is asked again at most once a minute
SHOWN_CHARS = 200  # a source or value echoed in a message is cut to this


def max_download_bytes() -> int:
    """Size cap of one remote fetch, checked before downloading (`GAN_MAX_DOWNLOAD_MB`, 200)."""
    return int(_env_number("GAN_MAX_DOWNLOAD_MB", 200) * 1024 * 1024)


def fetch_timeout_s() -> float:
    """Seconds one remote fetch may take (`GAN_FETCH_TIMEOUT`, 60)."""
    return _env_number("GAN_FETCH_TIMEOUT", 60)


def shown(value, chars: int = SHOWN_CHARS) -> str:
    """`value` as text for a message, cut to `chars` characters (a 3 MB source is not echoed)."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= chars else text[:chars] + "…"


# ---------------------------------------------------------------- sampling

MAX_CLASS_ROWS = 20  # "one row per class" shows at most this many classes
# elements (float32: 4 bytes each) the layer outputs of one generator call may add up to; a view
# of more images is generated in chunks (gan.sampling.images_per_call)
ACTIVATION_BUDGET = 64 * 2**20


# ---------------------------------------------------------------- runs

OVERRIDES_BYTES, OVERRIDES_LINES = 4096, 20
STOP_GRACE_S, TERM_GRACE_S, KILL_WAIT_S = 60.0, 15.0, 5.0  # STOP file, then SIGTERM, then SIGKILL
# Words that mark an environment variable or config key as a secret: never logged, and never
# handed to a trainer a visitor started.
SECRET_WORDS = ("key", "token", "secret", "password")


@dataclass(frozen=True)
class Limits:
    """Upper bounds on what one run may ask for (tighter in public mode)."""

    epochs: int = 1000
    batch_size: int = 4096
    limit_batches: int | None = None  # None: no forced cap on batches per epoch
    max_running: int | None = None  # None: $GAN_MAX_RUNS decides
    # advanced override key -> a lower maximum than gan.run_params.ADVANCED allows
    caps: dict = field(default_factory=dict)
    forbidden: tuple[str, ...] = ()  # advanced override keys refused here


PUBLIC_RUN_LIMITS = Limits(epochs=3, batch_size=128, limit_batches=200, max_running=1,
                           caps={"model.g_width": 64, "model.d_width": 64, "model.latent_dim": 128},
                           forbidden=("ckpt_path",))


def run_limits() -> Limits | None:
    """Limits for a new run here; None where training is off (public mode without
    `GAN_SPACE_TRAINING=1`)."""
    if not public_mode():
        return Limits()
    if os.environ.get("GAN_SPACE_TRAINING") != "1":
        return None
    return PUBLIC_RUN_LIMITS


def keep_runs() -> int:
    """Finished runs kept on disk (`GAN_KEEP_RUNS`; 20 local, 3 public); older ones are deleted
    when a run starts."""
    return int(_env_number("GAN_KEEP_RUNS", 3 if public_mode() else 20))


# ---------------------------------------------------------------- image folders and uploads

MB = 1 << 20


@dataclass(frozen=True)
class FolderLimits:
    """Caps on what one image folder or zip may hold; checked before anything is decoded."""

    max_entries: int  # files (zip members) listed
    max_total_bytes: int  # their size in all, uncompressed
    max_file_bytes: int  # one file, uncompressed
    max_images: int
    max_classes: int
    max_zip_bytes: int | None = None  # the .zip file itself


LOCAL_LIMITS = FolderLimits(max_entries=2_000_000, max_total_bytes=64 << 30, max_file_bytes=256 * MB,
                            max_images=1_000_000, max_classes=10_000)
# A zip uploaded in the Train tab (also on a public Space).
UPLOAD_LIMITS = FolderLimits(max_entries=70_000, max_total_bytes=1 << 30, max_file_bytes=32 * MB,
                             max_images=60_000, max_classes=100, max_zip_bytes=100 * MB)
FOLDER_LIMITS = {"local": LOCAL_LIMITS, "upload": UPLOAD_LIMITS}  # data.limits=<name> (gan.image_folder)


# ---------------------------------------------------------------- per-call files

GIF_FILES, GIF_BYTES = 64, 64 * 2**20  # /interpolate's GIF folder keeps at most this much
# /generate's PNG folder (each PNG carries its recipe): many small files, a page needs the newest
PNG_FILES, PNG_BYTES = 1024, 64 * 2**20
# Gradio's own cache (PNGs of /generate, ...): every CACHE_SWEEP_S, files older than CACHE_AGE_S go
CACHE_SWEEP_S, CACHE_AGE_S = 300, 900
