//! Where a rule evaluation spends its time, per rule and per stage: built only with the
//! `rule-timing` feature (off by default; without it nothing here is compiled in and the
//! scan carries no timer). For finding what to speed up, not for production:
//!
//! ```sh
//! cargo run --release --features rule-timing --example throughput -- \
//!     --list files.txt --rules /usr/share/spamassassin --rules /etc/spamassassin --timing 40
//! ```
//!
//! Entries are keyed by rule name, or by a stage in brackets: `[texts]` (building the texts
//! the rules read), `[gates]` (the literal gates; `[gate Body]`, `[gate headers]`... each
//! text's part of it), `[union N]` (a filter union's search; its time is also in the rule
//! whose evaluation searched it). A rule's time includes its gate check and, for a line
//! rule, its filter and union. The counters are per thread.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// One rule's or stage's totals since the last [`take`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Rule name, or a stage in brackets.
    pub name: String,
    /// Time spent.
    pub time: Duration,
    /// Times run.
    pub calls: u64,
    /// Times it hit (value not 0); 0 for stages.
    pub hits: u64,
}

thread_local! {
    static TOTALS: RefCell<HashMap<String, (Duration, u64, u64)>> = RefCell::new(HashMap::new());
}

/// Adds one run of `name` that started at `start`.
pub(crate) fn record(name: &str, start: Instant, hit: bool) {
    let elapsed = start.elapsed();
    TOTALS.with(|t| {
        let mut t = t.borrow_mut();
        let e = match t.get_mut(name) {
            Some(e) => e,
            None => t.entry(name.to_string()).or_default(),
        };
        e.0 += elapsed;
        e.1 += 1;
        e.2 += u64::from(hit);
    });
}

/// This thread's totals, most time first, and resets them.
pub fn take() -> Vec<Entry> {
    let mut v: Vec<Entry> = TOTALS.with(|t| {
        t.borrow_mut()
            .drain()
            .map(|(name, (time, calls, hits))| Entry {
                name,
                time,
                calls,
                hits,
            })
            .collect()
    });
    v.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| a.name.cmp(&b.name)));
    v
}
