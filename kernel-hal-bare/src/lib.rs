//! Being built: see the README for what works today.

#![no_std]
