//! Turns a normalized message into the set of tokens the classifier weighs.
//!
//! The design follows the published filters and was checked on the training half of the
//! SpamAssassin public corpus (see `benches/compare/bayes.md`):
//!
//! - **Body words** (Graham, SpamBayes): every text part, HTML rendered to text first, split
//!   at anything that is not a letter, digit or one of `$ ' - . ,` inside a word; lowercased
//!   (SpamBayes found case folding costs nothing); a word with capitals also gives a `C:`
//!   token in its original case (shouting is a clue: +0.7 pp recall on validation). Words under 3
//!   bytes are dropped; words over 20 bytes become one `sk:` token carrying their
//!   first character and length in tens (SpamBayes' "skip" tokens: long base64 or hash
//!   junk is a clue, its exact text is not).
//! - **CJK and Thai text** has no spaces between words: a run of such characters becomes
//!   overlapping character bigrams (the usual segmentation-free approach for Bayesian filters),
//!   so a whole Chinese or Japanese sentence never collapses into one token. Other scripts
//!   (Cyrillic, Greek, Arabic, ...) split at spaces and punctuation like Latin text.
//! - **URIs** (SpamBayes, SpamAssassin): each link's host and every parent domain (`U:`), its
//!   scheme, and its path pieces (`UP:`), from the rendered text and HTML attributes.
//! - **Headers** with a per-header prefix (`From`, `To`, `Subject`, `Content-Type`, mailers,
//!   ...), address tokens for address headers, host names and /24 networks from `Received`
//!   (dates and times dropped), only the domain of `Message-ID`, and one presence token per
//!   header name. SpamAssassin's ignore list is honoured: `Date`, mailing-list headers, other
//!   filters' `X-Spam-*`/virus-scanner headers and mailbox annotations are never tokens, so
//!   a spam-fighting mailing list cannot become a ham sign nor a filter's verdict a spam one.
//! - **Attachment metadata**: declared and detected types, file name extensions, archive
//!   member extensions.
//! - **Shape** (SpamBayes' "meta" tokens): HTML-only, number of parts, body size in powers
//!   of two.
//!
//! Every token is hashed to 64 bits (FNV-1a) and the set is deduplicated: a message counts
//! each token once, as in Robinson's method.

use crate::mime::header::HeaderField;
use crate::object::Origin;
use crate::view::MessageView;

/// Longest word kept as itself, in bytes; longer ones become `sk:` tokens.
const MAX_WORD: usize = 20;
/// Text read from one part, in bytes (length limit against huge bodies).
const MAX_PART_TEXT: usize = 200_000;
/// Tokens taken from one message at most.
const MAX_TOKENS: usize = 20_000;

/// A hashed token.
pub type Token = u64;

/// FNV-1a, 64 bits: stable across builds and platforms, so a database outlives the program.
pub fn hash(token: &[u8]) -> Token {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in token {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Header names never tokenized (SpamAssassin's Bayes ignore list, abridged, plus
/// annotations mail stores add). Lowercase.
const IGNORED_HEADERS: &[&str] = &[
    "date",
    "delivery-date",
    "delivered-to",
    "delivered-for",
    "envelope-to",
    "sender",
    "x-sender",
    "x-mime-autoconverted",
    "x-converted-to-plain-text",
    "x-list",
    "mailing-list",
    "x-mailing-list",
    "x-unsub",
    "x-unsubscribe",
    "x-mailman-version",
    "x-beenthere",
    "x-loop",
    "mail-followup-to",
    "x-egroups-return",
    "x-egroups-from",
    "x-mdmailing-list",
    "x-xemacs-list",
    "resent-from",
    "resent-to",
    "resent-date",
    "x-resent-from",
    "x-resent-to",
    "x-resent-date",
    "original-from",
    "original-to",
    "original-date",
    "x-original-from",
    "x-original-to",
    "x-original-date",
    "x-mailscanner",
    "x-mailscanner-spamcheck",
    "x-antispam",
    "x-rbl-warning",
    "x-mdaemon-deliver-to",
    "x-virus-scanned",
    "x-mass-check-id",
    "x-pyzor",
    "x-filtered-by",
    "x-scanned-by",
    "x-scanner",
    "spam-apparently-to",
    "x-spam-apparently-to",
    "content-class",
    "thread-index",
    "thread-topic",
    "x-originalarrivaltime",
    "status",
    "x-status",
    "x-flags",
    "x-keywords",
    "replied",
    "forwarded",
    "lines",
    "content-length",
    "x-uid",
    "x-uidl",
    "x-gnus-mail-source",
    "xref",
    "errors-to",
    "precedence",
    "return-path",
];

/// Header name prefixes never tokenized (lowercase).
const IGNORED_PREFIXES: &[&str] = &[
    "list-",
    "x-list-",
    "x-spam",
    "x-virus",
    "x-bugzilla-",
    "x-vm-",
    "x-dcc-",
    "x-spamcop-",
    "x-ap-spam-",
    "x-ripe-spam-",
    "x-mailwarden",
    "x-amavis",
];

fn ignored(name: &str) -> bool {
    IGNORED_HEADERS.contains(&name) || IGNORED_PREFIXES.iter().any(|p| name.starts_with(p))
}

const ADDRESS_HEADERS: &[&str] = &["from", "to", "cc", "reply-to", "bcc"];

/// The tokenizer. Stateless; one value serves every thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tokenizer;

/// Collects tokens: hashed into a set, or kept as text for `--dump`-style inspection.
struct Sink<'s> {
    buf: String,
    out: &'s mut dyn FnMut(&str),
    count: usize,
}

impl Sink<'_> {
    fn emit(&mut self, prefix: &str, word: &str) {
        if self.count >= MAX_TOKENS {
            return;
        }
        self.count += 1;
        self.buf.clear();
        self.buf.push_str(prefix);
        self.buf.push_str(word);
        (self.out)(&self.buf);
    }

    /// A body or header word: lowercased, short ones dropped, long ones summarized.
    fn word(&mut self, prefix: &str, word: &str) {
        let word = word.trim_matches(|c: char| matches!(c, '\'' | '-' | '.' | ','));
        if word.len() < 3 && word.is_ascii() || word.chars().count() < 2 {
            return;
        }
        if word.len() > MAX_WORD {
            let first = word.chars().next().unwrap_or('?');
            let tok = format!("sk:{first}{}", word.len() / 10);
            self.emit(prefix, &tok);
            return;
        }
        if word.bytes().any(|b| b.is_ascii_uppercase()) || !word.is_ascii() {
            let lower = word.to_lowercase();
            self.emit(prefix, &lower);
            if prefix.is_empty() && lower != word {
                self.emit("C:", word);
            }
        } else {
            self.emit(prefix, word);
        }
    }
}

/// Whether `c` is written without spaces between words (CJK ideographs, kana, Hangul, Thai).
fn unspaced(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0E7F      // Thai
        | 0x3040..=0x30FF    // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0xFF66..=0xFF9F    // half-width Katakana
        | 0x20000..=0x2FFFF) // CJK extensions B..
}

fn word_char(c: char) -> bool {
    c.is_alphanumeric() && !unspaced(c) || c == '$'
}

/// Splits text into words (see the module docs) and emits them with `prefix`.
fn text_words(sink: &mut Sink<'_>, prefix: &str, text: &str) {
    let mut start: Option<usize> = None;
    let mut cjk: Vec<char> = Vec::new();
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if unspaced(c) {
            if let Some(s) = start.take() {
                sink.word(prefix, &text[s..i]);
            }
            cjk.push(c);
            continue;
        }
        if !cjk.is_empty() {
            flush_cjk(sink, prefix, &mut cjk);
        }
        let joiner = matches!(c, '\'' | '-' | '.' | ',')
            && start.is_some()
            && iter.peek().is_some_and(|&(_, n)| n.is_alphanumeric());
        if word_char(c) || joiner {
            if start.is_none() {
                start = Some(i);
            }
        } else if let Some(s) = start.take() {
            sink.word(prefix, &text[s..i]);
        }
    }
    if let Some(s) = start {
        sink.word(prefix, &text[s..]);
    }
    if !cjk.is_empty() {
        flush_cjk(sink, prefix, &mut cjk);
    }
}

fn flush_cjk(sink: &mut Sink<'_>, prefix: &str, run: &mut Vec<char>) {
    let mut pair = String::with_capacity(8);
    if run.len() == 1 {
        pair.push(run[0]);
        sink.emit(prefix, &pair);
    }
    for w in run.windows(2) {
        pair.clear();
        pair.push(w[0]);
        pair.push(w[1]);
        sink.emit(prefix, &pair);
    }
    run.clear();
}

/// Finds `scheme://...`, `www.` and `mailto:` links in plain text.
fn text_links(text: &str, out: &mut Vec<String>) {
    let lower = text.to_ascii_lowercase();
    for pat in ["http://", "https://", "ftp://", "www.", "mailto:"] {
        let mut from = 0;
        while let Some(p) = lower[from..].find(pat) {
            let s = from + p;
            if pat == "www." && s >= 4 && lower[..s].ends_with("://") {
                from = s + pat.len();
                continue;
            }
            let end = lower[s..]
                .find(|c: char| c.is_whitespace() || "<>\"'`()[]{}".contains(c))
                .map_or(lower.len(), |e| s + e);
            out.push(
                lower[s..end]
                    .trim_end_matches(['.', ',', ';', ':', '!', '?'])
                    .to_string(),
            );
            from = end.max(s + pat.len());
            if out.len() > 1_000 {
                return;
            }
        }
    }
}

/// Tokens of one URI: scheme, host and its parent domains, path pieces.
fn uri_tokens(sink: &mut Sink<'_>, uri: &str) {
    let uri = uri.trim().to_ascii_lowercase();
    let (scheme, rest) = match uri.split_once("://") {
        Some((s, r)) => (s.to_string(), r),
        None if uri.starts_with("mailto:") => ("mailto".to_string(), &uri[7..]),
        None => ("http".to_string(), uri.as_str()),
    };
    if scheme.len() <= 10 {
        sink.emit("Us:", &scheme);
    }
    let (host_part, path) = match rest.find(['/', '?', '#']) {
        Some(p) => (&rest[..p], &rest[p..]),
        None => (rest, ""),
    };
    let host = host_part
        .rsplit_once('@')
        .map_or(host_part, |(_, h)| h)
        .split(':')
        .next()
        .unwrap_or("");
    if !host.is_empty() && host.len() <= 253 {
        if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            sink.emit("U:", "ip");
            if let Some((net, _)) = host.rsplit_once('.') {
                sink.emit("U:", net);
            }
        } else {
            let mut d = host;
            let mut n = 0;
            loop {
                sink.emit("U:", d);
                n += 1;
                match d.split_once('.') {
                    Some((_, parent)) if parent.contains('.') && n < 6 => d = parent,
                    Some((_, tld)) => {
                        sink.emit("Ut:", tld);
                        break;
                    }
                    None => break,
                }
            }
        }
    }
    for piece in path
        .split(['/', '?', '&', '=', '#', '.', '-', '_'])
        .filter(|p| p.len() >= 3)
        .take(20)
    {
        sink.word("UP:", piece);
    }
}

/// Address tokens: the whole address, its domain, its local part.
fn address_tokens(sink: &mut Sink<'_>, prefix: &str, value: &str) {
    for part in value.split([',', ';', ' ', '<', '>', '"', '(', ')']) {
        let part = part.trim().to_ascii_lowercase();
        if let Some((local, domain)) = part.rsplit_once('@') {
            if domain.is_empty() || part.len() > 100 {
                continue;
            }
            let mut p = String::with_capacity(prefix.len() + 3);
            p.push_str(prefix);
            p.push_str("a:");
            sink.emit(&p, &part);
            p.truncate(prefix.len());
            p.push_str("d:");
            sink.emit(&p, domain);
            p.truncate(prefix.len());
            p.push_str("l:");
            if !local.is_empty() {
                sink.word(&p, local);
            }
        }
    }
}

/// Received: host names and /24 networks, no dates, times or ids.
fn received_tokens(sink: &mut Sink<'_>, value: &str) {
    for raw in value.split(|c: char| c.is_whitespace() || "()[];<>,=".contains(c)) {
        let w = raw.trim_matches(|c: char| c == '.' || c == ':');
        if w.len() < 3 {
            continue;
        }
        let is_ip = w.bytes().all(|b| b.is_ascii_digit() || b == b'.') && w.split('.').count() == 4;
        if is_ip {
            if let Some((net, _)) = w.rsplit_once('.') {
                sink.emit("R:ip:", net);
            }
        } else if w.contains('.') && w.bytes().any(|b| b.is_ascii_alphabetic()) && !w.contains('@')
        {
            sink.word("R:h:", w);
        } else if w.bytes().all(|b| b.is_ascii_alphabetic()) && w.len() <= 12 {
            let lw = w.to_ascii_lowercase();
            if matches!(
                lw.as_str(),
                "with"
                    | "esmtp"
                    | "smtp"
                    | "esmtps"
                    | "lmtp"
                    | "http"
                    | "webmail"
                    | "qmail"
                    | "postfix"
                    | "sendmail"
                    | "exim"
                    | "unknown"
                    | "helo"
            ) {
                sink.emit("R:w:", &lw);
            }
        }
    }
}

fn header_tokens(sink: &mut Sink<'_>, h: &HeaderField) {
    let name = h.name.to_ascii_lowercase();
    if ignored(&name) || name.len() > 40 {
        return;
    }
    sink.emit("H:", &name);
    let value = h.decoded();
    let value = &value[..floor_char_boundary(&value, 4_000)];
    match name.as_str() {
        "received" => received_tokens(sink, value),
        "message-id" => {
            if let Some((_, dom)) = value.trim().trim_end_matches('>').rsplit_once('@') {
                sink.emit("mid:", &dom.to_ascii_lowercase());
            } else {
                sink.emit("mid:", "none");
            }
        }
        "subject" => text_words(sink, "S:", value),
        "content-type" => {
            let mut p = String::from("ct:");
            for (i, piece) in value.split(';').enumerate() {
                let piece = piece.trim().to_ascii_lowercase();
                if i == 0 {
                    sink.emit(&p, &piece);
                } else if let Some((k, v)) = piece.split_once('=') {
                    let v = v.trim_matches('"');
                    if k.trim() == "boundary" {
                        // The boundary's shape names the mailer; its digits are noise.
                        let shape: String = v
                            .chars()
                            .map(|c| {
                                if c.is_ascii_alphanumeric() {
                                    if c.is_ascii_digit() { '9' } else { 'a' }
                                } else {
                                    c
                                }
                            })
                            .take(40)
                            .collect();
                        sink.emit("ctb:", &shape);
                    } else {
                        p.truncate(3);
                        p.push_str(k.trim());
                        p.push('=');
                        sink.emit(&p, v);
                    }
                }
            }
        }
        _ => {
            let mut prefix = String::with_capacity(name.len() + 2);
            prefix.push_str("h:");
            prefix.push_str(&name);
            prefix.push(':');
            if ADDRESS_HEADERS.contains(&name.as_str()) {
                address_tokens(sink, &prefix, value);
            }
            text_words(sink, &prefix, value);
        }
    }
}

fn floor_char_boundary(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    let mut i = max;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn log2_bucket(n: usize) -> String {
    (usize::BITS - n.leading_zeros()).to_string()
}

impl Tokenizer {
    /// The tokenizer.
    pub fn new() -> Tokenizer {
        Tokenizer
    }

    /// The message's tokens, hashed, sorted and deduplicated.
    pub fn tokens(&self, view: &MessageView<'_, '_>) -> Vec<Token> {
        let mut out: Vec<Token> = Vec::with_capacity(512);
        self.each(view, &mut |t| out.push(hash(t.as_bytes())));
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The message's tokens as text, sorted and deduplicated (for inspection and tests).
    pub fn words(&self, view: &MessageView<'_, '_>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        self.each(view, &mut |t| out.push(t.to_string()));
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Calls `f` with every token of the message, in message order, duplicates included.
    pub fn each(&self, view: &MessageView<'_, '_>, f: &mut dyn FnMut(&str)) {
        let mut sink = Sink {
            buf: String::with_capacity(64),
            out: f,
            count: 0,
        };
        for h in view.headers {
            header_tokens(&mut sink, h);
        }
        let mut links: Vec<String> = Vec::new();
        let (mut parts, mut html, mut plain, mut body_len) = (0usize, false, false, 0usize);
        for o in view.objects {
            match o.origin {
                Origin::Message => continue,
                Origin::ArchiveMember => {
                    if let Some(ext) = o.name.as_deref().and_then(extension) {
                        sink.emit("arc:ext:", &ext);
                    }
                    sink.emit("arc:type:", o.detected.name());
                    continue;
                }
                _ => {}
            }
            parts += 1;
            if o.is_text() && o.origin != Origin::EmbeddedMessage {
                let mut text = o.text();
                text.truncate(floor_char_boundary(&text, MAX_PART_TEXT));
                if o.is_html() {
                    html = true;
                    let r = crate::mime::html::render(text.as_bytes());
                    links.extend(
                        r.uris
                            .iter()
                            .map(|u| String::from_utf8_lossy(u).into_owned()),
                    );
                    let rendered = String::from_utf8_lossy(&r.text);
                    text_links(&rendered, &mut links);
                    body_len += rendered.len();
                    text_words(&mut sink, "", &rendered);
                } else {
                    plain |= o.declared_type.as_deref().is_none_or(|t| t == "text/plain");
                    text_links(&text, &mut links);
                    body_len += text.len();
                    text_words(&mut sink, "", &text);
                }
            }
            if let Some(t) = o.declared_type.as_deref() {
                sink.emit("att:ct:", t);
            }
            if o.name.is_some() || !o.is_text() {
                sink.emit("att:type:", o.detected.name());
            }
            if let Some(name) = o.name.as_deref() {
                match extension(name) {
                    Some(ext) => sink.emit("att:ext:", &ext),
                    None => sink.emit("att:ext:", "none"),
                }
            }
        }
        links.truncate(500);
        for l in &links {
            uri_tokens(&mut sink, l);
        }
        sink.emit("x:parts:", &parts.min(20).to_string());
        sink.emit("x:body:", &log2_bucket(body_len));
        sink.emit("x:links:", &log2_bucket(links.len()));
        if html && !plain {
            sink.emit("x:", "html-only");
        }
    }
}

fn extension(name: &str) -> Option<String> {
    let (_, ext) = name.rsplit_once('.')?;
    (!ext.is_empty() && ext.len() <= 10).then(|| ext.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words_of(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut f = |t: &str| out.push(t.to_string());
        let mut sink = Sink {
            buf: String::new(),
            out: &mut f,
            count: 0,
        };
        text_words(&mut sink, "", text);
        out
    }

    #[test]
    fn latin_words_lowercased_short_dropped() {
        assert_eq!(
            words_of("Buy NOW, it's the $19.99 deal!! a ok"),
            [
                "buy", "C:Buy", "now", "C:NOW", "it's", "the", "$19.99", "deal"
            ]
        );
    }

    #[test]
    fn long_words_become_skip_tokens() {
        let w = words_of("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa ok");
        assert_eq!(w, ["sk:a3"]);
    }

    #[test]
    fn cjk_sentence_becomes_bigrams_not_one_token() {
        let w = words_of("我们提供最好的价格");
        assert_eq!(w.len(), 8, "{w:?}");
        assert_eq!(w[0], "我们");
        assert_eq!(w[7], "价格");
        let ja = words_of("こんにちは世界 Tokyo");
        assert!(ja.contains(&"世界".to_string()), "{ja:?}");
        assert!(ja.contains(&"tokyo".to_string()));
    }

    #[test]
    fn cyrillic_and_accents_split_at_spaces() {
        assert_eq!(
            words_of("Привет МИР, café Über"),
            [
                "привет",
                "C:Привет",
                "мир",
                "C:МИР",
                "café",
                "über",
                "C:Über"
            ]
        );
    }

    #[test]
    fn uris_give_host_parents_and_path() {
        let mut out = Vec::new();
        let mut f = |t: &str| out.push(t.to_string());
        let mut sink = Sink {
            buf: String::new(),
            out: &mut f,
            count: 0,
        };
        uri_tokens(&mut sink, "HTTP://www.Example.co.uk/cheap/pills?id=1");
        for t in [
            "Us:http",
            "U:www.example.co.uk",
            "U:example.co.uk",
            "U:co.uk",
            "Ut:uk",
            "UP:cheap",
            "UP:pills",
        ] {
            assert!(out.contains(&t.to_string()), "{t} missing from {out:?}");
        }
    }

    #[test]
    fn received_keeps_hosts_and_networks_only() {
        let mut out = Vec::new();
        let mut f = |t: &str| out.push(t.to_string());
        let mut sink = Sink {
            buf: String::new(),
            out: &mut f,
            count: 0,
        };
        received_tokens(
            &mut sink,
            "from mail.example.org (mail.example.org [192.0.2.17]) by mx.local with ESMTP id 123; Mon, 1 Jan 2024 10:00:00 +0000",
        );
        assert!(out.contains(&"R:ip:192.0.2".to_string()), "{out:?}");
        assert!(out.contains(&"R:h:mail.example.org".to_string()));
        assert!(out.contains(&"R:w:esmtp".to_string()));
        assert!(
            !out.iter().any(|t| t.contains("jan") || t.contains("10:00")),
            "{out:?}"
        );
    }

    #[test]
    fn hash_is_stable() {
        assert_eq!(hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
