"""cGAN Studio: builds the Gradio app from gan.ui and launches it (Hugging Face Spaces entry)."""

from gan.ui import build_app

demo = build_app()

if __name__ == "__main__":
    demo.launch()
