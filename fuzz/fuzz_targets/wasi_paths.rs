//! The `wasi_paths` target (see the crate's documentation): a libFuzzer binary
//! under `cargo fuzz`, otherwise a plain binary running the target over
//! the files and directories it is given.
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| cljit_fuzz::wasi_paths(data));

#[cfg(not(fuzzing))]
fn main() -> std::process::ExitCode {
    cljit_fuzz::corpus::main("wasi_paths", cljit_fuzz::wasi_paths)
}
