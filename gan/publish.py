"""Publish an export folder to the Hugging Face Hub and/or as a W&B `model` artifact.

    python -m gan.publish runs/<id>/export --hub you/cgan-mnist [--private]
    python -m gan.publish runs/<id>/export --wandb you/cgan-studio [--name generator-mnist] [--alias best]

The folder is checked first (it must load with `gan.load_generator`); its model card
(README.md: facts, metrics, samples.png) is re-rendered from card.json so the Hub page is current.
Either way the published thing loads back with `hf:you/cgan-mnist` or
`wandb:you/cgan-studio/generator-mnist:latest`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from gan.checkpoints import load_checkpoint
from gan.export import render_card

EXPORT_FILES = ["config.json", "model.safetensors", "card.json", "README.md", "samples.png"]


def prepare(folder: str | Path) -> dict:
    """Check that `folder` loads as a generator; refresh its README.md; return its card."""
    folder = Path(folder)
    card = load_checkpoint(folder).card
    if not card:
        raise SystemExit(f"{folder}: no card.json; export it with gan.export.export_generator")
    (folder / "README.md").write_text(render_card(card))
    return card


def push_to_hub(folder: str | Path, repo_id: str, private: bool = False) -> str:
    """Create (or reuse) the model repo and upload the export files; returns the commit URL."""
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
    commit = api.upload_folder(repo_id=repo_id, folder_path=str(folder), allow_patterns=EXPORT_FILES,
                               commit_message=f"Upload cGAN Studio generator from {Path(folder).name}")
    return str(commit)


def log_model_artifact(run, folder: str | Path, card: dict, aliases: list[str], name: str | None = None):
    """Log `folder` as a W&B `model` artifact of `run` (card facts as metadata, not the hparams)."""
    import wandb

    artifact = wandb.Artifact(name or f"generator-{run.id}", type="model",
                              metadata={k: v for k, v in card.items() if k != "hparams"})
    artifact.add_dir(str(folder))
    run.log_artifact(artifact, aliases=aliases)
    return artifact


def log_to_wandb(folder: str | Path, project: str, card: dict, name: str, aliases: list[str]) -> str:
    """A short `publish` run that logs the artifact; returns the `wandb:` reference to load it."""
    import wandb

    entity, _, project_name = project.rpartition("/")
    # WANDB_DIR read now: wandb's process-wide settings keep the first run's directory otherwise
    run = wandb.init(project=project_name, entity=entity or None, job_type="publish",
                     config=card.get("hparams") or {}, dir=os.environ.get("WANDB_DIR"))
    try:
        log_model_artifact(run, folder, card, aliases, name)
    finally:
        run.finish()
        wandb.teardown()  # wait for the service to write (offline) or upload everything
    return f"wandb:{entity or run.entity}/{project_name}/{name}:{aliases[0]}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="an export folder (config.json, model.safetensors, card.json)")
    parser.add_argument("--hub", metavar="OWNER/NAME", help="Hugging Face Hub model repo")
    parser.add_argument("--private", action="store_true", help="create the Hub repo as private")
    parser.add_argument("--wandb", metavar="[ENTITY/]PROJECT", help="W&B project for the artifact")
    parser.add_argument("--name", help="W&B artifact name (default generator-<dataset>)")
    parser.add_argument("--alias", action="append", help="W&B alias (repeatable; 'latest' is added)")
    args = parser.parse_args(argv)
    if not (args.hub or args.wandb):
        parser.error("nothing to do: give --hub and/or --wandb")
    card = prepare(args.folder)
    if args.hub:
        print(f"Hub: {push_to_hub(args.folder, args.hub, args.private)}  (load: hf:{args.hub})")
    if args.wandb:
        aliases = ["latest", *[a for a in args.alias or [] if a != "latest"]]
        name = args.name or f"generator-{card.get('dataset', 'gan')}"
        print(f"W&B: load with {log_to_wandb(args.folder, args.wandb, card, name, aliases)}")


if __name__ == "__main__":
    main()
