//! Runnable examples of Heracles live in `examples/`; this library is empty.
