//! The multi-pattern matcher: each body pattern's longest fixed run goes into one Aho-Corasick
//! automaton; every hit is verified against the rest of the pattern, backwards from the anchor
//! for what comes before it and forwards for what follows, with offsets and wildcards.
//!
//! The automaton is only entered where an anchor can start: a q-gram prefilter (an exact bit
//! table of the anchors' first 3 bytes when some anchor is that short, and a hashed bit table of
//! their first 4 bytes) rejects almost every position with one table probe, so the cost per
//! byte stays flat as signatures are added; at a candidate position an anchored
//! leftmost-longest search of the automaton, repeated over shorter ranges, reports every anchor
//! starting there. Anchors are at most
//! [`MAX_ANCHOR`] bytes; the rest of a long fixed run is verified with the pattern.
//!
//! Verification is memoized per scan so that unbounded gaps (`*`) cost at most one pass over the
//! data per pattern element, however many anchor hits there are.

use super::ndb::{Elem, Offset, PByte, longest_literal};
use aho_corasick::{AhoCorasick, Anchored, Input, MatchKind, StartKind};
use std::collections::{HashMap, HashSet};

/// Candidate positions collected before they are verified (bounds the buffer).
const CAND_BATCH: usize = 4096;

/// Longest anchor put into the automaton (a shorter automaton builds faster).
pub(crate) const MAX_ANCHOR: usize = 8;
/// Most bits of the hashed 4-byte prefilter table (2^24 bits: 2 MiB); it is sized to about 256
/// bits per anchor, so small sets stay in cache and large ones keep false candidates near 1%
/// (measured: 1 MB tables doubled the candidates, 8 MB ones missed the cache).
const MAX_BITS4: u32 = 24;

#[inline]
fn gram_hash(g: u32, bits: u32) -> usize {
    (g.wrapping_mul(0x9e37_79b1) >> (32 - bits)) as usize
}

/// A bit table.
#[derive(Debug, Clone)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(bits: usize) -> Self {
        Bits(vec![0; bits.div_ceil(64)])
    }
    fn set(&mut self, i: usize) {
        self.0[i >> 6] |= 1 << (i & 63);
    }
    #[inline]
    fn get(&self, i: usize) -> bool {
        self.0[i >> 6] & (1 << (i & 63)) != 0
    }
}

/// One compiled body pattern.
#[derive(Debug, Clone)]
pub(crate) struct Body {
    /// Whose pattern this is (an index the caller chose).
    pub owner: u32,
    /// ClamAV target type.
    pub target: u8,
    pub offset: Offset,
    /// The elements before the anchor, reversed (each byte run reversed too).
    bwd: Vec<Elem>,
    /// The elements after the anchor.
    fwd: Vec<Elem>,
    /// The anchor bytes (lowercase when `nocase`).
    anchor: Vec<u8>,
    nocase: bool,
    fullword: bool,
}

/// Collects patterns, then builds the automaton.
#[derive(Debug, Default)]
pub(crate) struct MatcherBuilder {
    bodies: Vec<Body>,
}

/// Options of one pattern.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PatternFlags {
    pub nocase: bool,
    pub fullword: bool,
}

fn lower(elems: &mut [Elem]) {
    let low = |b: &mut PByte| {
        if b.1 == 0xff {
            b.0 = b.0.to_ascii_lowercase();
        }
    };
    for e in elems {
        match e {
            Elem::Bytes(bs) => bs.iter_mut().for_each(low),
            Elem::Alt { opts, .. } => opts.iter_mut().flatten().for_each(low),
            Elem::Gap { .. } => {}
        }
    }
}

fn reversed(elems: &[Elem]) -> Vec<Elem> {
    elems
        .iter()
        .rev()
        .map(|e| match e {
            Elem::Bytes(bs) => Elem::Bytes(bs.iter().rev().copied().collect()),
            Elem::Alt { opts, neg } => Elem::Alt {
                opts: opts
                    .iter()
                    .map(|o| o.iter().rev().copied().collect())
                    .collect(),
                neg: *neg,
            },
            g => g.clone(),
        })
        .collect()
}

impl MatcherBuilder {
    /// Adds a pattern (which must have a fixed run, see [`super::ndb::check_literal`]).
    /// Returns false when it has none.
    pub(crate) fn add(
        &mut self,
        mut elems: Vec<Elem>,
        target: u8,
        offset: Offset,
        owner: u32,
        flags: PatternFlags,
    ) -> bool {
        if flags.nocase {
            lower(&mut elems);
        }
        let Some((ei, start, len)) = longest_literal(&elems) else {
            return false;
        };
        let len = len.min(MAX_ANCHOR);
        let Elem::Bytes(run) = &elems[ei] else {
            return false;
        };
        let anchor: Vec<u8> = run[start..start + len].iter().map(|b| b.0).collect();
        let mut before: Vec<Elem> = elems[..ei].to_vec();
        if start > 0 {
            before.push(Elem::Bytes(run[..start].to_vec()));
        }
        let mut after: Vec<Elem> = Vec::new();
        if start + len < run.len() {
            after.push(Elem::Bytes(run[start + len..].to_vec()));
        }
        after.extend_from_slice(&elems[ei + 1..]);
        self.bodies.push(Body {
            owner,
            target,
            offset,
            bwd: reversed(&before),
            fwd: after,
            anchor,
            nocase: flags.nocase,
            fullword: flags.fullword,
        });
        true
    }

    /// Builds the automaton over every anchor.
    pub(crate) fn build(self) -> Result<Matcher, String> {
        let mut ids: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut anchors: Vec<Vec<u8>> = Vec::new();
        let mut by_anchor: Vec<Vec<u32>> = Vec::new();
        let any_nocase = self.bodies.iter().any(|b| b.nocase);
        for (bi, b) in self.bodies.iter().enumerate() {
            let key = if any_nocase {
                b.anchor.to_ascii_lowercase()
            } else {
                b.anchor.clone()
            };
            let id = *ids.entry(key).or_insert_with_key(|k| {
                anchors.push(k.clone());
                by_anchor.push(Vec::new());
                anchors.len() - 1
            });
            by_anchor[id].push(bi as u32);
        }
        let fold = |b: u8| {
            if any_nocase {
                b.to_ascii_lowercase()
            } else {
                b
            }
        };
        let mut grams3: Option<Bits> = None;
        let mut short: Option<Bits> = None;
        let mut short_single = false;
        let bits4 = (anchors.len() * 256)
            .next_power_of_two()
            .trailing_zeros()
            .clamp(12, MAX_BITS4);
        let mut grams4 = Bits::new(1 << bits4);
        for a in &anchors {
            let a: Vec<u8> = a.iter().map(|&b| fold(b)).collect();
            if a.len() < 3 {
                let t = short.get_or_insert_with(|| Bits::new(1 << 16));
                match a[..] {
                    [x] => (0..256).for_each(|y| t.set(usize::from(x) << 8 | y)),
                    [x, y] => t.set(usize::from(x) << 8 | usize::from(y)),
                    _ => {}
                }
                if a.len() == 1 {
                    short_single = true;
                }
            } else if a.len() == 3 {
                let t = grams3.get_or_insert_with(|| Bits::new(1 << 24));
                t.set(usize::from(a[0]) | usize::from(a[1]) << 8 | usize::from(a[2]) << 16);
            } else {
                grams4.set(gram_hash(
                    u32::from_le_bytes([a[0], a[1], a[2], a[3]]),
                    bits4,
                ));
            }
        }
        let ac = if anchors.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostLongest)
                    .start_kind(StartKind::Anchored)
                    .ascii_case_insensitive(any_nocase)
                    .build(&anchors)
                    .map_err(|e| format!("building the pattern automaton: {e}"))?,
            )
        };
        Ok(Matcher {
            ac,
            by_anchor,
            bodies: self.bodies,
            any_nocase,
            grams3,
            grams4,
            bits4,
            short,
            short_single,
        })
    }
}

/// The built automaton and the patterns behind it.
#[derive(Debug, Clone)]
pub(crate) struct Matcher {
    ac: Option<AhoCorasick>,
    by_anchor: Vec<Vec<u32>>,
    bodies: Vec<Body>,
    any_nocase: bool,
    /// Exact table of 3-byte anchor prefixes (only when some anchor has 3 bytes).
    grams3: Option<Bits>,
    /// Hashed table of 4-byte anchor prefixes.
    grams4: Bits,
    bits4: u32,
    /// Table of 2-byte prefixes of anchors shorter than 3 bytes (ClamAV databases need 3
    /// fixed bytes; shorter anchors only come from internal use).
    short: Option<Bits>,
    /// Some anchor is a single byte (it can also match at the last position).
    short_single: bool,
}

/// Per-scan verification memory; reuse one across views and objects.
#[derive(Debug, Default)]
pub(crate) struct Memo {
    /// Unbounded gap element -> smallest position from which the rest failed.
    unbounded: HashMap<u64, usize>,
    /// Other elements: (element, position) pairs that failed.
    failed: HashSet<(u64, usize)>,
}

impl Memo {
    fn clear(&mut self) {
        self.unbounded.clear();
        self.failed.clear();
    }
}

#[inline]
fn at<const REV: bool>(d: &[u8], i: usize) -> u8 {
    if REV { d[d.len() - 1 - i] } else { d[i] }
}

#[inline]
fn bytes_match<const REV: bool>(d: &[u8], pos: usize, bs: &[PByte], nocase: bool) -> bool {
    if pos + bs.len() > d.len() {
        return false;
    }
    bs.iter().enumerate().all(|(k, &(v, m))| {
        let mut b = at::<REV>(d, pos + k);
        if nocase {
            b = b.to_ascii_lowercase();
        }
        b & m == v
    })
}

struct Run<'a, F: Fn(usize) -> bool> {
    elems: &'a [Elem],
    d: &'a [u8],
    nocase: bool,
    key: u64,
    accept: F,
}

impl<F: Fn(usize) -> bool> Run<'_, F> {
    fn go<const REV: bool>(&self, i: usize, pos: usize, memo: &mut Memo) -> bool {
        let Some(e) = self.elems.get(i) else {
            return (self.accept)(pos);
        };
        let n = self.d.len();
        let key = self.key | i as u64;
        match e {
            Elem::Bytes(bs) => {
                bytes_match::<REV>(self.d, pos, bs, self.nocase)
                    && self.go::<REV>(i + 1, pos + bs.len(), memo)
            }
            Elem::Gap { min, max: None } => {
                let first = pos.saturating_add(*min);
                let known = memo.unbounded.get(&key).copied().unwrap_or(usize::MAX);
                let stop = known.saturating_add(*min).min(n + 1);
                let mut p = first;
                while p < stop {
                    if self.go::<REV>(i + 1, p, memo) {
                        return true;
                    }
                    p += 1;
                }
                let e = memo.unbounded.entry(key).or_insert(usize::MAX);
                *e = (*e).min(pos);
                false
            }
            Elem::Gap {
                min,
                max: Some(max),
            } => {
                if memo.failed.contains(&(key, pos)) {
                    return false;
                }
                let hi = pos.saturating_add(*max).min(n);
                let mut p = pos.saturating_add(*min);
                while p <= hi {
                    if self.go::<REV>(i + 1, p, memo) {
                        return true;
                    }
                    p += 1;
                }
                memo.failed.insert((key, pos));
                false
            }
            Elem::Alt { opts, neg: false } => {
                if memo.failed.contains(&(key, pos)) {
                    return false;
                }
                for o in opts {
                    if bytes_match::<REV>(self.d, pos, o, self.nocase)
                        && self.go::<REV>(i + 1, pos + o.len(), memo)
                    {
                        return true;
                    }
                }
                memo.failed.insert((key, pos));
                false
            }
            Elem::Alt { opts, neg: true } => {
                let len = opts[0].len();
                pos + len <= n
                    && !opts
                        .iter()
                        .any(|o| bytes_match::<REV>(self.d, pos, o, self.nocase))
                    && self.go::<REV>(i + 1, pos + len, memo)
            }
        }
    }
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

impl Matcher {
    /// The pattern with index `body`.
    pub(crate) fn body(&self, body: u32) -> &Body {
        &self.bodies[body as usize]
    }

    /// Finds every verified match in `d` of the patterns `wanted` accepts (by body), calling
    /// `found(body, start)` for each anchor hit that verifies.
    pub(crate) fn scan(
        &self,
        d: &[u8],
        memo: &mut Memo,
        wanted: &mut dyn FnMut(u32, &Body) -> bool,
        found: &mut dyn FnMut(u32, usize),
    ) {
        let Some(ac) = &self.ac else { return };
        memo.clear();
        let n = d.len();
        let mut hits = Vec::new();
        let mut lower = [0u8; 4];
        let simple = !self.any_nocase && self.short.is_none();
        let mut cands: Vec<usize> = Vec::new();
        let mut general_from = 0;
        if simple && n >= 4 {
            // the common case, kept tight: one 4-byte load and one or two table probes
            let (g4, bits) = (&self.grams4.0[..], self.bits4);
            let g3 = self.grams3.as_ref().map(|t| &t.0[..]);
            for (p, w) in d.windows(4).enumerate() {
                if cands.len() >= CAND_BATCH {
                    for &c in &cands {
                        self.at_candidate(ac, d, c, &mut hits, memo, wanted, found);
                    }
                    cands.clear();
                }
                let g = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
                let h = gram_hash(g, bits);
                let hit = g4[h >> 6] >> (h & 63) & 1 != 0
                    || g3.is_some_and(|t| {
                        let k = (g & 0xff_ffff) as usize;
                        t[k >> 6] >> (k & 63) & 1 != 0
                    });
                if hit {
                    cands.push(p);
                }
            }
            general_from = n - 3;
        }
        for p in general_from..n {
            let w = &d[p..(p + 4).min(n)];
            let w: &[u8] = if self.any_nocase {
                for (l, &b) in lower.iter_mut().zip(w) {
                    *l = b.to_ascii_lowercase();
                }
                &lower[..w.len()]
            } else {
                w
            };
            let candidate = if let [a, b, c, e] = *w {
                let g = u32::from_le_bytes([a, b, c, e]);
                self.grams4.get(gram_hash(g, self.bits4))
                    || self
                        .grams3
                        .as_ref()
                        .is_some_and(|t| t.get((g & 0xff_ffff) as usize))
                    || self
                        .short
                        .as_ref()
                        .is_some_and(|t| t.get(usize::from(a) << 8 | usize::from(b)))
            } else {
                self.tail_candidate(w)
            };
            if candidate {
                cands.push(p);
            }
        }
        for p in cands {
            self.at_candidate(ac, d, p, &mut hits, memo, wanted, found);
        }
    }

    /// Every anchor starting at `p` (the longest within reach, then shorter ones), verified.
    #[allow(clippy::too_many_arguments)]
    fn at_candidate(
        &self,
        ac: &AhoCorasick,
        d: &[u8],
        p: usize,
        hits: &mut Vec<aho_corasick::Match>,
        memo: &mut Memo,
        wanted: &mut dyn FnMut(u32, &Body) -> bool,
        found: &mut dyn FnMut(u32, usize),
    ) {
        hits.clear();
        let mut end = (p + MAX_ANCHOR).min(d.len());
        while end > p {
            let input = Input::new(d).range(p..end).anchored(Anchored::Yes);
            match ac.find(input) {
                Some(m) => {
                    end = m.end() - 1;
                    hits.push(m);
                }
                None => break,
            }
        }
        for m in hits.iter() {
            self.verify(d, m, memo, wanted, found);
        }
    }

    /// The prefilter for the last three positions of the data.
    fn tail_candidate(&self, w: &[u8]) -> bool {
        match *w {
            [a, b, c] => {
                self.grams3.as_ref().is_some_and(|t| {
                    t.get(usize::from(a) | usize::from(b) << 8 | usize::from(c) << 16)
                }) || self
                    .short
                    .as_ref()
                    .is_some_and(|t| t.get(usize::from(a) << 8 | usize::from(b)))
            }
            [a, b] => self
                .short
                .as_ref()
                .is_some_and(|t| t.get(usize::from(a) << 8 | usize::from(b))),
            _ => self.short_single,
        }
    }

    fn verify(
        &self,
        d: &[u8],
        m: &aho_corasick::Match,
        memo: &mut Memo,
        wanted: &mut dyn FnMut(u32, &Body) -> bool,
        found: &mut dyn FnMut(u32, usize),
    ) {
        let n = d.len();
        {
            let h = m.start();
            for &bi in &self.by_anchor[m.pattern().as_usize()] {
                let b = &self.bodies[bi as usize];
                if !wanted(bi, b) {
                    continue;
                }
                if self.any_nocase && !b.nocase && d[h..m.end()] != b.anchor[..] {
                    continue;
                }
                let end0 = m.end();
                let fullword = b.fullword;
                let fwd = Run {
                    elems: &b.fwd,
                    d,
                    nocase: b.nocase,
                    key: (u64::from(bi) << 17) | (1 << 16),
                    accept: |end: usize| !fullword || end == n || !is_word(d[end]),
                };
                let offset = b.offset;
                let bwd = Run {
                    elems: &b.bwd,
                    d,
                    nocase: b.nocase,
                    key: u64::from(bi) << 17,
                    accept: |r: usize| {
                        let start = n - r;
                        offset.accepts(start, n)
                            && (!fullword || start == 0 || !is_word(d[start - 1]))
                    },
                };
                if !bwd.go::<true>(0, n - h, memo) {
                    continue;
                }
                if !fwd.go::<false>(0, end0, memo) {
                    continue;
                }
                // Reported at the anchor: callers use presence and counts of distinct hits.
                found(bi, h);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::ndb::parse_hex;
    use super::*;

    fn matches(sig: &str, offset: Offset, flags: PatternFlags, data: &[u8]) -> bool {
        let mut b = MatcherBuilder::default();
        assert!(b.add(parse_hex(sig).unwrap(), 0, offset, 0, flags));
        let m = b.build().unwrap();
        let mut hit = false;
        m.scan(data, &mut Memo::default(), &mut |_, _| true, &mut |_, _| {
            hit = true
        });
        hit
    }

    fn yes(sig: &str, data: &[u8]) -> bool {
        matches(sig, Offset::Any, PatternFlags::default(), data)
    }

    #[test]
    fn elements_match_and_miss() {
        assert!(yes("616263", b"xxabcxx"));
        assert!(!yes("616263", b"xxabdxx"));
        assert!(yes("61??6364", b"aZcd"));
        assert!(!yes("61??6364", b"acd"));
        assert!(yes("6162636?", b"abce"));
        assert!(!yes("6162637?", b"abce"));
        assert!(yes("616263?5", b"abce"));
        assert!(!yes("616263?6", b"abce"));
        assert!(yes("616263*7a7a", b"abc.........zz"));
        assert!(!yes("616263*7a7a", b"zz abc z"));
        assert!(yes("616263{2}7a", b"abc..z"));
        assert!(!yes("616263{2}7a", b"abc...z"));
        assert!(yes("616263{-2}7a", b"abcz"));
        assert!(!yes("616263{-2}7a", b"abc...z"));
        assert!(yes("616263{2-}7a", b"abc.....z"));
        assert!(!yes("616263{2-}7a", b"abc.z"));
        assert!(yes("616263{1-3}7a", b"abc...z"));
        assert!(!yes("616263{1-3}7a", b"abc....z"));
        assert!(yes("616263(78|7979)7a", b"abcyyz"));
        assert!(!yes("616263(78|7979)7a", b"abcyz"));
        assert!(yes("616263!(78|79)7a", b"abcwz"));
        assert!(!yes("616263!(78|79)7a", b"abcyz"));
        assert!(yes("78[1-2]616263", b"x.abc"));
        assert!(!yes("78[1-2]616263", b"x...abc"));
        // variable prefix before the anchor
        assert!(yes("71*7a7a7a7a", b"q....zzzz"));
        assert!(!yes("71*7a7a7a7a", b"zzzz q"));
    }

    #[test]
    fn offsets_and_flags() {
        let f = PatternFlags::default();
        assert!(matches("616263", Offset::Abs(2, 0), f, b"..abc"));
        assert!(!matches("616263", Offset::Abs(2, 0), f, b"...abc"));
        assert!(matches("616263", Offset::Abs(2, 1), f, b"...abc"));
        assert!(matches("616263", Offset::Eof(4, 0), f, b"...abc."));
        assert!(!matches("616263", Offset::Eof(4, 0), f, b"..abc.."));
        let nc = PatternFlags {
            nocase: true,
            fullword: false,
        };
        assert!(matches("414243", Offset::Any, nc, b"xabcx"));
        let fw = PatternFlags {
            nocase: false,
            fullword: true,
        };
        assert!(matches("616263", Offset::Any, fw, b"x abc."));
        assert!(!matches("616263", Offset::Any, fw, b"xabc."));
    }

    #[test]
    fn star_gaps_stay_linear() {
        let mut data = vec![b'a'; 200_000];
        data.extend_from_slice(b"b");
        let t = std::time::Instant::now();
        assert!(!yes("616161*7a*7a", &data));
        assert!(t.elapsed().as_secs() < 5);
    }
}
