"""h5press: Markdown campaigns into offline-first H5 bundles."""

__version__ = "0.1.0"
