//! Being built: see the README for what works today.
