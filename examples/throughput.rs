//! Steady-state throughput of one engine on one thread, for the side-by-side comparisons in
//! `benches/compare/`: builds the engine (timed apart, as a daemon's start-up), reads every
//! message into memory, scans them all once to warm up, then times `--passes` passes.
//!
//! ```sh
//! cargo run --release --example throughput -- --list files.txt [-d DB]... [--rules PATH]... [--passes 3]
//! ```
//!
//! Prints one line of `key=value` pairs: `messages`, `bytes`, `load_s` (engine build),
//! `scan_s` (mean seconds per pass), `msgs_per_s`, `mb_per_s`, `flagged` (messages with a virus,
//! or at or above the spam score), `peak_rss_kb` (the process's VmHWM: the engine, the messages
//! held in memory, and the scan), `allocator` (`mimalloc` when built with the `mimalloc`
//! feature, as the CLI allocates, else `system`).
//!
//! `--slowest N` then times each message alone (the least of `--passes` scans) and prints the
//! N slowest, with their size and share of a pass, one per line: where a speed-up is worth
//! looking for. `--hits FILE` writes each message's path, category and rule hits to FILE, one
//! line per message: two builds' files compared with `diff` show whether a change moved a hit.
//! `--timing N` (with the `rule-timing` feature) prints the N rules and stages that took most
//! of the timed passes (`mailwarden::rules::timing`).

use mailwarden::{Category, EngineBuilder, Envelope};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut builder = EngineBuilder::new();
    let mut list = None;
    let mut passes = 3u32;
    let mut slowest = 0usize;
    let mut hits_out = None;
    let mut timing = 0usize;
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "-d" | "--database" => builder = builder.signatures(value()),
            "--rules" => builder = builder.rules(value()),
            "--list" => list = Some(value()),
            "--passes" => passes = value().parse().unwrap_or_else(|_| usage("bad --passes")),
            "--slowest" => slowest = value().parse().unwrap_or_else(|_| usage("bad --slowest")),
            "--hits" => hits_out = Some(value()),
            "--timing" => timing = value().parse().unwrap_or_else(|_| usage("bad --timing")),
            _ => usage(&format!("unknown argument {a}")),
        }
    }
    let list = list.unwrap_or_else(|| usage("--list is required"));
    let t = Instant::now();
    let engine = builder.build().unwrap_or_else(|e| {
        eprintln!("throughput: {e}");
        std::process::exit(2)
    });
    let load = t.elapsed().as_secs_f64();
    let text = std::fs::read_to_string(&list).unwrap_or_else(|e| usage(&format!("{list}: {e}")));
    let paths: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    let messages: Vec<Vec<u8>> = paths
        .iter()
        .map(|p| std::fs::read(p).unwrap_or_else(|e| usage(&format!("{p}: {e}"))))
        .collect();
    let bytes: usize = messages.iter().map(Vec::len).sum();
    let env = Envelope::new()
        .sender("sender@example.org")
        .recipient("rcpt@example.net");
    let pass = || {
        messages
            .iter()
            .filter(|m| {
                let r = engine.scan(m, &env);
                r.category == Category::Virus || r.score >= r.required_score
            })
            .count()
    };
    if timing > 0 && !cfg!(feature = "rule-timing") {
        usage("--timing needs a build with --features rule-timing");
    }
    let flagged = pass();
    if let Some(out) = &hits_out {
        let mut text = String::new();
        for (path, m) in paths.iter().zip(&messages) {
            let r = engine.scan(m, &env);
            let mut rules: Vec<String> = r.rules().map(|(n, s, _)| format!("{n}={s}")).collect();
            rules.sort();
            text.push_str(&format!("{path}\t{:?}\t{}\n", r.category, rules.join(",")));
        }
        std::fs::write(out, text).unwrap_or_else(|e| usage(&format!("{out}: {e}")));
    }
    #[cfg(feature = "rule-timing")]
    mailwarden::rules::timing::take();
    let t = Instant::now();
    for _ in 0..passes {
        assert_eq!(pass(), flagged, "a pass gave a different result");
    }
    let scan = t.elapsed().as_secs_f64() / f64::from(passes.max(1));
    let hwm = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .unwrap_or_else(|| "?".into());
    println!(
        "messages={} bytes={bytes} load_s={load:.3} scan_s={scan:.4} msgs_per_s={:.1} \
         mb_per_s={:.2} flagged={flagged} peak_rss_kb={hwm} allocator={}",
        messages.len(),
        messages.len() as f64 / scan,
        bytes as f64 / scan / 1e6,
        if cfg!(feature = "mimalloc") {
            "mimalloc"
        } else {
            "system"
        },
    );
    #[cfg(feature = "rule-timing")]
    if timing > 0 {
        let entries = mailwarden::rules::timing::take();
        let per = f64::from(passes.max(1)) * messages.len() as f64;
        for e in entries.iter().take(timing) {
            println!(
                "{:9.1} us/message {:8.1} calls/message {:7} hits  {}",
                e.time.as_secs_f64() * 1e6 / per,
                e.calls as f64 / per,
                e.hits,
                e.name
            );
        }
    }
    if slowest > 0 {
        let mut times: Vec<(f64, usize)> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let best = (0..passes.max(1))
                    .map(|_| {
                        let t = Instant::now();
                        std::hint::black_box(engine.scan(m, &env));
                        t.elapsed().as_secs_f64()
                    })
                    .fold(f64::INFINITY, f64::min);
                (best, i)
            })
            .collect();
        let total: f64 = times.iter().map(|t| t.0).sum();
        times.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (t, i) in times.into_iter().take(slowest) {
            println!(
                "{:8.3} ms {:5.1}% {:8} bytes {}",
                t * 1e3,
                100.0 * t / total,
                messages[i].len(),
                paths[i]
            );
        }
    }
}

fn usage(msg: &str) -> ! {
    eprintln!("throughput: {msg}");
    eprintln!(
        "usage: throughput --list FILE [-d DB]... [--rules PATH]... [--passes N] [--slowest N] [--hits FILE] [--timing N]"
    );
    std::process::exit(2)
}
