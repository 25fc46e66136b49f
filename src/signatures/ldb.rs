//! `.ldb` logical signatures:
//! `Name;TargetDescriptionBlock;LogicalExpression;Subsig0;Subsig1;...`.
//!
//! The target description block takes `Target:N` (required), `Engine:X-Y` and `FileSize:X-Y`;
//! other keys (entry point, sections, containers, icons) are PE/container features this engine
//! does not evaluate, and make the signature unsupported. The expression combines subsignature
//! indexes with `&`, `|`, parentheses and the count operators `=X`, `>X`, `<X` (each optionally
//! `,Y`: at least / fewer than `Y` distinct subsignatures). Subsignatures are
//! `[Offset:]HexSig[::Modifiers]` with modifiers `i` (ASCII case-insensitive), `w` (wide),
//! `a` (with `w`: ASCII too) and `f` (full word), or PCRE subsignatures
//! `[Offset:]Trigger/Regex/[Flags]` where the regex crate can express the pattern.

use super::ndb::{
    Elem, LineError, Offset, bad, check_literal, parse_hex, parse_offset, parse_target, unsupported,
};

/// Subsignatures per logical signature (ClamAV's limit).
pub(crate) const MAX_SUBSIGS: usize = 64;
/// Nesting bound for the expression parser.
const MAX_DEPTH: usize = 64;

/// A logical expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    Sub(usize),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp {
        e: Box<Expr>,
        op: u8,
        x: u64,
        y: Option<u64>,
    },
}

/// An expression's value: total matches, distinct subsignatures matched, truth.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Val {
    pub count: u64,
    pub distinct: u64,
    pub truth: bool,
}

impl Expr {
    pub(crate) fn eval(&self, counts: &[u32]) -> Val {
        match self {
            Expr::Sub(i) => {
                let c = u64::from(counts.get(*i).copied().unwrap_or(0));
                Val {
                    count: c,
                    distinct: u64::from(c > 0),
                    truth: c > 0,
                }
            }
            Expr::And(a, b) | Expr::Or(a, b) => {
                let (a2, b2) = (a.eval(counts), b.eval(counts));
                Val {
                    count: a2.count + b2.count,
                    distinct: a2.distinct + b2.distinct,
                    truth: if matches!(self, Expr::And(..)) {
                        a2.truth && b2.truth
                    } else {
                        a2.truth || b2.truth
                    },
                }
            }
            Expr::Cmp { e, op, x, y } => {
                let v = e.eval(counts);
                let truth = match op {
                    b'=' => v.count == *x && y.is_none_or(|y| v.distinct >= y),
                    b'>' => v.count > *x && y.is_none_or(|y| v.distinct >= y),
                    _ => v.count < *x && y.is_none_or(|y| v.distinct < y),
                };
                Val { truth, ..v }
            }
        }
    }

    /// The largest subsignature index used.
    pub(crate) fn max_sub(&self) -> usize {
        match self {
            Expr::Sub(i) => *i,
            Expr::And(a, b) | Expr::Or(a, b) => a.max_sub().max(b.max_sub()),
            Expr::Cmp { e, .. } => e.max_sub(),
        }
    }
}

struct P<'a> {
    s: &'a [u8],
    i: usize,
}

impl P<'_> {
    fn num(&mut self) -> Result<u64, LineError> {
        let st = self.i;
        while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[st..self.i])
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| {
                LineError::Bad(format!(
                    "expected a number at position {st} of the expression"
                ))
            })
    }

    fn expr(&mut self, depth: usize) -> Result<Expr, LineError> {
        if depth > MAX_DEPTH {
            return bad("logical expression nested too deeply");
        }
        let mut left = self.unary(depth)?;
        while let Some(&c) = self.s.get(self.i) {
            if c != b'&' && c != b'|' {
                break;
            }
            self.i += 1;
            let right = self.unary(depth)?;
            left = if c == b'&' {
                Expr::And(Box::new(left), Box::new(right))
            } else {
                Expr::Or(Box::new(left), Box::new(right))
            };
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Expr, LineError> {
        let prim = match self.s.get(self.i) {
            Some(b'(') => {
                self.i += 1;
                let e = self.expr(depth + 1)?;
                if self.s.get(self.i) != Some(&b')') {
                    return bad("unbalanced parenthesis in logical expression");
                }
                self.i += 1;
                e
            }
            Some(c) if c.is_ascii_digit() => Expr::Sub(self.num()? as usize),
            _ => {
                return bad(format!(
                    "unexpected character at position {} of the expression",
                    self.i
                ));
            }
        };
        match self.s.get(self.i) {
            Some(&op @ (b'=' | b'>' | b'<')) => {
                self.i += 1;
                let x = self.num()?;
                let y = if self.s.get(self.i) == Some(&b',') {
                    self.i += 1;
                    Some(self.num()?)
                } else {
                    None
                };
                Ok(Expr::Cmp {
                    e: Box::new(prim),
                    op,
                    x,
                    y,
                })
            }
            _ => Ok(prim),
        }
    }
}

/// Parses a logical expression.
pub(crate) fn parse_expr(s: &str) -> Result<Expr, LineError> {
    let mut p = P {
        s: s.as_bytes(),
        i: 0,
    };
    let e = p.expr(0)?;
    if p.i != p.s.len() {
        return bad(format!("trailing characters in logical expression `{s}`"));
    }
    Ok(e)
}

/// A hex subsignature, possibly expanded (wide + ASCII) into several patterns.
#[derive(Debug, Clone)]
pub(crate) struct HexSub {
    pub offset: Offset,
    pub variants: Vec<Vec<Elem>>,
    pub nocase: bool,
    pub fullword: bool,
}

/// A PCRE subsignature.
#[derive(Debug, Clone)]
pub(crate) struct PcreSub {
    pub offset: Offset,
    pub trigger: Option<Expr>,
    pub regex: regex::bytes::Regex,
}

/// One subsignature.
#[derive(Debug, Clone)]
pub(crate) enum Sub {
    Hex(HexSub),
    Pcre(PcreSub),
}

/// A parsed logical signature.
#[derive(Debug, Clone)]
pub(crate) struct LdbSig {
    pub name: String,
    pub target: u8,
    pub file_size: Option<(u64, u64)>,
    pub expr: Expr,
    pub subs: Vec<Sub>,
}

fn range(v: &str) -> Result<(u64, u64), LineError> {
    let p = |t: &str| {
        t.parse::<u64>()
            .or_else(|_| bad(format!("bad range `{v}`")))
    };
    match v.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (p(a)?, p(b)?);
            if b < a {
                return bad(format!("bad range `{v}`"));
            }
            Ok((a, b))
        }
        None => {
            let a = p(v)?;
            Ok((a, a))
        }
    }
}

fn wide(elems: &[Elem]) -> Vec<Elem> {
    let w = |bs: &[(u8, u8)]| bs.iter().flat_map(|&b| [b, (0, 0xff)]).collect::<Vec<_>>();
    elems
        .iter()
        .map(|e| match e {
            Elem::Bytes(bs) => Elem::Bytes(w(bs)),
            Elem::Alt { opts, neg } => Elem::Alt {
                opts: opts.iter().map(|o| w(o)).collect(),
                neg: *neg,
            },
            Elem::Gap { min, max } => Elem::Gap {
                min: min * 2,
                max: max.map(|m| m * 2),
            },
        })
        .collect()
}

fn parse_hex_sub(s: &str) -> Result<Sub, LineError> {
    let (main, mods) = match s.split_once("::") {
        Some((m, f)) => (m, f),
        None => (s, ""),
    };
    let (offset, hex) = match main.split_once(':') {
        Some((o, h)) => (parse_offset(o)?, h),
        None => (Offset::Any, main),
    };
    if hex.contains('#') || hex.starts_with("${") || hex.contains("fuzzy_img") {
        return unsupported("byte-compare, macro or image-fuzzy subsignature");
    }
    let (mut nocase, mut w, mut a, mut fullword) = (false, false, false, false);
    for c in mods.chars() {
        match c {
            'i' => nocase = true,
            'w' => w = true,
            'a' => a = true,
            'f' => fullword = true,
            _ => return bad(format!("unknown subsignature modifier `{c}`")),
        }
    }
    let elems = parse_hex(hex)?;
    check_literal(&elems)?;
    let mut variants = Vec::new();
    if w {
        variants.push(wide(&elems));
    }
    if !w || a {
        variants.push(elems);
    }
    Ok(Sub::Hex(HexSub {
        offset,
        variants,
        nocase,
        fullword,
    }))
}

fn parse_pcre_sub(s: &str) -> Result<Sub, LineError> {
    let first_slash = s.find('/').unwrap_or(0);
    let (offset, rest) = match s[..first_slash].split_once(':') {
        Some((o, _)) => (parse_offset(o)?, &s[o.len() + 1..]),
        None => (Offset::Any, s),
    };
    let slash = rest.find('/').unwrap_or(0);
    let last = rest.rfind('/').unwrap_or(0);
    if last <= slash {
        return bad("PCRE subsignature needs Trigger/Regex/[Flags]");
    }
    let trigger_s = &rest[..slash];
    let trigger = if trigger_s.is_empty() {
        None
    } else {
        Some(parse_expr(trigger_s)?)
    };
    let pat = &rest[slash + 1..last];
    let flags = &rest[last + 1..];
    let mut b = regex::bytes::RegexBuilder::new(pat);
    b.unicode(false).size_limit(1 << 22);
    let mut anchored = false;
    for c in flags.chars() {
        match c {
            'i' => {
                b.case_insensitive(true);
            }
            's' => {
                b.dot_matches_new_line(true);
            }
            'm' => {
                b.multi_line(true);
            }
            'x' => {
                b.ignore_whitespace(true);
            }
            'A' => anchored = true,
            'g' | 'r' => {}
            'U' => {
                b.swap_greed(true);
            }
            'E' | 'e' | 'D' => return unsupported(format!("PCRE flag `{c}`")),
            _ => return bad(format!("unknown PCRE flag `{c}`")),
        }
    }
    let regex = match b.build() {
        Ok(r) => r,
        Err(e) => {
            return unsupported(format!(
                "PCRE `{pat}` not expressible: {}",
                e.to_string().lines().last().unwrap_or("")
            ));
        }
    };
    let offset = if anchored && offset == Offset::Any {
        Offset::Abs(0, 0)
    } else {
        offset
    };
    Ok(Sub::Pcre(PcreSub {
        offset,
        trigger,
        regex,
    }))
}

/// Parses one `.ldb` line.
pub(crate) fn parse_ldb_line(line: &str) -> Result<LdbSig, LineError> {
    let f: Vec<&str> = line.split(';').collect();
    if f.len() < 4 {
        return bad("expected Name;TargetDescriptionBlock;LogicalExpression;Subsig0[;...]");
    }
    let name = f[0];
    if name.is_empty() {
        return bad("empty signature name");
    }
    let mut target = None;
    let mut file_size = None;
    for kv in f[1].split(',') {
        let (k, v) = kv
            .split_once(':')
            .ok_or_else(|| LineError::Bad(format!("bad target description `{kv}`")))?;
        match k {
            "Target" => target = Some(parse_target(v)?),
            "Engine" => {
                range(v)?;
            }
            "FileSize" => file_size = Some(range(v)?),
            "EntryPoint" | "NumberOfSections" | "Container" | "Intermediates" | "IconGroup1"
            | "IconGroup2" | "HandlerType" => {
                return unsupported(format!("target description `{k}`"));
            }
            _ => return bad(format!("unknown target description key `{k}`")),
        }
    }
    let target = target.ok_or_else(|| LineError::Bad("target description lacks Target".into()))?;
    let expr = parse_expr(f[2])?;
    let subs_s = &f[3..];
    if subs_s.len() > MAX_SUBSIGS {
        return bad(format!("more than {MAX_SUBSIGS} subsignatures"));
    }
    if expr.max_sub() + 1 != subs_s.len() {
        return bad(format!(
            "the expression uses subsignatures 0..={} but {} are given",
            expr.max_sub(),
            subs_s.len()
        ));
    }
    let mut subs = Vec::new();
    for s in subs_s {
        subs.push(if s.contains('/') {
            parse_pcre_sub(s)?
        } else {
            parse_hex_sub(s)?
        });
    }
    let bad_trigger = |s: &Sub| matches!(s, Sub::Pcre(p) if p.trigger.as_ref().is_some_and(|t| t.max_sub() >= subs_s.len()));
    if subs.iter().any(bad_trigger) {
        return bad("PCRE trigger uses a subsignature that does not exist");
    }
    Ok(LdbSig {
        name: name.to_string(),
        target,
        file_size,
        expr,
        subs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions() {
        let e = parse_expr("(0&1)|2>3,2").unwrap();
        assert!(e.eval(&[1, 1, 0]).truth);
        assert!(!e.eval(&[1, 0, 0]).truth);
        assert!(parse_expr("0&1|(2=0)").unwrap().eval(&[0, 0, 0]).truth);
        assert!(parse_expr("0=2").unwrap().eval(&[2]).truth);
        assert!(!parse_expr("0=2").unwrap().eval(&[3]).truth);
        assert!(parse_expr("0<2").unwrap().eval(&[1]).truth);
        assert!(parse_expr("(0|1)>1,2").unwrap().eval(&[1, 1]).truth);
        assert!(!parse_expr("(0|1)>1,2").unwrap().eval(&[2, 0]).truth);
        for bad in ["", "0&", "(0", "0)", "a", "0=x"] {
            assert!(parse_expr(bad).is_err(), "{bad}");
        }
        let deep = "(".repeat(100) + "0" + &")".repeat(100);
        assert!(parse_expr(&deep).is_err());
    }

    #[test]
    fn lines() {
        let s = parse_ldb_line(
            "X;Engine:51-255,Target:0,FileSize:1-100;0&1;616263::i;EOF-4:646566::wa",
        )
        .unwrap();
        assert_eq!(s.subs.len(), 2);
        assert_eq!(s.file_size, Some((1, 100)));
        assert!(
            matches!(&s.subs[1], Sub::Hex(h) if h.variants.len() == 2 && h.offset == Offset::Eof(4, 0))
        );
        assert!(parse_ldb_line("X;Target:0;0&1;616263").is_err());
        assert!(parse_ldb_line("X;Target:0;0;616263::z").is_err());
        assert!(matches!(
            parse_ldb_line("X;Target:1,EntryPoint:0-10;0;616263"),
            Err(LineError::Unsupported(_))
        ));
        assert!(matches!(
            parse_ldb_line("X;Target:0;0&1;616263;0/a(?=b)/"),
            Err(LineError::Unsupported(_))
        ));
        let p = parse_ldb_line("X;Target:0;0&1;616263;0/ab+c/i").unwrap();
        assert!(matches!(&p.subs[1], Sub::Pcre(p) if p.regex.is_match(b"xABBC")));
    }
}
