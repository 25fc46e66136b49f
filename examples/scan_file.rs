//! Scans one message file with the default engine and prints the category and every unchecked
//! reason: `cargo run --release --example scan_file -- message.eml`.
//!
//! Used by `benches/bombs/run.sh` so the bomb table does not depend on the CLI.

fn main() {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: scan_file MESSAGE");
        std::process::exit(2);
    };
    let message = match std::fs::read(&path) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{}: {e}", path.to_string_lossy());
            std::process::exit(2);
        }
    };
    let engine = mailwarden::Engine::with_defaults();
    let report = engine.scan(&message, &mailwarden::Envelope::default());
    let mut reasons: Vec<&str> = report.unchecked().map(|(r, _, _)| r.name()).collect();
    reasons.dedup();
    if reasons.is_empty() {
        println!("{}", report.category);
    } else {
        println!("{} ({})", report.category, reasons.join(", "));
    }
}
