//! Every occurrence of many short literals in a text, ASCII case-insensitively: the search
//! behind the literal gates of the rule plan ([`super::run`]).
//!
//! An Aho-Corasick automaton over the stock rules' ~3,000 body literals has tens of
//! thousands of states; its search takes one transition a byte, each depending on the one
//! before, through tables that do not stay in the processor's caches between messages:
//! about 20 ns a byte on the corpus sample (2026-12-06: 41 µs for the average 2 KB body;
//! its DFA form was slower still, 57 µs). [`LiteralSet`] tests each position of the text on
//! its own, so the processor overlaps the tests: the next eight bytes, lowercased, are kept
//! in one number; their first three and first four are hashed into small bitsets (of the
//! three-byte literals, and of the first four bytes of the longer ones), and only a set bit
//! sends the position on to the literals under that hash. Literals of eight bytes or more
//! are found there by their first eight bytes, since the expansions of one ReplaceTags
//! pattern share their first words. About 6 ns a byte with warm caches, 9 cold; the body
//! gate went from 46 to about 28 µs a message and every gate together from ~165 to ~130,
//! with the same hits on all 6,046 corpus messages. Literals shorter than three bytes (no
//! gate has them: see `MIN_GATE_LITERAL` in [`super::compile`]) and small sets are searched
//! with the automaton.

/// Sets of this many literals or fewer are searched with the automaton: its prefilters
/// (memchr for one to three rare bytes, Teddy's SIMD for up to 64 literals) skip most of a
/// text, where [`LiteralSet`] visits every byte. Measured per header gate on the corpus
/// sample (2026-12-06): `ALL:raw`'s 4 literals 4.4 µs a message with the automaton and 7.4
/// hashed, `ALL-EXTERNAL`'s one 1.4 and 4.9; `Content-Type`'s 24 2.0 and 1.2, `From`'s 45
/// 1.9 and 0.5, `ALL`'s 85 14.3 and 12.4.
const AUTOMATON_AT_MOST: usize = 8;

/// A set of literals searched for ASCII case-insensitively, every occurrence reported.
#[derive(Debug, Clone)]
pub enum Literals {
    /// Hashed prefixes (more than eight literals, each three bytes or longer).
    Hashed(Box<LiteralSet>),
    /// Aho-Corasick, overlapping (few literals, or one shorter than three bytes).
    Automaton(aho_corasick::AhoCorasick),
}

impl Literals {
    /// The search for `patterns`, which must be lower case (ASCII); `None` without
    /// patterns or when the automaton cannot be built.
    pub fn new(patterns: &[Vec<u8>]) -> Option<Literals> {
        if patterns.is_empty() {
            return None;
        }
        if patterns.len() > AUTOMATON_AT_MOST
            && let Some(set) = LiteralSet::new(patterns)
        {
            return Some(Literals::Hashed(Box::new(set)));
        }
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(patterns)
            .ok()
            .map(Literals::Automaton)
    }

    /// Calls `found(pattern, start)` for every occurrence of every pattern in `hay`
    /// (overlapping ones too), ASCII case-insensitively. [`Literals::Hashed`] reports
    /// them in order of their start.
    pub fn for_each_match(&self, hay: &[u8], found: impl FnMut(usize, usize)) {
        match self {
            Literals::Hashed(set) => set.for_each_match(hay, found),
            Literals::Automaton(ac) => {
                let mut found = found;
                for m in ac.find_overlapping_iter(hay) {
                    found(m.pattern().as_usize(), m.start());
                }
            }
        }
    }
}

/// Literals of three bytes or more under hashed prefixes (see the module docs).
#[derive(Debug, Clone)]
pub struct LiteralSet {
    /// The three-byte literals, by their bytes.
    three: PrefixTable,
    /// By their first four bytes: the literals of four to seven bytes, and a [`LONGER`]
    /// entry for each four-byte start of the longer ones.
    four: PrefixTable,
    /// The literals of eight bytes or more, by their first eight: expansions of one
    /// ReplaceTags pattern share their first words (the stock body gate has 109 literals
    /// starting ` you`), and a common word must not send each of its occurrences through
    /// them all.
    eight: PrefixTable,
    /// The literals, lower case.
    patterns: Vec<Box<[u8]>>,
}

/// The entry of [`LiteralSet::four`] that sends a position on to [`LiteralSet::eight`].
const LONGER: u32 = u32::MAX;

/// Literals by a prefix key (their first bytes as a big-endian number): a bitset of hashed
/// keys for the quick test, and the entries of each set bit for the exact one, found by
/// the bit's rank (offset tables per hash would be 256 KB for the body gate, and a cache
/// miss for nearly every position that passes the quick test).
#[derive(Debug, Clone)]
struct PrefixTable {
    /// log2 of the number of hashes.
    bits: u32,
    /// One bit per hash: some key has it.
    set: Box<[u64]>,
    /// Per word of `set`: the set bits in the words before it.
    rank: Box<[u32]>,
    /// Per set bit, in order, then one past the last: where its entries start.
    starts: Box<[u32]>,
    /// (key, literal), by hash.
    entries: Box<[(u64, u32)]>,
}

impl PrefixTable {
    fn new(mut entries: Vec<(u64, u32)>) -> PrefixTable {
        // About 16 hashes per key: a random position of the text then passes the quick
        // test about once in 16, and the tables stay small for the small header gates.
        let bits = (entries.len().max(1) * 16)
            .next_power_of_two()
            .trailing_zeros()
            .clamp(8, 16);
        let mut set = vec![0u64; (1usize << bits) / 64].into_boxed_slice();
        entries.sort_unstable_by_key(|&(key, id)| (hash(key, bits), key, id));
        entries.dedup();
        let mut starts = Vec::new();
        let mut last = None;
        for (i, &(key, _)) in entries.iter().enumerate() {
            let h = hash(key, bits);
            if last != Some(h) {
                set[h / 64] |= 1 << (h % 64);
                starts.push(i as u32);
                last = Some(h);
            }
        }
        starts.push(entries.len() as u32);
        let rank = set
            .iter()
            .scan(0u32, |before, w| {
                let r = *before;
                *before += w.count_ones();
                Some(r)
            })
            .collect();
        PrefixTable {
            bits,
            set,
            rank,
            starts: starts.into_boxed_slice(),
            entries: entries.into_boxed_slice(),
        }
    }

    /// The entries under `key`'s hash (their keys may differ), or nothing: quickly, for
    /// most positions of a text.
    #[inline(always)]
    fn lookup(&self, key: u64) -> &[(u64, u32)] {
        let h = hash(key, self.bits);
        let word = self.set[h / 64];
        let bit = 1u64 << (h % 64);
        if word & bit == 0 {
            return &[];
        }
        let r = (self.rank[h / 64] + (word & (bit - 1)).count_ones()) as usize;
        &self.entries[self.starts[r] as usize..self.starts[r + 1] as usize]
    }
}

/// Multiplicative hash of a prefix key to `bits` bits.
#[inline(always)]
fn hash(key: u64, bits: u32) -> usize {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits)) as usize
}

/// The first `n` bytes of `p` as a big-endian number.
fn key(p: &[u8], n: usize) -> u64 {
    p[..n].iter().fold(0, |k, &b| (k << 8) | u64::from(b))
}

impl LiteralSet {
    /// The set of `patterns` (lower case); `None` when one is shorter than three bytes.
    pub fn new(patterns: &[Vec<u8>]) -> Option<LiteralSet> {
        let (mut three, mut four, mut eight) = (Vec::new(), Vec::new(), Vec::new());
        for (id, p) in patterns.iter().enumerate() {
            let id = u32::try_from(id).ok().filter(|&id| id != LONGER)?;
            match p.len() {
                0..=2 => return None,
                3 => three.push((key(p, 3), id)),
                4..=7 => four.push((key(p, 4), id)),
                _ => {
                    four.push((key(p, 4), LONGER));
                    eight.push((key(p, 8), id));
                }
            }
        }
        Some(LiteralSet {
            three: PrefixTable::new(three),
            four: PrefixTable::new(four),
            eight: PrefixTable::new(eight),
            patterns: patterns
                .iter()
                .map(|p| p.clone().into_boxed_slice())
                .collect(),
        })
    }

    /// Calls `found(pattern, start)` for every occurrence, in order of start.
    pub fn for_each_match(&self, hay: &[u8], mut found: impl FnMut(usize, usize)) {
        let len = hay.len();
        let lower = |i: usize| hay.get(i).map_or(0, |b| u64::from(b.to_ascii_lowercase()));
        // Bytes `start..start + 8`, lowercased, the first in the high byte; zeros past the
        // end (a key is only looked up when its bytes are all in the text).
        let mut ahead: u64 = (0..8).fold(0, |k, i| (k << 8) | lower(i));
        for start in 0..len.saturating_sub(2) {
            let three = ahead >> 40;
            for &(k, id) in self.three.lookup(three) {
                if k == three {
                    found(id as usize, start);
                }
            }
            if start + 4 <= len {
                let four = ahead >> 32;
                for &(k, id) in self.four.lookup(four) {
                    if k != four {
                        continue;
                    }
                    if id != LONGER {
                        let p = &self.patterns[id as usize];
                        if hay
                            .get(start..start + p.len())
                            .is_some_and(|h| h.eq_ignore_ascii_case(p))
                        {
                            found(id as usize, start);
                        }
                    } else if start + 8 <= len {
                        for &(k8, id8) in self.eight.lookup(ahead) {
                            let p = &self.patterns[id8 as usize];
                            if k8 == ahead
                                && hay
                                    .get(start + 8..start + p.len())
                                    .is_some_and(|h| h.eq_ignore_ascii_case(&p[8..]))
                            {
                                found(id8 as usize, start);
                            }
                        }
                    }
                }
            }
            ahead = (ahead << 8) | lower(start + 8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn owned(patterns: &[&[u8]]) -> Vec<Vec<u8>> {
        patterns.iter().map(|p| p.to_vec()).collect()
    }

    /// Every (pattern, start) the overlapping Aho-Corasick search reports, sorted.
    fn reference(patterns: &[Vec<u8>], hay: &[u8]) -> Vec<(usize, usize)> {
        let ac = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(patterns)
            .expect("automaton");
        let mut out: Vec<(usize, usize)> = ac
            .find_overlapping_iter(hay)
            .map(|m| (m.pattern().as_usize(), m.start()))
            .collect();
        out.sort_unstable();
        out
    }

    fn hashed(patterns: &[Vec<u8>], hay: &[u8]) -> Vec<(usize, usize)> {
        let set = LiteralSet::new(patterns).expect("every literal three bytes or more");
        let mut out = Vec::new();
        let mut last_start = 0;
        set.for_each_match(hay, |id, start| {
            assert!(
                start >= last_start,
                "starts go down: {start} after {last_start}"
            );
            last_start = start;
            out.push((id, start));
        });
        out.sort_unstable();
        out
    }

    #[test]
    fn finds_overlapping_case_insensitive_occurrences() {
        let patterns = owned(&[b"you", b"your", b"our money", b"mon", b"\xe4ge"]);
        let hay = b"YOUR MONEY, Your Money and yours\n\xe4GE \xc4ge";
        let got = hashed(&patterns, hay);
        assert_eq!(got, reference(&patterns, hay));
        // "you" three times, "your" three times, "our money" twice, "mon" twice, and the
        // non-ASCII "\xe4ge" only with its own byte (ASCII case folding only).
        assert_eq!(got.len(), 11, "{got:?}");
        assert!(got.contains(&(4, 33)));
        assert!(!got.iter().any(|&(id, start)| id == 4 && start == 37));
    }

    #[test]
    fn few_or_short_literals_are_searched_with_the_automaton() {
        let many: Vec<Vec<u8>> = (0..20).map(|i| format!("word{i}").into_bytes()).collect();
        assert!(matches!(Literals::new(&many), Some(Literals::Hashed(_))));
        assert!(matches!(
            Literals::new(&many[..8]),
            Some(Literals::Automaton(_))
        ));
        let mut short = many.clone();
        short.push(b"ab".to_vec());
        let lits = Literals::new(&short).expect("built");
        assert!(matches!(lits, Literals::Automaton(_)));
        let mut got = Vec::new();
        lits.for_each_match(b"xABcWORD1ab", |id, start| got.push((id, start)));
        got.sort_unstable();
        assert_eq!(got, vec![(1, 4), (20, 1), (20, 9)]);
        assert!(Literals::new(&[]).is_none());
    }

    #[test]
    fn literals_at_the_edges_of_the_text() {
        let patterns = owned(&[b"abc", b"abcd", b"bcd", b"abcdefgh", b"bcdefghij"]);
        for hay in [
            &b"abc"[..],
            b"abcd",
            b"bcd",
            b"ab",
            b"",
            b"xabcd",
            b"abcdefg",
            b"ABCDEFGH",
            b"abcdefghij",
            b"abcdefghi",
        ] {
            assert_eq!(hashed(&patterns, hay), reference(&patterns, hay), "{hay:?}");
        }
    }

    proptest! {
        #[test]
        fn same_matches_as_aho_corasick(
            patterns in prop::collection::vec(
                prop::collection::vec(prop::sample::select(b"abAB \xe4\n".to_vec()), 3..12),
                1..40,
            ),
            hay in prop::collection::vec(prop::sample::select(b"abAB \xe4\xc4\n".to_vec()), 0..300),
        ) {
            let patterns: Vec<Vec<u8>> =
                patterns.into_iter().map(|p| p.to_ascii_lowercase()).collect();
            prop_assert_eq!(hashed(&patterns, &hay), reference(&patterns, &hay));
        }
    }
}
