"""Serving a built site: the static server that applies `_headers` (used by `h5press check` and
the tests) and `h5press serve`, the development server that rebuilds on every save."""
