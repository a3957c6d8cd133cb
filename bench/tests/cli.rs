//! `headway-bench` as a person runs it: a run without a Headway binary to measure stops at once
//! and says what to build. (Being an integration test, it also builds `headway-bench` with the
//! tests' features, where `make bench-smoke` finds it.)

use std::process::Command;

#[test]
fn a_run_without_a_headway_binary_says_what_to_build() {
    let missing = std::env::temp_dir().join("no-such-headway-binary");
    let out = Command::new(env!("CARGO_BIN_EXE_headway-bench"))
        .args(["run", "--smoke", "--only", "fanout", "--bin"])
        .arg(&missing)
        .output()
        .expect("headway-bench runs");
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("no Headway binary at") && said.contains("no-such-headway-binary"),
        "{said}"
    );
}
