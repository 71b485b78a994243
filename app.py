"""cGAN Studio: builds the Gradio app from gan.ui and launches it (Hugging Face Spaces entry).

Honours GRADIO_SERVER_NAME / GRADIO_SERVER_PORT; the default generator is the bundled one, so
nothing is downloaded.
"""

import torch

from gan.ui import build_app

# One small image per request: extra intra-op threads cost more in hand-off than they save
# (measured 1.6 ms vs 11 ms for the conv generator on a busy 2-core machine).
torch.set_num_threads(1)

demo = build_app()

if __name__ == "__main__":
    demo.launch()
