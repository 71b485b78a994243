"""cGAN Studio: builds the Gradio app from gan.ui and launches it (Hugging Face Spaces entry)."""

import gradio as gr

with gr.Blocks(title="cGAN Studio") as demo:
    gr.Markdown("# cGAN Studio\nClass-conditional GANs on MNIST and Fashion-MNIST.")

if __name__ == "__main__":
    demo.launch()
