""""Is it copying?": the training images nearest to the image on screen (gan.nearest)."""

from __future__ import annotations

import gradio as gr

from gan import checkpoints, nearest, sampling
from gan.card_text import plain
from gan.images import to_pil
from gan.recipe import Recipe


def nearest_images(ckpt: checkpoints.Checkpoint, controls: dict, progress) -> tuple[list, str]:
    """Gallery items (image, caption) and a verdict for the view's first image."""
    recipe = Recipe.from_controls(ckpt.source, controls).filled(ckpt.generator)
    dataset = ckpt.card.get("dataset")
    if not nearest.has_judge(dataset):
        return [], (f"No judge for this generator's dataset ({plain(dataset or 'not named in its card')}), "
                    "so there is no feature space to compare it with real images in.")
    images, _ = sampling.sample(ckpt.generator, recipe.view(ckpt.generator))
    match = nearest.find(dataset, images[0], progress=lambda f: progress(f, desc="Indexing the training set (once)"))
    gallery = [(to_pil(img, scale=3), f"#{i}: {d:.2f}")
               for img, i, d in zip(match.images, match.indices, match.distances)]
    low, median, high = match.typical
    what = f"class {recipe.label}, seed {recipe.seed}" + ("" if recipe.layout == sampling.LAYOUTS[0]
                                                          else " (the grid's first image)")
    text = (f"**For {what}.** Nearest training image at distance **{match.distances[0]:.2f}** in the "
            f"judge's feature space: {nearest.verdict(match.distances[0], match.typical)}. Real "
            f"{dataset} images are typically {median:.2f} from their nearest neighbour (5-95%: "
            f"{low:.2f}-{high:.2f}).")
    return gallery, text


def build_nearest() -> tuple[gr.Button, gr.Gallery, gr.Markdown]:
    with gr.Accordion("Is it copying? The 8 nearest training images", open=True):
        with gr.Row():
            find = gr.Button("Find the nearest training images", scale=1, elem_id="find-nearest")
            text = gr.Markdown("Compares the image on screen with every training image, in the "
                               "judge classifier's feature space.", elem_id="nearest-text")
        gallery = gr.Gallery(label="Nearest training images (training-set index: distance)", columns=8, height=170,
                             object_fit="contain", elem_id="nearest", allow_preview=False)
    return find, gallery, text
