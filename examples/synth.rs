//! Writes a synthetic flinkops repository for benchmarks: N pipelines with mixed autoscaling
//! modes, half of them on schedules in mixed zones and strategies, three overlays with patches.
//!
//! `cargo run --release --example synth -- N DIR`

#[path = "../benches/synth.rs"]
mod synth;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).expect("usage: synth N DIR");
    let dir = std::path::PathBuf::from(args.next().expect("usage: synth N DIR"));
    synth::write_repo(&dir, n).expect("cannot write the synthetic repository");
    eprintln!("wrote a synthetic repository with {n} pipelines to {}", dir.display());
}
