//! Every fuzz target over its seeds, its corpus directory and a fixed
//! number of mutations of each (deterministic), as `./scripts/test` runs
//! them: no input may panic, and every input counted ran.

use std::sync::atomic::{AtomicUsize, Ordering};

use cljit_fuzz::corpus::{Rng, TARGETS, corpus_files, mutate, seeds};
use cljit_fuzz::{CALLS, COMPILED, GENERATED, OPENED, REFUSED};

/// Mutations run per seed or corpus file.
const MUTATIONS: usize = 8;

fn run(name: &str) {
    let (_, target) = TARGETS.iter().find(|(n, _)| *n == name).expect("a target");
    let mut inputs = seeds(name);
    let seeded = inputs.len();
    for file in corpus_files(name) {
        inputs.push(std::fs::read(&file).unwrap());
    }
    let kept = inputs.len() - seeded;
    let mut rng = Rng::new(0x5eed);
    let mut ran = 0;
    for input in &inputs {
        target(input);
        ran += 1;
        for _ in 0..MUTATIONS {
            let mutated = mutate(input, &mut rng);
            target(&mutated);
            ran += 1;
        }
    }
    assert!(seeded > 0, "{name}: no seeds");
    assert_eq!(ran, inputs.len() * (MUTATIONS + 1));
    eprintln!("{name}: {seeded} seeds, {kept} corpus files, {ran} inputs run");
}

fn count(counter: &AtomicUsize) -> usize {
    counter.load(Ordering::Relaxed)
}

/// The two module targets run in one test, one after the other, so that
/// the counters tell each one's share: both must have generated, compiled
/// and called real modules, not only refused bytes.
#[test]
fn compile_and_instantiate() {
    run("compile");
    let (generated, compiled) = (count(&GENERATED), count(&COMPILED));
    eprintln!("compile: {generated} modules generated, {compiled} compiled");
    assert!(generated >= 100, "{generated}");
    assert!(compiled >= generated, "{compiled} < {generated}");
    run("instantiate");
    let generated = count(&GENERATED) - generated;
    let calls = count(&CALLS);
    eprintln!("instantiate: {generated} modules generated, {calls} calls");
    assert!(generated >= 100, "{generated}");
    assert!(2 * calls >= generated, "{calls} calls, {generated} modules");
}

/// Both outcomes must be common: paths that reach an entry inside (every
/// check ran) and paths the resolver refuses.
#[test]
fn wasi_paths() {
    run("wasi_paths");
    cljit_fuzz::remove_tree();
    let (opened, refused) = (count(&OPENED), count(&REFUSED));
    eprintln!("wasi_paths: {opened} opened inside, {refused} refused");
    assert!(opened >= 100, "{opened}");
    assert!(refused >= 100, "{refused}");
}
