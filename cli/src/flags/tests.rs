use super::*;

fn options(group: char, values: &[&str]) -> CommonOptions {
    let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    let mut o = CommonOptions::default();
    match group {
        'O' => o.optimize = values,
        'C' => o.codegen = values,
        'D' => o.debug = values,
        'W' => o.wasm = values,
        'S' => o.wasi = values,
        _ => unreachable!(),
    }
    o
}

fn error(group: char, values: &[&str]) -> String {
    format!("{:#}", options(group, values).parse().unwrap_err())
}

#[test]
fn byte_counts() {
    assert_eq!(parse_bytes("k", Some("4G")).unwrap(), 4 << 30);
    assert_eq!(parse_bytes("k", Some("0x10")).unwrap(), 16);
    assert_eq!(parse_bytes("k", Some("1_000")).unwrap(), 1000);
    assert!(parse_bytes("k", Some("x")).is_err());
    assert!(parse_bytes("k", None).is_err());
}

#[test]
fn options_build_a_config() {
    let opts = CommonOptions {
        wasm: vec![
            "bulk-memory=n,multi-value".into(),
            "max-wasm-stack=64K".into(),
        ],
        optimize: vec!["memory-reservation=0".into()],
        ..CommonOptions::default()
    };
    let config = opts.config().unwrap();
    assert!(!config.features().bulk_memory());
    assert_eq!(config.tunables().memory_reservation, 0);
    assert!(!config.tunables().consume_fuel);
}

#[test]
fn limits_parse_into_settings_and_store_limits() {
    let parsed = options(
        'W',
        &[
            "fuel=1_000,timeout=2s",
            "max-memory-size=1M,max-instances=3,trap-on-grow-failure",
        ],
    )
    .parse()
    .unwrap();
    assert_eq!(parsed.fuel, Some(1000));
    assert_eq!(parsed.timeout, Some(Duration::from_secs(2)));
    let config = parsed.config().unwrap();
    assert!(config.tunables().consume_fuel);
    assert!(config.tunables().epoch_interruption);
    assert!(parsed.store_limits().unwrap().is_some());
    assert!(
        options('W', &["fuel=5"])
            .parse()
            .unwrap()
            .store_limits()
            .unwrap()
            .is_none()
    );
}

#[test]
fn every_known_key_is_recognised() {
    // Each key of each group parses or is refused by name as unsupported;
    // none is unknown.
    for group in [
        Group::Optimize,
        Group::Codegen,
        Group::Debug,
        Group::Wasm,
        Group::Wasi,
    ] {
        for key in group.keys() {
            let value = match key.kind {
                Kind::Bool => "n",
                Kind::Integer | Kind::Bytes => "1",
                Kind::Duration => "1s",
                Kind::Text => match key.name {
                    "opt-level" => "2",
                    "regalloc-algorithm" => "backtracking",
                    "compiler" => "cranelift",
                    _ => "x",
                },
            };
            let item = format!("{}={value}", key.name);
            let result = options(group.letter(), &[&item]).parse();
            match key.support {
                Support::No => {
                    let e = format!("{:#}", result.unwrap_err());
                    assert!(e.contains("is not supported by cljit yet"), "{item}: {e}");
                }
                Support::Only(true) => {
                    let e = format!("{:#}", result.unwrap_err());
                    assert!(
                        e.contains(&format!(
                            "`-{} {}=n` is not supported",
                            group.letter(),
                            key.name
                        )),
                        "{e}"
                    );
                    let item = format!("{}=y", key.name);
                    options(group.letter(), &[&item]).parse().unwrap();
                }
                _ => {
                    result.unwrap_or_else(|e| panic!("-{} {item}: {e:#}", group.letter()));
                }
            }
        }
    }
}

#[test]
fn unknown_keys_list_the_known_ones() {
    let e = error('W', &["warp-drive=y"]);
    assert!(e.contains("unknown option `-W warp-drive`"), "{e}");
    assert!(e.contains("fuel, epoch-interruption"), "{e}");
    assert!(e.contains("`-W help`"), "{e}");
    let e = error('S', &["teleport"]);
    assert!(e.contains("the known `-S` options are: cli,"), "{e}");
}

#[test]
fn wrong_kinds_say_what_the_key_expects() {
    for (group, item, needle) in [
        (
            'W',
            "fuel=lots",
            "invalid value `lots` for `-W fuel`: expected an integer",
        ),
        ('W', "fuel", "`-W fuel` needs a value: an integer"),
        ('W', "timeout=soon", "expected a duration such as 10s"),
        ('W', "max-memory-size=big", "expected a byte count"),
        (
            'W',
            "simd=maybe",
            "invalid value `maybe` for `-W simd`: expected y or n",
        ),
        ('O', "opt-level=9", "expected 0, 1, 2 or s"),
        ('C', "compiler=gcc", "expected cranelift or winch"),
    ] {
        let e = error(group, &[item]);
        assert!(e.contains(needle), "{item}: {e}");
    }
}

#[test]
fn unsupported_proposals_and_values_are_refused_by_name() {
    let e = error('W', &["stack-switching=y"]);
    assert!(
        e.contains(
            "`-W stack-switching=y`: the stack-switching proposal is not supported by cljit yet"
        ),
        "{e}"
    );
    options(
        'W',
        &["threads=n,gc=n,exceptions=n,component-model-async=n"],
    )
    .parse()
    .unwrap();
    let e = error('W', &["all-proposals=y"]);
    let missing: Vec<&str> = e.rsplit(": ").next().unwrap().split(", ").collect();
    assert!(missing.contains(&"stack-switching"), "{e}");
    assert!(!missing.contains(&"threads"), "{e}");
    assert!(
        !missing.contains(&"memory64")
            && !missing.contains(&"exceptions")
            && !missing.contains(&"gc"),
        "{e}"
    );
    let e = error('O', &["pooling-allocator=y"]);
    assert!(
        e.contains("`-O pooling-allocator=y` is not supported by cljit yet"),
        "{e}"
    );
    let e = error('C', &["cranelift-opt-level=none"]);
    assert!(
        e.contains("`-C cranelift-opt-level` is not supported by cljit yet"),
        "{e}"
    );
    let e = error('C', &["compiler=winch"]);
    assert!(
        e.contains("`-C compiler=winch` is not supported by cljit yet"),
        "{e}"
    );
}

#[test]
fn all_proposals_off_turns_off_what_wasmtime_does() {
    let config = options('W', &["all-proposals=n,simd=y"]).config().unwrap();
    assert!(config.features().simd());
    assert!(!config.features().bulk_memory());
    assert!(config.features().mutable_global());
}

#[test]
fn help_lists_every_key_with_its_support() {
    let parsed = options('W', &["help"]).parse().unwrap();
    assert_eq!(parsed.help, vec![Group::Wasm]);
    let text = CommonOptions::help_text(&parsed.help);
    assert!(text.starts_with("-W options"), "{text}");
    for key in keys::WASM {
        assert!(text.contains(key.name), "{}", key.name);
    }
    assert!(text.contains("threads[=y|n]"), "{text}");
    assert!(text.contains("[not supported yet: n only]"), "{text}");
}

#[test]
fn help_is_found_before_the_module_only() {
    let args = |line: &str| -> Vec<std::ffi::OsString> {
        std::iter::once("cljit")
            .chain(line.split(' '))
            .map(Into::into)
            .collect()
    };
    assert_eq!(help_request(&args("run -W help")), vec![Group::Wasm]);
    assert_eq!(help_request(&args("run -Whelp")), vec![Group::Wasm]);
    assert_eq!(
        help_request(&args("compile --optimize=help")),
        vec![Group::Optimize]
    );
    assert_eq!(
        help_request(&args("run -S inherit-env,help -C help app.wasm")),
        vec![Group::Wasi, Group::Codegen]
    );
    assert_eq!(help_request(&args("run --dir -W app.wasm -W help")), vec![]);
    assert_eq!(help_request(&args("run app.wasm -W help")), vec![]);
    assert_eq!(help_request(&args("run -W fuel=1 app.wasm")), vec![]);
}

#[test]
fn memory_init_cow_is_switchable() {
    for (value, expected) in [("y", Some(true)), ("n", Some(false))] {
        let parsed = options('O', &[&format!("memory-init-cow={value}")])
            .parse()
            .unwrap();
        assert_eq!(parsed.memory_init_cow, expected);
    }
    assert_eq!(options('O', &[]).parse().unwrap().memory_init_cow, None);
}
