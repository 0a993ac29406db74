//! The embedded directory (in progress).
#![allow(dead_code)]
mod log;
