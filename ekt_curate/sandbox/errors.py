"""Errors the sandbox raises to its callers (the CLI turns them into one line)."""


class SandboxError(Exception):
    """The sandbox could not do its job (a layer is missing, a zygote died)."""


class PolicyError(SandboxError):
    """A policy file is missing, malformed, or has unknown keys or bad values."""


class LayerUnavailable(SandboxError):
    """A required isolation layer cannot be installed on this machine: fail closed."""
