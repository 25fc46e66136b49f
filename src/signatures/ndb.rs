//! `.ndb` body signatures: `Name:Target:Offset:HexSignature[:MinFL[:MaxFL]]`, and the hex
//! pattern language shared with `.ldb` subsignatures.
//!
//! The language: hex byte pairs, `??` (any byte), `a?` / `?a` (high / low nibble), `*` (any
//! number of bytes), `{n}`, `{-n}`, `{n-}`, `{n-m}` (bounded gaps), `(aa|bb)` and `!(aa|bb)`
//! (alternatives and their negation), `[n-m]` (a short gap anchored to a single byte).

/// One byte of a pattern: `(value, mask)`; a data byte `b` matches when `b & mask == value`.
pub(crate) type PByte = (u8, u8);

/// One element of a parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Elem {
    /// A run of (possibly nibble-masked) bytes.
    Bytes(Vec<PByte>),
    /// Skip between `min` and `max` bytes (`None`: no upper bound).
    Gap { min: usize, max: Option<usize> },
    /// One of several byte strings; `neg`: none of them (all the same length).
    Alt { opts: Vec<Vec<PByte>>, neg: bool },
}

/// Where a pattern may start in the scanned data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Offset {
    /// Anywhere.
    Any,
    /// At `n` .. `n + shift` from the start.
    Abs(usize, usize),
    /// At `len - n` .. `len - n + shift`.
    Eof(usize, usize),
}

impl Offset {
    /// Whether a match starting at `start` in data of `len` bytes satisfies the offset.
    pub(crate) fn accepts(self, start: usize, len: usize) -> bool {
        match self {
            Offset::Any => true,
            Offset::Abs(n, shift) => start >= n && start - n <= shift,
            Offset::Eof(n, shift) => n <= len && start >= len - n && start - (len - n) <= shift,
        }
    }
}

/// Why a line or field was not loaded: malformed, or valid ClamAV syntax this engine does not
/// implement (counted separately).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LineError {
    /// Malformed: the message says why.
    Bad(String),
    /// Valid but not supported here: the message says what.
    Unsupported(String),
}

pub(crate) fn bad<T>(msg: impl Into<String>) -> Result<T, LineError> {
    Err(LineError::Bad(msg.into()))
}

pub(crate) fn unsupported<T>(msg: impl Into<String>) -> Result<T, LineError> {
    Err(LineError::Unsupported(msg.into()))
}

/// Parses an offset field: `*`, `n`, `n,maxshift`, `EOF-n`, `EOF-n,maxshift`.
pub(crate) fn parse_offset(s: &str) -> Result<Offset, LineError> {
    if s == "*" {
        return Ok(Offset::Any);
    }
    let (base, shift) = match s.split_once(',') {
        Some((b, sh)) => (
            b,
            sh.parse::<usize>()
                .or_else(|_| bad(format!("bad offset shift `{sh}`")))?,
        ),
        None => (s, 0),
    };
    if let Some(n) = base.strip_prefix("EOF-") {
        let n = n
            .parse::<usize>()
            .or_else(|_| bad(format!("bad offset `{s}`")))?;
        return Ok(Offset::Eof(n, shift));
    }
    if base.starts_with("EP")
        || base.starts_with("SL")
        || base.starts_with('S')
        || base.starts_with("VI")
        || base.starts_with('$')
    {
        return unsupported(format!("offset `{s}` (PE/executable-relative offsets)"));
    }
    let n = base
        .parse::<usize>()
        .or_else(|_| bad(format!("bad offset `{s}`")))?;
    Ok(Offset::Abs(n, shift))
}

fn hex_nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Parses one byte at `s[i..i + 2]`: `hh`, `??`, `h?`, `?h`.
fn parse_pbyte(s: &[u8], i: usize) -> Result<PByte, LineError> {
    if i + 2 > s.len() {
        return bad("odd number of hex digits");
    }
    let (a, b) = (s[i], s[i + 1]);
    let v = |c: u8| {
        hex_nibble(c).ok_or_else(|| LineError::Bad(format!("bad hex digit `{}`", c as char)))
    };
    Ok(match (a, b) {
        (b'?', b'?') => (0, 0),
        (b'?', _) => (v(b)?, 0x0f),
        (_, b'?') => (v(a)? << 4, 0xf0),
        _ => ((v(a)? << 4) | v(b)?, 0xff),
    })
}

fn parse_number(s: &str) -> Result<usize, LineError> {
    s.trim()
        .parse::<usize>()
        .or_else(|_| bad(format!("bad number `{s}` in gap")))
}

/// Matching recurses once per element: this bounds the depth.
pub(crate) const MAX_ELEMS: usize = 512;

/// Parses a hex signature into elements.
pub(crate) fn parse_hex(sig: &str) -> Result<Vec<Elem>, LineError> {
    let s = sig.as_bytes();
    let mut elems: Vec<Elem> = Vec::new();
    let mut run: Vec<PByte> = Vec::new();
    let flush = |run: &mut Vec<PByte>, elems: &mut Vec<Elem>| {
        if !run.is_empty() {
            elems.push(Elem::Bytes(std::mem::take(run)));
        }
    };
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'*' => {
                if elems.is_empty() && run.is_empty() {
                    return bad("a signature cannot start with a gap");
                }
                flush(&mut run, &mut elems);
                elems.push(Elem::Gap { min: 0, max: None });
                i += 1;
            }
            b'{' | b'[' => {
                let close = if s[i] == b'{' { b'}' } else { b']' };
                let square = s[i] == b'[';
                let end = s[i..]
                    .iter()
                    .position(|&c| c == close)
                    .map(|p| p + i)
                    .ok_or_else(|| LineError::Bad(format!("unclosed `{}`", s[i] as char)))?;
                let body = &sig[i + 1..end];
                let (min, max) = if let Some(n) = body.strip_prefix('-') {
                    (0, Some(parse_number(n)?))
                } else if let Some((a, b)) = body.split_once('-') {
                    let a = parse_number(a)?;
                    if b.is_empty() {
                        (a, None)
                    } else {
                        (a, Some(parse_number(b)?))
                    }
                } else {
                    let n = parse_number(body)?;
                    // ClamAV 1.4 reads `{0}` as an unbounded gap (as `*`); the differential
                    // test against clamscan found this.
                    (n, if n == 0 { None } else { Some(n) })
                };
                if let Some(m) = max
                    && m < min
                {
                    return bad(format!("gap `{body}`: upper bound below lower bound"));
                }
                if square {
                    match max {
                        Some(m) if m <= 32 && body.contains('-') => {}
                        _ => return bad(format!("`[{body}]`: needs n-m with m at most 32")),
                    }
                }
                if elems.is_empty() && run.is_empty() {
                    return bad("a signature cannot start with a gap");
                }
                flush(&mut run, &mut elems);
                elems.push(Elem::Gap { min, max });
                i = end + 1;
            }
            b'!' | b'(' => {
                let neg = s[i] == b'!';
                if neg && s.get(i + 1) != Some(&b'(') {
                    return bad("`!` must be followed by `(`");
                }
                let open = if neg { i + 1 } else { i };
                let end = s[open..]
                    .iter()
                    .position(|&c| c == b')')
                    .map(|p| p + open)
                    .ok_or_else(|| LineError::Bad("unclosed `(`".into()))?;
                let body = &sig[open + 1..end];
                if matches!(body, "B" | "L" | "W") {
                    return unsupported(format!("`({body})` boundary anchor"));
                }
                let mut opts = Vec::new();
                for opt in body.split('|') {
                    let o = opt.as_bytes();
                    if o.is_empty() || o.len() % 2 != 0 {
                        return bad(format!("bad alternative `{opt}`"));
                    }
                    let mut bytes = Vec::new();
                    for j in (0..o.len()).step_by(2) {
                        bytes.push(parse_pbyte(o, j)?);
                    }
                    opts.push(bytes);
                }
                if opts.len() < 2 && !neg {
                    return bad(format!("alternative `({body})` needs at least two choices"));
                }
                if neg && opts.iter().any(|o| o.len() != opts[0].len()) {
                    return bad("negated alternatives must all have the same length");
                }
                flush(&mut run, &mut elems);
                elems.push(Elem::Alt { opts, neg });
                i = end + 1;
            }
            _ => {
                run.push(parse_pbyte(s, i)?);
                i += 2;
            }
        }
    }
    flush(&mut run, &mut elems);
    if elems.len() > MAX_ELEMS {
        return bad(format!(
            "more than {MAX_ELEMS} wildcards, gaps and alternatives"
        ));
    }
    if matches!(elems.last(), Some(Elem::Gap { .. })) {
        return bad("a signature cannot end with a gap");
    }
    if elems.is_empty() {
        return bad("empty signature");
    }
    Ok(elems)
}

/// The longest run of fully fixed bytes: `(element index, start, len)`.
pub(crate) fn longest_literal(elems: &[Elem]) -> Option<(usize, usize, usize)> {
    let mut best: Option<(usize, usize, usize)> = None;
    for (ei, e) in elems.iter().enumerate() {
        if let Elem::Bytes(bs) = e {
            let mut start = 0;
            for j in 0..=bs.len() {
                if j == bs.len() || bs[j].1 != 0xff {
                    let len = j - start;
                    if len > 0 && best.is_none_or(|b| len > b.2) {
                        best = Some((ei, start, len));
                    }
                    start = j + 1;
                }
            }
        }
    }
    best
}

/// A parsed `.ndb` line.
#[derive(Debug, Clone)]
pub(crate) struct NdbSig {
    pub name: String,
    pub target: u8,
    pub offset: Offset,
    pub elems: Vec<Elem>,
}

/// Minimum number of consecutive fixed bytes a body signature needs (ClamAV's rule).
pub(crate) const MIN_LITERAL: usize = 3;

/// Parses one `.ndb` line.
pub(crate) fn parse_ndb_line(line: &str) -> Result<NdbSig, LineError> {
    let fields: Vec<&str> = line.split(':').collect();
    if fields.len() < 4 || fields.len() > 6 {
        return bad(format!(
            "expected Name:Target:Offset:HexSignature[:MinFL[:MaxFL]], got {} fields",
            fields.len()
        ));
    }
    let name = fields[0];
    if name.is_empty() {
        return bad("empty signature name");
    }
    for fl in &fields[4..] {
        if !fl.is_empty() {
            fl.parse::<u32>()
                .or_else(|_| bad(format!("bad functionality level `{fl}`")))?;
        }
    }
    let target = parse_target(fields[1])?;
    let offset = parse_offset(fields[2])?;
    let elems = parse_hex(fields[3])?;
    check_literal(&elems)?;
    Ok(NdbSig {
        name: name.to_string(),
        target,
        offset,
        elems,
    })
}

pub(crate) fn check_literal(elems: &[Elem]) -> Result<(), LineError> {
    match longest_literal(elems) {
        Some((_, _, n)) if n >= MIN_LITERAL => Ok(()),
        _ => bad(format!(
            "needs at least {MIN_LITERAL} consecutive fixed bytes"
        )),
    }
}

/// Parses a target type number; those this engine cannot route are unsupported.
pub(crate) fn parse_target(s: &str) -> Result<u8, LineError> {
    let t: u8 = s
        .parse()
        .or_else(|_| bad(format!("bad target type `{s}`")))?;
    match t {
        0..=7 | 9 | 10 => Ok(t),
        8 | 11..=14 => unsupported(format!("target type {t}")),
        _ => bad(format!("unknown target type {t}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_element() {
        let e = parse_hex("aabb??c?{2}?d*(01|0203)!(ee|ff){-3}11{4-}22{1-2}33[1-2]44").unwrap();
        assert_eq!(e.len(), 14);
        assert_eq!(
            e[0],
            Elem::Bytes(vec![(0xaa, 0xff), (0xbb, 0xff), (0, 0), (0xc0, 0xf0)])
        );
        assert_eq!(
            e[1],
            Elem::Gap {
                min: 2,
                max: Some(2)
            }
        );
        assert_eq!(e[2], Elem::Bytes(vec![(0x0d, 0x0f)]));
        assert_eq!(e[3], Elem::Gap { min: 0, max: None });
        assert!(
            matches!(&e[4], Elem::Alt { opts, neg: false } if opts.len() == 2 && opts[1].len() == 2)
        );
        assert!(matches!(&e[5], Elem::Alt { neg: true, .. }));
        assert_eq!(
            e[6],
            Elem::Gap {
                min: 0,
                max: Some(3)
            }
        );
        assert_eq!(e[8], Elem::Gap { min: 4, max: None });
        assert_eq!(
            e[12],
            Elem::Gap {
                min: 1,
                max: Some(2)
            }
        );
    }

    #[test]
    fn rejects_malformed() {
        for s in [
            "aab",
            "aazz",
            "*aabbcc",
            "aabbcc*",
            "aabbcc{3-1}dd",
            "aabbcc(dd",
            "aabbcc!(dd|eeff)",
            "aabbcc[1-40]dd",
        ] {
            assert!(matches!(parse_hex(s), Err(LineError::Bad(_))), "{s}");
        }
        assert!(parse_ndb_line("X:0:*:aa??bb").is_err());
        let long = "aabbcc".to_string() + &"{1}dd".repeat(600);
        assert!(matches!(parse_hex(&long), Err(LineError::Bad(_))));
        assert!(matches!(
            parse_ndb_line("X:1:EP+0:aabbcc"),
            Err(LineError::Unsupported(_))
        ));
    }

    #[test]
    fn offsets() {
        assert_eq!(parse_offset("*").unwrap(), Offset::Any);
        assert_eq!(parse_offset("10").unwrap(), Offset::Abs(10, 0));
        assert_eq!(parse_offset("10,5").unwrap(), Offset::Abs(10, 5));
        assert_eq!(parse_offset("EOF-7").unwrap(), Offset::Eof(7, 0));
        assert!(Offset::Abs(10, 5).accepts(15, 100));
        assert!(!Offset::Abs(10, 5).accepts(16, 100));
        assert!(Offset::Eof(7, 0).accepts(93, 100));
        assert!(!Offset::Eof(700, 0).accepts(0, 100));
    }
}
