//! Jobs simulated per second (pending the miners experiment).
fn main() {}
