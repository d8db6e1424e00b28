//! The transparent compile cache of `cljit run`, and `cljit cache`.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use crate::support::*;
use crate::{cache_command, entries, load_kind, numbered_module, run_cached};

/// Runs the `echo` program through the cache and checks its output.
fn run_echo(cache: &Path) -> String {
    let o = run_cached(cache, &[program("echo").to_str().unwrap(), "hi"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("argv[0]=echo.wasm\nargv[1]=hi\n"),
        "{}",
        stdout(&o)
    );
    load_kind(&o)
}

#[test]
fn a_second_run_hits_and_stats_count_it() {
    let dir = TempDir::new("cache-hit");
    let cache = dir.path().join("cache");
    assert_eq!(run_echo(&cache), "miss");
    assert_eq!(run_echo(&cache), "hit");
    assert_eq!(run_echo(&cache), "hit");
    assert_eq!(entries(&cache).len(), 1);

    // The key is private to the user; so are the entries.
    let uid = std::fs::metadata(&cache).map(|m| {
        use std::os::unix::fs::MetadataExt as _;
        m.uid()
    });
    let key = cache.join(format!("key-{}", uid.unwrap()));
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(std::fs::metadata(&key).unwrap().len(), 32);
    let entry_mode = std::fs::metadata(&entries(&cache)[0])
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(entry_mode & 0o077, 0);

    let stats = cache_command(&cache, &["stats"]);
    assert!(stats.contains("entries:   1\n"), "{stats}");
    assert!(stats.contains("hits:      2\n"), "{stats}");
    assert!(stats.contains("misses:    1\n"), "{stats}");
    assert!(
        stats.contains("limit:     1073741824 (1.0 GiB)\n"),
        "{stats}"
    );
    let size = std::fs::metadata(&entries(&cache)[0]).unwrap().len();
    assert!(stats.contains(&format!("bytes:     {size} ")), "{stats}");

    // Other settings are another entry, not a refusal.
    let o = run_cached(
        &cache,
        &[
            "-O",
            "memory-reservation=0",
            program("echo").to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(load_kind(&o), "miss");
    assert_eq!(entries(&cache).len(), 2);

    // --no-cache neither reads nor writes.
    let o = run_cached(&cache, &["--no-cache", program("echo").to_str().unwrap()]);
    assert_eq!(load_kind(&o), "off");
    assert!(cache_command(&cache, &["stats"]).contains("hits:      2\n"));

    assert_eq!(cache_command(&cache, &["clear"]), "removed 2 entries\n");
    assert!(entries(&cache).is_empty());
    assert_eq!(run_echo(&cache), "miss");
}

#[test]
fn any_bad_entry_is_a_miss_then_rewritten() {
    let dir = TempDir::new("cache-bad");
    let cache = dir.path().join("cache");
    assert_eq!(run_echo(&cache), "miss");
    let entry = entries(&cache).remove(0);
    let good = std::fs::read(&entry).unwrap();

    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("truncated", good[..good.len() - 1].to_vec()),
        ("prefix only", good[..30].to_vec()),
        ("garbage", b"not an artifact at all".to_vec()),
    ];
    let mut flip = |name, at: usize| {
        let mut b = good.clone();
        b[at] ^= 0x01;
        cases.push((name, b));
    };
    flip("payload byte", good.len() - 50);
    flip("magic", 0);
    flip("format version", 8);
    flip("signature", 20);
    flip("header byte", 60);
    for (name, bytes) in cases {
        std::fs::write(&entry, &bytes).unwrap();
        assert_eq!(run_echo(&cache), "miss", "{name}");
        assert_eq!(
            std::fs::read(&entry).unwrap(),
            good,
            "{name}: not rewritten"
        );
        assert_eq!(run_echo(&cache), "hit", "{name}");
    }
    // A directory where the entry should be: a miss, and the run goes on.
    std::fs::remove_file(&entry).unwrap();
    std::fs::create_dir(&entry).unwrap();
    assert_eq!(run_echo(&cache), "miss");
    assert_eq!(run_echo(&cache), "miss");
}

#[test]
fn an_entry_signed_with_another_key_is_a_miss() {
    let dir = TempDir::new("cache-key");
    let (ours, theirs) = (dir.path().join("ours"), dir.path().join("theirs"));
    assert_eq!(run_echo(&theirs), "miss");
    assert_eq!(run_echo(&ours), "miss");
    // Plant their (valid, but differently signed) entry in our cache.
    let planted = entries(&theirs).remove(0);
    let target = entries(&ours).remove(0);
    assert_eq!(planted.file_name(), target.file_name(), "same key");
    let their_bytes = std::fs::read(&planted).unwrap();
    assert_ne!(std::fs::read(&target).unwrap(), their_bytes);
    std::fs::copy(&planted, &target).unwrap();
    assert_eq!(run_echo(&ours), "miss");
    assert_ne!(std::fs::read(&target).unwrap(), their_bytes, "replaced");
    assert_eq!(run_echo(&ours), "hit");

    // verify removes a planted entry.
    std::fs::copy(&planted, &target).unwrap();
    let report = cache_command(&ours, &["verify"]);
    assert!(report.contains("signature does not verify"), "{report}");
    assert!(report.ends_with("0 valid, 1 removed\n"), "{report}");
    assert!(entries(&ours).is_empty());
}

#[test]
fn a_key_others_can_read_disables_the_cache_but_not_the_run() {
    let dir = TempDir::new("cache-perm");
    let cache = dir.path().join("cache");
    assert_eq!(run_echo(&cache), "miss");
    let key = std::fs::read_dir(&cache)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("key-"))
        .unwrap()
        .path();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(run_echo(&cache), "miss");
    assert_eq!(run_echo(&cache), "miss");
    let o = cljit()
        .args(["cache", "verify", "--cache-dir"])
        .arg(&cache)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("is not private to this user"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn an_unwritable_cache_directory_still_runs_the_program() {
    let dir = TempDir::new("cache-ro");
    // A path beneath a regular file can never be created, even by root.
    let file = dir.path().join("file");
    std::fs::write(&file, b"").unwrap();
    let cache = file.join("cache");
    assert_eq!(run_echo(&cache), "miss");
    assert_eq!(run_echo(&cache), "miss");

    // A read-only directory with a key but no room for entries.
    let ro = dir.path().join("ro");
    assert_eq!(run_echo(&ro), "miss");
    std::fs::remove_dir_all(ro.join("modules")).unwrap();
    std::fs::write(ro.join("modules"), b"in the way").unwrap();
    assert_eq!(run_echo(&ro), "miss");
    assert_eq!(run_echo(&ro), "miss");
}

#[test]
fn concurrent_fills_of_one_entry_all_succeed() {
    let dir = TempDir::new("cache-race");
    let cache = dir.path().join("cache");
    for round in 0..3 {
        let children: Vec<_> = (0..4)
            .map(|_| {
                cljit()
                    .env("CLJIT_CACHE_DIR", &cache)
                    .args(["run", program("echo").to_str().unwrap(), "hi"])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let o = child.wait_with_output().unwrap();
            assert_eq!(o.status.code(), Some(0), "round {round}: {}", stderr(&o));
            assert!(stdout(&o).contains("argv[1]=hi\n"));
        }
        let report = cache_command(&cache, &["verify"]);
        assert_eq!(report, "1 valid, 0 removed\n", "round {round}");
        // No temporary files are left behind.
        let names: Vec<_> = std::fs::read_dir(cache.join("modules"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        if round == 1 {
            cache_command(&cache, &["clear"]);
        }
    }
    // Every process found the key the first one made.
    let keys = std::fs::read_dir(&cache)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("key"))
        .count();
    assert_eq!(keys, 1);
}

#[test]
fn eviction_keeps_the_directory_under_its_limit_least_recently_used_first() {
    let dir = TempDir::new("cache-evict");
    let cache = dir.path().join("cache");
    let modules: Vec<_> = (0..6).map(|n| numbered_module(dir.path(), n)).collect();
    let run_module = |n: usize, limit: &str| {
        let o = run_cached(
            &cache,
            &["--cache-limit", limit, modules[n].to_str().unwrap()],
        );
        assert_eq!(stdout(&o), format!("{n}\n"), "{}", stderr(&o));
        load_kind(&o)
    };
    assert_eq!(run_module(0, "1G"), "miss");
    let size = std::fs::metadata(&entries(&cache)[0]).unwrap().len();
    // Room for three entries (they differ by a few bytes at most).
    let limit = (size * 3 + size / 2).to_string();
    for n in 1..3 {
        assert_eq!(run_module(n, &limit), "miss");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(run_module(0, &limit), "hit"); // 0 is now the most recent
    std::thread::sleep(std::time::Duration::from_millis(20));
    for n in 3..6 {
        assert_eq!(run_module(n, &limit), "miss");
        std::thread::sleep(std::time::Duration::from_millis(20));
        let total: u64 = entries(&cache)
            .iter()
            .map(|e| std::fs::metadata(e).unwrap().len())
            .sum();
        assert!(
            total <= size * 3 + size / 2,
            "{total} bytes after module {n}"
        );
        assert_eq!(entries(&cache).len(), 3);
    }
    // 0 outlived 1 and 2, added before it was used again, until 3, 4, 5
    // pushed it out in turn.
    assert_eq!(run_module(5, &limit), "hit");
    assert_eq!(run_module(4, &limit), "hit");
    assert_eq!(run_module(1, &limit), "miss");

    // CLJIT_CACHE_LIMIT sets the limit too; an entry larger than the limit
    // is not stored.
    let o = cljit()
        .env("CLJIT_CACHE_DIR", &cache)
        .env("CLJIT_CACHE_LIMIT", "100")
        .env("CLJIT_TIMINGS", "1")
        .args(["run", modules[2].to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(load_kind(&o), "miss");
    assert!(cache_command(&cache, &["stats", "--cache-limit", "100"]).contains("limit:     100\n"));
    assert_eq!(run_module(2, "100"), "miss");
}

#[test]
fn cache_dir_follows_flags_and_environment() {
    let dir = TempDir::new("cache-dir");
    let show = |envs: &[(&str, &Path)], args: &[&str]| {
        let mut cmd = cljit();
        cmd.env_remove("CLJIT_CACHE_DIR")
            .env_remove("XDG_CACHE_HOME");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let o = cmd.args(["cache", "dir"]).args(args).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stdout(&o)
    };
    let p = dir.path();
    assert_eq!(
        show(&[("HOME", p)], &[]),
        format!("{}/.cache/cljit\n", p.display())
    );
    assert_eq!(
        show(&[("HOME", p), ("XDG_CACHE_HOME", &p.join("xdg"))], &[]),
        format!("{}/xdg/cljit\n", p.display())
    );
    assert_eq!(
        show(
            &[
                ("XDG_CACHE_HOME", &p.join("xdg")),
                ("CLJIT_CACHE_DIR", &p.join("c"))
            ],
            &[]
        ),
        format!("{}/c\n", p.display())
    );
    assert_eq!(
        show(
            &[("CLJIT_CACHE_DIR", &p.join("c"))],
            &["--cache-dir", "/elsewhere"]
        ),
        "/elsewhere\n"
    );
    // `cljit cache dir` creates nothing.
    assert!(!p.join("c").exists() && !p.join("xdg").exists());
}

#[test]
fn a_lazy_run_fills_the_cache_in_the_background() {
    let dir = TempDir::new("cache-lazy");
    let cache = dir.path().join("cache");
    let module = numbered_module(dir.path(), 7);
    let lazy = [
        "-O",
        "lazy=y,lazy-min-code-size=0",
        module.to_str().unwrap(),
    ];
    let o = run_cached(&cache, &lazy);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "7\n", "the program ran once, here");
    assert_eq!(load_kind(&o), "miss");
    assert!(
        stderr(&o).contains("lazy_functions=1 "),
        "only `_start` compiled: {}",
        stderr(&o)
    );
    // The detached compile writes the entry; this process did not wait.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while entries(&cache).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the background compile never wrote the entry"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let o = run_cached(&cache, &lazy);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "7\n");
    assert_eq!(load_kind(&o), "hit", "{}", stderr(&o));
    assert!(!stderr(&o).contains("lazy_functions"), "{}", stderr(&o));

    // Eager runs (`-O lazy=n`) and small modules under the default
    // threshold store the entry themselves.
    let other = numbered_module(dir.path(), 8);
    let o = run_cached(&cache, &["-O", "lazy=n", other.to_str().unwrap()]);
    assert_eq!(load_kind(&o), "miss");
    assert_eq!(entries(&cache).len(), 2, "stored before the run ended");
    let third = numbered_module(dir.path(), 9);
    let o = run_cached(&cache, &[third.to_str().unwrap()]);
    assert_eq!(load_kind(&o), "miss");
    assert!(!stderr(&o).contains("lazy_functions"), "{}", stderr(&o));
    assert_eq!(entries(&cache).len(), 3);
}

#[test]
fn a_remembered_source_hash_is_dropped_when_the_file_changes() {
    let dir = TempDir::new("cache-sources");
    let cache = dir.path().join("cache");
    let binary = |n: u32| wat::parse_file(numbered_module(dir.path(), n)).unwrap();
    let module = dir.path().join("m.wasm");
    std::fs::write(&module, binary(7)).unwrap();
    // Hashes are remembered only for files that have not changed for two
    // seconds (and only binary modules are hashed from their file).
    std::thread::sleep(std::time::Duration::from_millis(2200));
    let run = |expected: &str, load: &str| {
        let o = run_cached(&cache, &[module.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(stdout(&o), expected);
        assert_eq!(load_kind(&o), load, "{}", stderr(&o));
    };
    run("7\n", "miss");
    let records = || {
        std::fs::read_dir(cache.join("sources"))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    assert_eq!(records(), 1, "the settled file's hash is remembered");
    run("7\n", "hit");
    // Rewritten in place, same size, same second: the change time moves,
    // so the remembered hash no longer applies.
    let bytes = std::fs::read(&module).unwrap();
    let other = binary(8);
    assert_eq!(bytes.len(), other.len());
    std::fs::OpenOptions::new()
        .write(true)
        .open(&module)
        .and_then(|mut f| std::io::Write::write_all(&mut f, &other))
        .unwrap();
    run("8\n", "miss");
    run("8\n", "hit");
    assert_eq!(cache_command(&cache, &["clear"]), "removed 2 entries\n");
    assert_eq!(records(), 0, "clear forgets the hashes too");
}

/// xorshift64*, for the damage below.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n as u64) as usize
    }
}

/// Damages one file of the cache (an entry or a remembered source hash):
/// bytes flipped, cut short, garbage, another file's contents, or gone.
/// With `by_rename` the damaged copy replaces the file by rename (what a
/// concurrent writer does; running processes keep what they opened),
/// otherwise it is written in place.
fn damage(cache: &Path, rng: &mut Rng, by_rename: bool) {
    let mut files = entries(cache);
    if let Ok(sources) = std::fs::read_dir(cache.join("sources")) {
        files.extend(sources.flatten().map(|e| e.path()));
    }
    files.retain(|f| f.is_file());
    if files.is_empty() {
        return;
    }
    let victim = files[rng.below(files.len())].clone();
    let Ok(mut bytes) = std::fs::read(&victim) else {
        return;
    };
    match rng.below(5) {
        0 if !bytes.is_empty() => {
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(bytes.len());
                bytes[at] ^= 1 << rng.below(8);
            }
        }
        1 => bytes.truncate(rng.below(bytes.len() + 1)),
        2 => bytes = (0..rng.below(4096)).map(|_| rng.below(256) as u8).collect(),
        3 => {
            let other = &files[rng.below(files.len())];
            bytes = std::fs::read(other).unwrap_or_default();
        }
        _ => {
            let _ = std::fs::remove_file(&victim);
            return;
        }
    }
    if by_rename {
        let temporary = victim.with_extension("damaged");
        if std::fs::write(&temporary, &bytes).is_ok() {
            let _ = std::fs::rename(&temporary, &victim);
        }
    } else {
        let _ = std::fs::write(&victim, &bytes);
    }
}

/// Processes filling and hitting the same entries while another thread
/// keeps damaging the cache's files, then damage in place between rounds:
/// every run prints its own module's output and exits 0, whatever it
/// found (a hit, a miss, an entry of another module).
#[test]
fn concurrent_writers_and_random_damage_never_give_a_wrong_run() {
    let dir = TempDir::new("cache-chaos");
    let cache = dir.path().join("cache");
    let modules: Vec<_> = (0..4).map(|n| numbered_module(dir.path(), n)).collect();
    // Source hashes are remembered only for files older than 2 s: let them
    // be, so that the records get damaged too.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut loads = std::collections::BTreeMap::<String, usize>::new();
    for round in 0..8 {
        let children: Vec<_> = (0..6)
            .map(|i| {
                let n = (round + i) % modules.len();
                let child = cljit()
                    .env("CLJIT_TIMINGS", "1")
                    .env("CLJIT_CACHE_DIR", &cache)
                    .arg("run")
                    .arg(&modules[n])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap();
                (n, child)
            })
            .collect();
        // Damage by rename while they run.
        for _ in 0..20 {
            damage(&cache, &mut rng, true);
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        for (n, child) in children {
            let o = child.wait_with_output().unwrap();
            assert_eq!(o.status.code(), Some(0), "round {round}: {}", stderr(&o));
            assert_eq!(stdout(&o), format!("{n}\n"), "round {round}: module {n}");
            *loads.entry(load_kind(&o)).or_default() += 1;
        }
        // Damage in place while nothing runs.
        for _ in 0..4 {
            damage(&cache, &mut rng, false);
        }
    }
    // Both ways of loading happened: entries were hit and rebuilt.
    assert!(loads.get("hit").is_some_and(|&n| n > 0), "{loads:?}");
    assert!(loads.get("miss").is_some_and(|&n| n > 0), "{loads:?}");
    // What is left verifies or is removed, and every module still runs
    // right, twice (a miss or a hit, then a hit).
    cache_command(&cache, &["verify"]);
    for (n, module) in modules.iter().enumerate() {
        for _ in 0..2 {
            let o = run_cached(&cache, &[module.to_str().unwrap()]);
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            assert_eq!(stdout(&o), format!("{n}\n"));
        }
        let o = run_cached(&cache, &[module.to_str().unwrap()]);
        assert_eq!(load_kind(&o), "hit", "module {n}");
    }
}
