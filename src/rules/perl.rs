//! Perl regex syntax (as SpamAssassin rules write it) translated for two engines:
//! `regex::bytes` with Unicode off (most rules, linear time), and PCRE2 in non-UTF mode for
//! the constructs `regex` lacks (lookaround, backreferences, atomic groups, possessive
//! quantifiers, `\K`, `\G`, ...).
//!
//! Rule text reaches here as chars U+0000..U+00FF standing for bytes (see the parser); every
//! char at or above 0x80 is emitted as `\xHH` so both engines match the byte.
//!
//! Perl traps handled (FACTS.md): `$` without `/m` also matches before a final newline;
//! `\<` and `\>` are literal; a bare `[` inside a class is literal; `{` that does not start a
//! quantifier is literal; `(?aa)`/`(?^aai:` flag groups; `/x` does not ignore whitespace
//! inside classes; `\Z`; octal escapes are only `\0..` and `\o{}`, so `\1` stays a
//! backreference.

use std::fmt::Write as _;

/// Which engine a translation targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `regex::bytes`.
    Regex,
    /// PCRE2, non-UTF mode.
    Pcre2,
    /// `regex::bytes` for a *filter*: a pattern that matches wherever the Perl pattern
    /// matches (maybe more), on the lines of a text joined with `\n`. Anchors become
    /// line anchors; lookaround is dropped; atomic groups, possessive quantifiers and
    /// backreferences are relaxed (a backreference becomes `[^\n]*`). Used to rule a rule
    /// out with one search over a whole text, and to extract the literals that gate it.
    Filter,
}

/// Why a pattern cannot go to `regex`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Translation {
    /// Pattern text for the engine asked for.
    Ok(String),
    /// Needs a backtracking engine (names the construct).
    NeedsBacktracking(&'static str),
    /// Cannot be expressed (names the reason).
    Unsupported(String),
}

#[derive(Clone, Copy)]
struct Flags {
    m: bool,
    x: bool,
}

/// Translates a Perl pattern with its flags for `dialect`.
pub fn translate(source: &str, flags: &str, dialect: Dialect) -> Translation {
    let mut t = Tr {
        c: source.chars().collect(),
        i: 0,
        out: String::with_capacity(source.len() + 16),
        dialect,
        stack: Vec::new(),
        flags: Flags {
            m: flags.contains('m'),
            x: flags.contains('x'),
        },
    };
    // Flags first: in `(?-ui)` the `-` would turn `i` off too.
    t.out.push_str("(?");
    for f in ['i', 's', 'm'] {
        if flags.contains(f) {
            t.out.push(f);
        }
    }
    if dialect != Dialect::Pcre2 {
        t.out.push_str("-u");
    }
    t.out.push(')');
    if t.out == "(?)" {
        t.out.clear();
    }
    match t.run() {
        Ok(()) => Translation::Ok(t.out),
        Err(e) => e,
    }
}

struct Tr {
    c: Vec<char>,
    i: usize,
    out: String,
    dialect: Dialect,
    /// Open groups: the flags to restore, and for a lookaround dropped by the filter
    /// dialect the output length to truncate back to.
    stack: Vec<(Flags, Option<usize>)>,
    flags: Flags,
}

fn push_byte(out: &mut String, b: u32) {
    let _ = write!(out, "\\x{b:02X}");
}

/// Emits a literal char (a byte) escaped as needed for either engine.
fn push_literal(out: &mut String, c: char) {
    let b = c as u32;
    if b >= 0x80 || (c.is_ascii_control()) {
        push_byte(out, b);
    } else if c.is_ascii_alphanumeric() || c == '_' {
        out.push(c);
    } else if c == ' ' {
        out.push_str("\\x20");
    } else if "\\.+*?()|[]{}^$#&-~".contains(c) {
        out.push('\\');
        out.push(c);
    } else {
        // Not escaped: `\<` and `\>` are word boundaries in `regex`, unlike Perl.
        out.push(c);
    }
}

impl Tr {
    fn peek(&self, k: usize) -> Option<char> {
        self.c.get(self.i + k).copied()
    }

    fn backtrack(&self, what: &'static str) -> Result<(), Translation> {
        if self.dialect != Dialect::Pcre2 {
            Err(Translation::NeedsBacktracking(what))
        } else {
            Ok(())
        }
    }

    fn run(&mut self) -> Result<(), Translation> {
        while self.i < self.c.len() {
            let c = self.c[self.i];
            if self.flags.x {
                if c.is_whitespace() {
                    self.i += 1;
                    continue;
                }
                if c == '#' {
                    while self.i < self.c.len() && self.c[self.i] != '\n' {
                        self.i += 1;
                    }
                    continue;
                }
            }
            match c {
                '\\' => self.escape(false)?,
                '[' => self.class()?,
                '(' => self.group()?,
                ')' => {
                    self.out.push(')');
                    self.i += 1;
                    if let Some((f, drop)) = self.stack.pop() {
                        self.flags = f;
                        if let Some(len) = drop {
                            // An empty group keeps a following quantifier off the atom
                            // before.
                            self.out.truncate(len);
                            self.out.push_str("(?:)");
                        }
                    }
                }
                '$' => {
                    self.i += 1;
                    self.dollar();
                }
                '{' => {
                    if let Some(len) = self.quantifier_len() {
                        let q: String = self.c[self.i..self.i + len].iter().collect();
                        // Perl 5.34+ reads `{,n}` as `{0,n}`.
                        let q = q.replacen("{,", "{0,", 1);
                        self.out.push_str(&q);
                        self.i += len;
                        self.after_quantifier()?;
                    } else {
                        self.out.push_str("\\{");
                        self.i += 1;
                    }
                }
                '}' => {
                    self.out.push_str("\\}");
                    self.i += 1;
                }
                '*' | '+' | '?' => {
                    self.out.push(c);
                    self.i += 1;
                    self.after_quantifier()?;
                }
                '^' if self.dialect == Dialect::Filter => {
                    self.out.push_str("(?m:^)");
                    self.i += 1;
                }
                '.' | '^' | '|' => {
                    self.out.push(c);
                    self.i += 1;
                }
                _ => {
                    push_literal(&mut self.out, c);
                    self.i += 1;
                }
            }
        }
        if !self.stack.is_empty() {
            return Err(Translation::Unsupported("unbalanced `(`".into()));
        }
        Ok(())
    }

    /// `$`: end of string or before a final newline (Perl, no /m); with /m before any newline.
    fn dollar(&mut self) {
        if self.dialect == Dialect::Pcre2 {
            self.out.push('$');
        } else if self.flags.m || self.dialect == Dialect::Filter {
            self.out.push_str("(?m:$)");
        } else {
            // Consumes the final newline instead of looking ahead: the same hit or miss.
            self.out.push_str("(?:\\n?\\z)");
        }
    }

    /// After `*`, `+`, `?` or `{..}`: a lazy `?` is fine, a possessive `+` is not.
    fn after_quantifier(&mut self) -> Result<(), Translation> {
        match self.peek(0) {
            Some('?') => {
                self.out.push('?');
                self.i += 1;
            }
            Some('+') if self.dialect == Dialect::Filter => self.i += 1,
            Some('+') => {
                self.backtrack("possessive quantifier")?;
                self.out.push('+');
                self.i += 1;
            }
            _ => {}
        }
        Ok(())
    }

    /// Length of a valid `{n}`, `{n,}`, `{n,m}` or `{,m}` at the cursor.
    fn quantifier_len(&self) -> Option<usize> {
        let mut j = self.i + 1;
        let digits = |j: &mut usize| {
            let s = *j;
            while *j < self.c.len() && self.c[*j].is_ascii_digit() {
                *j += 1;
            }
            *j - s
        };
        let a = digits(&mut j);
        let mut b = 0;
        let mut comma = false;
        if self.c.get(j) == Some(&',') {
            comma = true;
            j += 1;
            b = digits(&mut j);
        }
        if self.c.get(j) != Some(&'}') || (a == 0 && (!comma || b == 0)) {
            return None;
        }
        Some(j + 1 - self.i)
    }

    fn group(&mut self) -> Result<(), Translation> {
        self.stack.push((self.flags, None));
        self.i += 1;
        if self.peek(0) != Some('?') {
            if self.peek(0) == Some('*') {
                return Err(Translation::Unsupported("`(*VERB)`".into()));
            }
            self.out.push('(');
            return Ok(());
        }
        let next = self.peek(1);
        match next {
            Some(':') => {
                self.out.push_str("(?:");
                self.i += 2;
            }
            Some('=') | Some('!') | Some('<')
                if self.dialect == Dialect::Filter
                    && (next != Some('<') || matches!(self.peek(2), Some('=') | Some('!'))) =>
            {
                // Dropped: the group's translation is discarded at its `)`.
                let len = self.out.len();
                if let Some(top) = self.stack.last_mut() {
                    top.1 = Some(len);
                }
                self.out.push_str("(?:");
                self.i += if next == Some('<') { 3 } else { 2 };
            }
            Some('>') | Some('|') if self.dialect == Dialect::Filter => {
                self.out.push_str("(?:");
                self.i += 2;
            }
            Some('=') | Some('!') => {
                self.backtrack("lookahead")?;
                self.out.push_str("(?");
                self.out.push(next.unwrap_or('='));
                self.i += 2;
            }
            Some('<') if matches!(self.peek(2), Some('=') | Some('!')) => {
                self.backtrack("lookbehind")?;
                self.out.push_str("(?<");
                self.out.push(self.peek(2).unwrap_or('='));
                self.i += 3;
            }
            Some('>') => {
                self.backtrack("atomic group")?;
                self.out.push_str("(?>");
                self.i += 2;
            }
            Some('|') => {
                self.backtrack("branch reset group")?;
                self.out.push_str("(?|");
                self.i += 2;
            }
            Some('#') => {
                // Comment group: dropped entirely.
                while self.i < self.c.len() && self.c[self.i] != ')' {
                    self.i += 1;
                }
                self.i += 1;
                self.stack.pop();
            }
            Some('<') | Some('P') | Some('\'') => {
                // Named capture: (?<n>..), (?P<n>..), (?'n'..). Named backreference
                // (?P=n) and recursion (?P>n) need backtracking.
                let mut j = self.i + 1;
                if self.c.get(j) == Some(&'P') {
                    j += 1;
                    if matches!(self.c.get(j), Some('=') | Some('>')) {
                        self.backtrack("named backreference")?;
                        return Err(Translation::Unsupported("(?P=name)".into()));
                    }
                }
                let close = if self.c.get(j) == Some(&'\'') {
                    '\''
                } else {
                    '>'
                };
                j += 1;
                let start = j;
                while j < self.c.len() && self.c[j] != close {
                    j += 1;
                }
                if j >= self.c.len() {
                    return Err(Translation::Unsupported("unterminated group name".into()));
                }
                let name: String = self.c[start..j].iter().collect();
                let _ = write!(self.out, "(?P<{name}>");
                self.i = j + 1;
            }
            _ => self.flag_group()?,
        }
        Ok(())
    }

    /// `(?flags)` or `(?flags:` with Perl's `^`, `a`, `u`, `l`, `d` and `n` handled.
    fn flag_group(&mut self) -> Result<(), Translation> {
        let mut j = self.i + 1;
        let mut on = String::new();
        let mut off = String::new();
        let mut negative = false;
        let mut caret = false;
        loop {
            match self.c.get(j) {
                Some('^') => caret = true,
                Some('-') => negative = true,
                Some(f @ ('i' | 'm' | 's' | 'x')) => {
                    if negative {
                        off.push(*f);
                    } else {
                        on.push(*f);
                    }
                }
                // Charset modifiers: the rule text is bytes and classes are ASCII anyway.
                Some('a' | 'u' | 'l' | 'd' | 'n' | 'p' | 'o') => {}
                Some(':') | Some(')') => break,
                _ => {
                    return Err(Translation::Unsupported(
                        "unknown `(?` group construct".into(),
                    ));
                }
            }
            j += 1;
        }
        if caret {
            for f in ['i', 'm', 's', 'x'] {
                if !on.contains(f) {
                    off.push(f);
                }
            }
        }
        let end = self.c[j];
        let saved = self.flags;
        if on.contains('m') {
            self.flags.m = true;
        }
        if off.contains('m') {
            self.flags.m = false;
        }
        if on.contains('x') {
            self.flags.x = true;
        }
        if off.contains('x') {
            self.flags.x = false;
        }
        let keep = |s: &str| -> String {
            s.chars()
                .filter(|c| *c == 'i' || *c == 's' || *c == 'm' || *c == 'x')
                .filter(|c| self.dialect == Dialect::Pcre2 || *c != 'x')
                .collect()
        };
        let (on, off) = (keep(&on), keep(&off));
        self.out.push_str("(?");
        self.out.push_str(&on);
        if !off.is_empty() {
            self.out.push('-');
            self.out.push_str(&off);
        }
        self.i = j + 1;
        if end == ')' {
            // `(?i)`: applies to the rest of the enclosing group, so no frame of its own.
            self.stack.pop();
            if self.out.ends_with("(?") {
                self.out.truncate(self.out.len() - 2);
            } else {
                self.out.push(')');
            }
            let _ = saved;
        } else {
            self.out.push(':');
            // The frame pushed by `group` restores the flags saved before this group.
            if let Some(top) = self.stack.last_mut() {
                top.0 = saved;
            }
        }
        Ok(())
    }

    /// An escape outside (`in_class == false`) or inside a class.
    fn escape(&mut self, in_class: bool) -> Result<(), Translation> {
        self.i += 1;
        let Some(c) = self.peek(0) else {
            return Err(Translation::Unsupported("trailing backslash".into()));
        };
        self.i += 1;
        match c {
            'd' | 'D' | 'w' | 'W' | 's' | 'S' => {
                self.out.push('\\');
                self.out.push(c);
            }
            'b' if in_class => push_byte(&mut self.out, 8),
            'A' | 'G' if self.dialect == Dialect::Filter && !in_class => {
                self.out.push_str("(?m:^)")
            }
            'z' | 'Z' if self.dialect == Dialect::Filter && !in_class => {
                self.out.push_str("(?m:$)")
            }
            'b' | 'B' | 'A' | 'z' => {
                self.out.push('\\');
                self.out.push(c);
            }
            'Z' => {
                if self.dialect == Dialect::Pcre2 {
                    self.out.push_str("\\Z");
                } else {
                    self.out.push_str("(?:\\n?\\z)");
                }
            }
            'n' => push_byte(&mut self.out, 0x0a),
            'r' => push_byte(&mut self.out, 0x0d),
            't' => push_byte(&mut self.out, 0x09),
            'f' => push_byte(&mut self.out, 0x0c),
            'e' => push_byte(&mut self.out, 0x1b),
            'a' => push_byte(&mut self.out, 0x07),
            'x' => {
                let v = if self.peek(0) == Some('{') {
                    let start = self.i + 1;
                    let mut j = start;
                    while j < self.c.len() && self.c[j] != '}' {
                        j += 1;
                    }
                    let hex: String = self.c[start..j.min(self.c.len())].iter().collect();
                    self.i = j + 1;
                    u32::from_str_radix(hex.trim(), 16).unwrap_or(0)
                } else {
                    let mut v = 0;
                    for _ in 0..2 {
                        match self.peek(0).and_then(|h| h.to_digit(16)) {
                            Some(d) => {
                                v = v * 16 + d;
                                self.i += 1;
                            }
                            None => break,
                        }
                    }
                    v
                };
                if v > 0xff {
                    return Err(Translation::Unsupported(format!(
                        "\\x{{{v:X}}} above 0xFF cannot match bytes"
                    )));
                }
                push_byte(&mut self.out, v);
            }
            '0' => {
                let mut v = 0;
                for _ in 0..2 {
                    match self.peek(0).and_then(|h| h.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            self.i += 1;
                        }
                        None => break,
                    }
                }
                push_byte(&mut self.out, v);
            }
            'c' => {
                let Some(x) = self.peek(0) else {
                    return Err(Translation::Unsupported("\\c at end".into()));
                };
                self.i += 1;
                push_byte(&mut self.out, (x.to_ascii_uppercase() as u32) ^ 0x40);
            }
            '1'..='9' if !in_class && self.dialect == Dialect::Filter => {
                // The captured text, whatever it was.
                self.out.push_str("(?s-u:.*?)");
                while self.peek(0).is_some_and(|d| d.is_ascii_digit()) {
                    self.i += 1;
                }
            }
            '1'..='9' if !in_class => {
                self.backtrack("backreference")?;
                self.out.push('\\');
                self.out.push(c);
                while let Some(d) = self.peek(0).filter(char::is_ascii_digit) {
                    self.out.push(d);
                    self.i += 1;
                }
            }
            '1'..='7' => {
                // Octal inside a class.
                let mut v = c.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match self.peek(0).and_then(|h| h.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            self.i += 1;
                        }
                        None => break,
                    }
                }
                push_byte(&mut self.out, v & 0xff);
            }
            'Q' => {
                while self.i < self.c.len() {
                    if self.c[self.i] == '\\' && self.peek(1) == Some('E') {
                        self.i += 2;
                        break;
                    }
                    push_literal(&mut self.out, self.c[self.i]);
                    self.i += 1;
                }
            }
            'E' => {}
            'K' if self.dialect == Dialect::Filter && !in_class => {}
            'R' | 'C' if self.dialect == Dialect::Filter && !in_class => {
                self.out.push_str("(?:\\r\\n|(?s-u:.))")
            }
            'h' | 'H' | 'v' | 'V' | 'N' | 'p' | 'P' if self.dialect == Dialect::Filter => {
                if matches!(c, 'p' | 'P') && self.peek(0) == Some('{') {
                    while self.peek(0).is_some_and(|x| x != '}') {
                        self.i += 1;
                    }
                    self.i += 1;
                } else if matches!(c, 'p' | 'P') {
                    self.i += 1;
                }
                // Any byte: a superset of each.
                self.out
                    .push_str(if in_class { "\\x00-\\xFF" } else { "(?s-u:.)" });
            }
            'K' | 'G' | 'g' | 'k' | 'R' | 'X' | 'C' if !in_class => {
                self.backtrack("backtracking-only escape")?;
                self.out.push('\\');
                self.out.push(c);
            }
            'h' | 'H' | 'v' | 'V' | 'N' | 'p' | 'P' => {
                if self.dialect == Dialect::Pcre2 {
                    self.out.push('\\');
                    self.out.push(c);
                } else {
                    return Err(Translation::NeedsBacktracking("\\h \\v \\N \\p escape"));
                }
            }
            _ if c.is_ascii_alphanumeric() => {
                // Perl reads an unknown letter escape as the letter.
                self.out.push(c);
            }
            _ => push_literal(&mut self.out, c),
        }
        Ok(())
    }

    /// A bracketed class. Perl reads a bare `[` inside as literal, `]` first as literal,
    /// and POSIX `[:name:]` as a class; `/x` does not apply inside.
    fn class(&mut self) -> Result<(), Translation> {
        self.i += 1;
        self.out.push('[');
        if self.peek(0) == Some('^') {
            self.out.push('^');
            self.i += 1;
        }
        let mut first = true;
        // Whether the previous item was a single char that can start a range.
        let mut prev_single = false;
        loop {
            let Some(c) = self.peek(0) else {
                return Err(Translation::Unsupported("unterminated class".into()));
            };
            if c == ']' && !first {
                self.i += 1;
                break;
            }
            first = false;
            match c {
                '[' if self.peek(1) == Some(':') => {
                    // POSIX class [:name:] / [:^name:]
                    let start = self.i;
                    let mut j = self.i + 2;
                    while j + 1 < self.c.len() && !(self.c[j] == ':' && self.c[j + 1] == ']') {
                        j += 1;
                    }
                    if j + 1 >= self.c.len() {
                        self.out.push_str("\\[");
                        self.i += 1;
                        prev_single = true;
                        continue;
                    }
                    let s: String = self.c[start..j + 2].iter().collect();
                    self.out.push_str(&s);
                    self.i = j + 2;
                    prev_single = false;
                }
                '\\' => {
                    let before = self.out.len();
                    self.escape(true)?;
                    let emitted = &self.out[before..];
                    prev_single = emitted.starts_with("\\x")
                        || emitted.len() == 1
                        || (emitted.len() == 2
                            && !matches!(emitted, "\\d" | "\\D" | "\\w" | "\\W" | "\\s" | "\\S"));
                }
                '-' => {
                    let next = self.peek(1);
                    if prev_single && next.is_some() && next != Some(']') {
                        self.out.push('-');
                        self.i += 1;
                        // The range end.
                        let end = self.peek(0).unwrap_or(']');
                        if end == '\\' {
                            self.escape(true)?;
                        } else {
                            push_literal(&mut self.out, end);
                            self.i += 1;
                        }
                        prev_single = false;
                    } else {
                        self.out.push_str("\\-");
                        self.i += 1;
                        prev_single = true;
                    }
                }
                _ => {
                    push_literal(&mut self.out, c);
                    self.i += 1;
                    prev_single = true;
                }
            }
        }
        self.out.push(']');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(src: &str, flags: &str) -> regex::bytes::Regex {
        match translate(src, flags, Dialect::Regex) {
            Translation::Ok(s) => {
                regex::bytes::Regex::new(&s).unwrap_or_else(|e| panic!("{s}: {e}"))
            }
            other => panic!("{src}: {other:?}"),
        }
    }

    #[test]
    fn dollar_matches_before_final_newline() {
        assert!(re("foo$", "").is_match(b"foo\n"));
        assert!(!re("foo$", "").is_match(b"foo\nbar"));
        assert!(re("foo$", "m").is_match(b"foo\nbar"));
    }

    #[test]
    fn perl_literals() {
        assert!(re(r"\<b\>", "").is_match(b"<b>"));
        assert!(re(r"<[^\@]*>", "").is_match(b"<a>"));
        assert!(!re(r"<[^\@]*>", "").is_match(b"<a@b>"));
        assert!(re(r"[[a]+", "").is_match(b"[[["));
        assert!(re(r"a{,2}x{", "").is_match(b"x{"));
        assert!(re(r"[\xe0-\xe5]", "").is_match(b"\xe2"));
        assert!(re("(?^aai:ab)c", "").is_match(b"ABc"));
        assert!(!re("(?^aai:ab)c", "").is_match(b"ABC"));
        assert!(re("a b # comment", "x").is_match(b"ab"));
        assert!(re("[a b]", "x").is_match(b" "));
        assert!(re("\u{e9}", "").is_match(b"\xe9"));
        assert!(re("free", "i").is_match(b"FREE"));
        assert!(re(r"\d[&&~-]", "").is_match(b"1~"));
    }

    #[test]
    fn backtracking_constructs_go_to_pcre2() {
        for p in [r"(a)\1", "a(?!b)", "(?<=a)b", "(?>a+)", "a++"] {
            assert!(matches!(
                translate(p, "", Dialect::Regex),
                Translation::NeedsBacktracking(_)
            ));
            let Translation::Ok(s) = translate(p, "", Dialect::Pcre2) else {
                panic!("{p}");
            };
            pcre2::bytes::Regex::new(&s).unwrap_or_else(|e| panic!("{s}: {e}"));
        }
    }
}
