"""ekt-curate: verified program datasets for explicit knowledge transfer.

Kept import-free on purpose: the sandbox zygote imports this package, and
`ekt-curate verify --help` must not pay for anything heavy.
"""

__version__ = "0.1.0"
