"""cGAN Studio: class-conditional GANs. `gan.load_generator(source)` loads any generator source."""

__all__ = ["load_generator"]


def __getattr__(name: str):
    # lazy, so `python -m gan.<module>` does not import gan.checkpoints (and its imports) first
    if name == "load_generator":
        from gan.checkpoints import load_generator

        return load_generator
    raise AttributeError(f"module 'gan' has no attribute {name!r}")
