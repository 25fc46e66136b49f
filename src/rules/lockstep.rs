//! Several lazy DFAs walking one text side by side: the union searches of the rule plan
//! ([`super::run`]'s filter groups), which every message makes over its body.
//!
//! A lazy DFA's search is one dependent load a byte (the next state is read from the
//! transition of the one before), so a single search runs at the latency of the processor's
//! caches: on the corpus sample about 2.3 ns a byte for a union's tables of 100-600 KB, 5 for
//! the 6 MB of the `FUZZY_*` union. Searches over the same text do not depend on each other;
//! stepping up to four of them together, one byte of each per round, lets the processor
//! overlap their loads. Measured on the sample's bodies and the stock rules' 16 body and
//! rawbody unions (2026-12-07, paired runs in one process, the machine noisy): the searches
//! take 0.62 of the time `regex_automata::meta` takes for them one after another (its own
//! unrolled loop, one search at a time); 0.54 with the transitions' and the text's bounds
//! checks left out (`next_state_untagged_unchecked`, not worth `unsafe` here), 0.70 with the
//! text indexed by position instead of through slices of one length. The whole scan of the
//! sample: 5% faster (median of 30 paired passes).
//!
//! Each search reports the end of its earliest match (as `meta::Regex::search_half` with
//! `earliest` reports it, in the same lazy DFA), then resumes where the caller says: the
//! plan resumes at the next line, and so finds every line of the text a union matches on.

use std::panic::{RefUnwindSafe, UnwindSafe};

use regex_automata::hybrid::LazyStateID;
use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::util::pool::Pool;
use regex_automata::{Input, MatchKind};

/// How many searches step together at most: in a first version of the measurement above
/// (bounds checks left out), two took 0.61 of the time of one after another, three 0.57,
/// four 0.56.
const WIDTH: usize = 4;

type CacheFn = Box<dyn Fn() -> Vec<Cache> + Send + Sync + UnwindSafe + RefUnwindSafe>;

/// Lazy DFAs for several patterns, searched over one text together.
pub struct Lockstep {
    dfas: std::sync::Arc<[DFA]>,
    /// One cache per DFA, per thread using the set.
    caches: Pool<Vec<Cache>, CacheFn>,
}

impl std::fmt::Debug for Lockstep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lockstep")
            .field("patterns", &self.dfas.len())
            .finish()
    }
}

impl Clone for Lockstep {
    fn clone(&self) -> Self {
        Lockstep::with_dfas(self.dfas.clone())
    }
}

impl Lockstep {
    /// The lazy DFAs of `patterns` (syntax as `regex::bytes` with Unicode off, the size
    /// limits of [`super::compile`]); `None` when one does not build.
    pub fn new(patterns: &[&str]) -> Option<Lockstep> {
        use regex_automata::{nfa::thompson, util::syntax};
        let dfas = patterns
            .iter()
            .map(|p| {
                DFA::builder()
                    .syntax(syntax::Config::new().utf8(false))
                    .thompson(
                        thompson::Config::new()
                            .utf8(false)
                            .nfa_size_limit(Some(super::compile::REGEX_SIZE_LIMIT)),
                    )
                    .configure(
                        DFA::config()
                            .match_kind(MatchKind::LeftmostFirst)
                            // A Unicode `\b` (rule patterns have none) stops the search at
                            // the first non-ASCII byte: that pattern is then failed.
                            .unicode_word_boundary(true)
                            .cache_capacity(super::compile::REGEX_SIZE_LIMIT),
                    )
                    .build(p)
                    .ok()
            })
            .collect::<Option<Vec<DFA>>>()?;
        Some(Lockstep::with_dfas(dfas.into()))
    }

    fn with_dfas(dfas: std::sync::Arc<[DFA]>) -> Lockstep {
        let for_caches = dfas.clone();
        let create: CacheFn = Box::new(move || for_caches.iter().map(DFA::create_cache).collect());
        Lockstep {
            dfas,
            caches: Pool::new(create),
        }
    }

    /// Number of patterns.
    pub fn len(&self) -> usize {
        self.dfas.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.dfas.is_empty()
    }

    /// For each pattern: every report of its searches over `hay`. The first search starts
    /// at 0; each finds the end of the earliest match starting at or after its start (look
    /// arounds see the whole of `hay`), and `resume(start, end)` turns that into the
    /// report and where the next search starts (`None`: done). `None` for a pattern whose
    /// lazy DFA failed (it cannot here: no quit bytes, no cache limit it gives up at, but
    /// the caller then searches that pattern another way).
    pub fn search<R>(&self, hay: &[u8], resume: R) -> Vec<Option<Vec<u32>>>
    where
        R: Fn(usize, usize) -> (u32, Option<usize>),
    {
        let mut caches = self.caches.get();
        let mut walkers: Vec<Walker<'_>> = self
            .dfas
            .iter()
            .zip(caches.iter_mut())
            .map(|(dfa, cache)| Walker::new(dfa, cache, hay))
            .collect();
        // As even as can be: five searches go three and two, not four and one.
        let chunks = walkers.len().div_ceil(WIDTH);
        let mut rest = &mut walkers[..];
        for c in 0..chunks {
            let size = rest.len().div_ceil(chunks - c);
            let (chunk, tail) = rest.split_at_mut(size);
            rest = tail;
            match chunk {
                [a] => step::<1>(&mut [a], hay, &resume),
                [a, b] => step::<2>(&mut [a, b], hay, &resume),
                [a, b, c] => step::<3>(&mut [a, b, c], hay, &resume),
                [a, b, c, d] => step::<4>(&mut [a, b, c, d], hay, &resume),
                _ => unreachable!("chunks of at most WIDTH"),
            }
        }
        walkers
            .into_iter()
            .map(|w| (!w.failed).then_some(w.reports))
            .collect()
    }
}

/// One search in progress.
struct Walker<'a> {
    dfa: &'a DFA,
    cache: &'a mut Cache,
    /// Current state, after the bytes before `at`.
    sid: LazyStateID,
    /// Next byte to read.
    at: usize,
    /// Where the current search started.
    start: usize,
    reports: Vec<u32>,
    done: bool,
    failed: bool,
}

impl<'a> Walker<'a> {
    fn new(dfa: &'a DFA, cache: &'a mut Cache, hay: &[u8]) -> Walker<'a> {
        let mut w = Walker {
            dfa,
            cache,
            sid: LazyStateID::default(),
            at: 0,
            start: 0,
            reports: Vec::new(),
            done: false,
            failed: false,
        };
        w.restart(hay, 0);
        w
    }

    /// Starts a search at `at`.
    fn restart(&mut self, hay: &[u8], at: usize) {
        let input = Input::new(hay).range(at..);
        match self.dfa.start_state_forward(self.cache, &input) {
            Ok(sid) => {
                self.sid = sid;
                self.at = at;
                self.start = at;
            }
            Err(_) => self.fail(),
        }
    }

    fn fail(&mut self) {
        self.failed = true;
        self.done = true;
    }

    /// Whether it is still searching and has a byte left.
    fn running(&self, len: usize) -> bool {
        !self.done && self.at < len
    }

    /// Takes state `next`, reached from the current one by the byte at `at`, which may be
    /// unknown (not yet computed), a match or dead.
    fn take(
        &mut self,
        hay: &[u8],
        next: LazyStateID,
        resume: &impl Fn(usize, usize) -> (u32, Option<usize>),
    ) {
        let next = if next.is_unknown() {
            match self.dfa.next_state(self.cache, self.sid, hay[self.at]) {
                Ok(s) => s,
                Err(_) => return self.fail(),
            }
        } else {
            next
        };
        self.sid = next;
        if !next.is_tagged() {
            self.at += 1;
        } else if next.is_match() {
            // A lazy DFA sees a match one byte late: it ended where this byte starts.
            self.report(hay, self.at, resume);
        } else if next.is_dead() {
            self.done = true;
        } else if next.is_quit() {
            self.fail();
        } else {
            // A start state, tagged only with start state specialization (not used).
            self.at += 1;
        }
    }

    fn report(
        &mut self,
        hay: &[u8],
        end: usize,
        resume: &impl Fn(usize, usize) -> (u32, Option<usize>),
    ) {
        let (report, next) = resume(self.start, end);
        self.reports.push(report);
        match next {
            // A search that would not start later than the last one would find the same.
            Some(at) if at > self.start && at <= hay.len() => self.restart(hay, at),
            _ => self.done = true,
        }
    }

    /// Finishes the search without stepping with the others (one byte a call to
    /// [`Walker::take`], then the end of the text).
    fn finish(&mut self, hay: &[u8], resume: &impl Fn(usize, usize) -> (u32, Option<usize>)) {
        while !self.done {
            if self.at < hay.len() {
                match self.dfa.next_state(self.cache, self.sid, hay[self.at]) {
                    Ok(next) => self.take(hay, next, resume),
                    Err(_) => self.fail(),
                }
                continue;
            }
            match self.dfa.next_eoi_state(self.cache, self.sid) {
                Ok(sid) if sid.is_match() => self.report(hay, hay.len(), resume),
                Ok(_) => self.done = true,
                Err(_) => self.fail(),
            }
        }
    }
}

/// Runs the `N` searches of `ws` to their ends, one byte of each per round while all have
/// bytes left and plain (untagged) states.
fn step<const N: usize>(
    ws: &mut [&mut Walker<'_>; N],
    hay: &[u8],
    resume: &impl Fn(usize, usize) -> (u32, Option<usize>),
) {
    let len = hay.len();
    while ws.iter().all(|w| w.running(len)) {
        if ws.iter().any(|w| w.sid.is_tagged()) {
            // A start state can be tagged only with specialization (not used here); step
            // each on its own until all are plain again.
            for w in ws.iter_mut() {
                if w.running(len) {
                    match w.dfa.next_state(w.cache, w.sid, hay[w.at]) {
                        Ok(next) => w.take(hay, next, resume),
                        Err(_) => w.fail(),
                    }
                }
            }
            continue;
        }
        let mut sid: [LazyStateID; N] = std::array::from_fn(|k| ws[k].sid);
        let start: [usize; N] = std::array::from_fn(|k| ws[k].at);
        // Rounds until the search furthest on reaches the end; each search's bytes for
        // them, all as long (which lets the compiler drop the bounds checks below).
        let rounds = len - start.iter().copied().max().unwrap_or(len);
        let bytes: [&[u8]; N] = std::array::from_fn(|k| &hay[start[k]..][..rounds]);
        let mut round = 0;
        let next = loop {
            if round == rounds {
                break None;
            }
            // Every `sid[k]` is untagged (checked above; only untagged states are kept
            // below), as `next_state_untagged` requires.
            let next: [LazyStateID; N] = std::array::from_fn(|k| {
                ws[k]
                    .dfa
                    .next_state_untagged(ws[k].cache, sid[k], bytes[k][round])
            });
            if next.iter().fold(false, |any, s| any | s.is_tagged()) {
                break Some(next);
            }
            sid = next;
            round += 1;
        };
        for k in 0..N {
            ws[k].sid = sid[k];
            ws[k].at = start[k] + round;
        }
        if let Some(next) = next {
            for (w, next) in ws.iter_mut().zip(next) {
                if next.is_tagged() {
                    w.take(hay, next, resume);
                } else {
                    w.sid = next;
                    w.at += 1;
                }
            }
        }
    }
    for w in ws.iter_mut() {
        w.finish(hay, resume);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reports of one pattern's searches with `regex_automata::meta`, as the plan's
    /// `FilterLines` makes them (resuming after the next newline).
    fn one_by_one(pattern: &str, hay: &[u8]) -> Vec<u32> {
        let re = regex_automata::meta::Builder::new()
            .syntax(regex_automata::util::syntax::Config::new().utf8(false))
            .configure(regex_automata::meta::Config::new().utf8_empty(false))
            .build(pattern)
            .unwrap();
        let mut out = Vec::new();
        let mut at = Some(0);
        while let Some(a) = at {
            let input = Input::new(hay).range(a..).earliest(true);
            let Some(m) = re.search_half(&input) else {
                break;
            };
            let (r, next) = resume_at_line(hay)(a, m.offset());
            out.push(r);
            at = next;
        }
        out
    }

    /// Reports the end, resumes after the newline at or after the match's last byte.
    fn resume_at_line(hay: &[u8]) -> impl Fn(usize, usize) -> (u32, Option<usize>) + '_ {
        move |start, end| {
            let last = end.saturating_sub(1).max(start);
            let next = memchr::memchr(b'\n', &hay[last.min(hay.len())..])
                .map(|p| last + p + 1)
                .filter(|&p| p < hay.len());
            (end as u32, next)
        }
    }

    fn check(patterns: &[&str], hay: &[u8]) {
        let patterns: Vec<String> = patterns.iter().map(|p| format!("(?-u){p}")).collect();
        let patterns: Vec<&str> = patterns.iter().map(String::as_str).collect();
        let set = Lockstep::new(&patterns).unwrap();
        let got = set.search(hay, resume_at_line(hay));
        for (p, g) in patterns.iter().zip(got) {
            assert_eq!(g, Some(one_by_one(p, hay)), "{p:?} over {hay:?}");
        }
    }

    #[test]
    fn reports_what_searching_one_by_one_reports() {
        let hay = b"Buy cheap pills now\nHello world\n$100 off\nno match here\ncheap\n\
                    pills at the end";
        let patterns = [
            r"(?i)cheap",
            r"pills",
            r"\$\d+",
            r"(?m)^no\b",
            r"zzz",
            r"(?i)end$",
            r"\bworld\b",
        ];
        for width in 1..=patterns.len() {
            for chunk in patterns.windows(width) {
                check(chunk, hay);
            }
        }
    }

    #[test]
    fn empty_matches_and_texts() {
        check(&["", "a*", "(?m)$"], b"abc\n\nxyz\n");
        check(&["a", "b"], b"");
        check(&["x", "(?s).", r"\z"], b"x");
    }

    #[test]
    fn every_start_sees_the_byte_before_it() {
        // A search resumed after a newline starts at a line: `^` with (?m) and `\b` there.
        check(&[r"(?m)^b", r"\bb", r"(?-m)^b"], b"ab\nb\nbb\n");
    }

    #[test]
    fn a_search_that_cannot_go_on_fails_alone() {
        // Unicode `\b` cannot be decided by a lazy DFA past a non-ASCII byte.
        let hay = "caf\u{e9} now\nx".as_bytes();
        let set = Lockstep::new(&[r"(?-u)now", r"(?u)\bnow\b", r"(?-u)x"]).unwrap();
        let got = set.search(hay, resume_at_line(hay));
        assert_eq!(got[0], Some(one_by_one("(?-u)now", hay)));
        assert_eq!(got[1], None);
        assert_eq!(got[2], Some(one_by_one("(?-u)x", hay)));
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_meta_on_random_texts(
            hay in proptest::collection::vec(proptest::sample::select(b"ab \n$1.".to_vec()), 0..200),
            picks in proptest::collection::vec(0usize..8, 1..6),
        ) {
            let all = [r"ab", r"(?m)^b+$", r"\$\d", r"a\s+b", r"\bba\b", r"(?:a|b){3}", r"\.\n", r"1"];
            let patterns: Vec<&str> = picks.iter().map(|&i| all[i]).collect();
            check(&patterns, &hay);
        }
    }
}
