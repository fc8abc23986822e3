"""What makes a repeated build cheap and exact: the build cache and its salt, the whole-build
fingerprint, and the state `serve` keeps between saves."""
