from gan.checkpoints import load_generator

__all__ = ["load_generator"]
