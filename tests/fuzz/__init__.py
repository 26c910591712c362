"""Property tests (hypothesis) and API fuzzing (schemathesis), bounded for CI; bench/fuzz.sh runs them long."""
