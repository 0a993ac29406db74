//! Directory.
