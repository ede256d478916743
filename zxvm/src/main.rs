//! zxvm
#![allow(dead_code)]
mod calls;
mod consts;
mod fmt;
mod info;
mod maps;
mod script;
mod session;
mod status;
fn main() {}
