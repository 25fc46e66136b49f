//! The Received chain parsed into relays, and the `X-Spam-Relays-*` pseudo-headers built
//! from it the way SpamAssassin writes them:
//! `[ ip=1.2.3.4 rdns=host.example helo=helo by=mx.example ident= envfrom= intl=0 id=ABC auth= msa=0 ]`.
//!
//! With `trusted_networks`, relays are trusted from the most recent down while their IP is
//! in it (loopback always is); with `internal_networks` the same decides internal and
//! external (each defaults to the other when only one is set). Trust without either
//! follows SpamAssassin's inference: walking from the most
//! recent Received line down, relays stay trusted (and internal) while they come from a
//! private address or were authenticated; the first other relay and every one after it are
//! untrusted and external. Lines without a `from` part and an IP address are skipped, as
//! SpamAssassin skips lines it does not recognise as a relay.
//!
//! Covered formats: `from HELO (RDNS [IP])` (sendmail, Postfix), `from RDNS ([IP] helo=HELO)`
//! (Exim), `from HELO ([IP])`, `from HELO (IP)` and `from unknown (HELO x) (IP)` (qmail);
//! `by`, `id`, `envelope-from`, `ident@`, and `with ...A` protocols as auth. SpamAssassin
//! recognises many more MTA formats; differences show in the differential test.

use std::net::IpAddr;

use crate::mime::header::HeaderField;

/// One relay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Relay {
    /// Connecting IP address.
    pub ip: String,
    /// Reverse DNS name the receiving MTA recorded (empty when none).
    pub rdns: String,
    /// HELO name.
    pub helo: String,
    /// Receiving host.
    pub by: String,
    /// Ident user.
    pub ident: String,
    /// Envelope sender recorded.
    pub envfrom: String,
    /// Queue id.
    pub id: String,
    /// Authentication protocol, when the client authenticated.
    pub auth: String,
    /// Whether the IP is private.
    pub private: bool,
    /// Whether the line's format shows the receiving MTA looked the client's name up (a
    /// name before the address in the parenthesis, or sendmail's `([IP]) by host (...)`),
    /// so that an empty `rdns` means the client has none.
    pub dns_looked_up: bool,
}

/// SpamAssassin's `trusted_networks` / `internal_networks`: addresses and networks
/// (`192.0.2.1`, `10/8`, `192.168.`, `2001:db8::/32`), each maybe negated with `!`; the
/// first entry that contains an address decides.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Networks {
    entries: Vec<(bool, IpAddr, u8)>,
}

impl Networks {
    /// Adds one entry; an error names what is wrong with it.
    pub fn add(&mut self, spec: &str) -> Result<(), String> {
        let (negated, rest) = match spec.strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, spec),
        };
        let rest = rest.trim_start_matches('[').replace(']', "");
        let (addr, prefix) = match rest.split_once('/') {
            Some((a, p)) => (
                a.to_string(),
                Some(
                    p.parse::<u8>()
                        .map_err(|_| format!("bad prefix length in `{spec}`"))?,
                ),
            ),
            None => (rest.clone(), None),
        };
        let (ip, default_prefix) = if addr.contains(':') {
            let ip: std::net::Ipv6Addr =
                addr.parse().map_err(|_| format!("bad address `{spec}`"))?;
            (IpAddr::V6(ip), 128)
        } else {
            // IPv4, maybe partial (`10`, `192.168.`): the given octets make the prefix.
            let parts: Vec<&str> = addr.trim_end_matches('.').split('.').collect();
            if parts.is_empty() || parts.len() > 4 {
                return Err(format!("bad address `{spec}`"));
            }
            let mut octets = [0u8; 4];
            for (i, p) in parts.iter().enumerate() {
                octets[i] = p.parse().map_err(|_| format!("bad address `{spec}`"))?;
            }
            (IpAddr::V4(octets.into()), (parts.len() * 8) as u8)
        };
        let prefix = prefix.unwrap_or(default_prefix);
        if prefix > if ip.is_ipv4() { 32 } else { 128 } {
            return Err(format!("prefix length too long in `{spec}`"));
        }
        self.entries.push((negated, ip, prefix));
        Ok(())
    }

    /// Whether no entry is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `ip` is in the list (the first entry containing it decides).
    pub fn contains(&self, ip: &IpAddr) -> bool {
        self.entries
            .iter()
            .find(|(_, net, prefix)| in_network(ip, net, *prefix))
            .is_some_and(|(negated, _, _)| !negated)
    }
}

fn in_network(ip: &IpAddr, net: &IpAddr, prefix: u8) -> bool {
    let (a, b, bits): (u128, u128, u32) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(*a).into(), u32::from(*b).into(), 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(*a), u128::from(*b), 128),
        _ => return false,
    };
    let shift = bits - u32::from(prefix);
    shift >= bits || (a >> shift) == (b >> shift)
}

/// The relays split by trust.
#[derive(Debug, Clone, Default)]
pub struct Relays {
    /// Trusted relays, most recent first.
    pub trusted: Vec<Relay>,
    /// Untrusted relays, most recent first.
    pub untrusted: Vec<Relay>,
    /// Received lines with a `from` part that did not parse as a relay.
    pub unparseable: usize,
    /// How many relays (trusted first, then untrusted, most recent first) are internal,
    /// when `internal_networks` decides that apart from trust.
    pub internal: Option<usize>,
    /// Received headers above the first untrusted relay (trusted ones and lines skipped
    /// before it): SpamAssassin's last trusted relay index plus one.
    pub trusted_received: usize,
}

impl Relay {
    /// SpamAssassin's text form.
    pub fn as_string(&self, internal: bool) -> String {
        format!(
            "[ ip={} rdns={} helo={} by={} ident={} envfrom={} intl={} id={} auth={} msa=0 ]",
            self.ip,
            self.rdns,
            self.helo,
            self.by,
            self.ident,
            self.envfrom,
            u8::from(internal),
            self.id,
            self.auth
        )
    }
}

fn is_private(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => {
            v.is_private() || v.is_loopback() || v.is_link_local() || v.octets()[0] == 0
        }
        IpAddr::V6(v) => {
            v.is_loopback()
                || (v.segments()[0] & 0xfe00) == 0xfc00
                || (v.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// The first address in `[...]` in `s`, else the first bare dotted quad where a Received
/// format puts one (`loose`: anywhere).
fn find_ip(s: &str) -> Option<(usize, IpAddr)> {
    find_ip_in(s, false)
}

fn find_ip_in(s: &str, loose: bool) -> Option<(usize, IpAddr)> {
    let mut from = 0;
    // A bracketed address opening the text is the HELO when another bracketed one follows
    // (`from [192.168.1.2] (host [64.2.62.8]) by`: spam-2/01379).
    let mut opening_literal = None;
    while let Some(p) = s[from..].find('[').map(|p| p + from) {
        if let Some(end) = s[p + 1..].find(']') {
            let inner = s[p + 1..p + 1 + end].trim_start_matches("IPv6:");
            if let Ok(ip) = inner.parse::<IpAddr>() {
                if loose || opening_literal.is_some() || !s[..p].trim().is_empty() {
                    return Some((p, ip));
                }
                opening_literal = Some((p, ip));
            }
        }
        from = p + 1;
    }
    if opening_literal.is_some() {
        return opening_literal;
    }
    let b = s.as_bytes();
    // A bare address opening the text is the HELO when a parenthesized one follows
    // (`from 63.21.73.21 (63.21.73.21) by`: Received.pm's qmail-like format reads the
    // first as the rDNS and HELO, the second as the address; spam-2/00043).
    let mut opening: Option<(usize, IpAddr)> = None;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'[' {
            if let Some(end) = s[i + 1..].find(']') {
                let inner = s[i + 1..i + 1 + end].trim_start_matches("IPv6:");
                if let Ok(ip) = inner.parse::<IpAddr>() {
                    return Some((i, ip));
                }
            }
        } else if b[i].is_ascii_digit()
            // A bare address counts where SpamAssassin's formats have one: first, or right
            // after `(` (qmail, with or without `ident@`) or `( ` (Scalix), not loose in
            // the text (`from host - 1.2.3.4 by`, which SpamAssassin cannot parse).
            && (i == 0
                || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.' || b[i - 1] == b'-'))
            && (loose
                || s[..i].trim().is_empty()
                || matches!(b[i - 1], b'(' | b'@')
                || (b[i - 1] == b' ' && i >= 2 && b[i - 2] == b'('))
        {
            let end = s[i..]
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .map_or(s.len(), |e| e + i);
            // Not run into a word, nor into a bracketed address (`(1.2.3.4[1.2.3.4
            // port:N])`, which Received.pm cannot parse: easy-ham-2/01131).
            let next_ok = s[end..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '-' && c != '[');
            if next_ok && let Ok(ip) = s[i..end].trim_end_matches('.').parse::<IpAddr>() {
                if loose || !s[..i].trim().is_empty() {
                    return Some((i, ip));
                }
                opening.get_or_insert((i, ip));
            }
            i = end;
            continue;
        }
        i += 1;
    }
    opening
}

/// qmail's `from NAME ([ident@]IP) by ...`: the address straight inside the parenthesis,
/// unbracketed, after nothing but an optional `ident@`, and the parenthesis closing after it.
fn qmail_plain(from_part: &str, ip_pos: usize) -> bool {
    let first = from_part.split_whitespace().next().unwrap_or("");
    let Some(open) = from_part[..ip_pos].rfind('(') else {
        return false;
    };
    let inside = &from_part[open + 1..ip_pos];
    let after_ip = &from_part[ip_pos..];
    // Before the parenthesis: the name and a space, or the name and `(HELO h) ` (not
    // `from Life 300(113.2.2.1) Life1 by`, which no format reads: spam-2/00032).
    let head = &from_part[..open];
    let head_ok = head.ends_with(' ') && (head.trim() == first || head.trim_end().ends_with(')'));
    head_ok
        && !first.starts_with('(')
        && !first.starts_with('[')
        && (inside.is_empty() || (inside.ends_with('@') && !inside.contains(char::is_whitespace)))
        && !after_ip.starts_with('[')
        && after_ip
            .find(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':'))
            .is_some_and(|e| after_ip[e..].starts_with(')'))
}

/// Whether the part of a Received line from ` by ` on ends as qmail's do: `by HOST (...)*
/// with [...] SMTP` or `QMQP`, not followed by ` id ` (a sendmail line then).
fn qmail_protocol(by_part: &str) -> bool {
    static QMAIL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^ by \S+(?: \(.+\))* with (?:.* )?(?:SMTP|QMQP)").expect("static regex")
    });
    // The pattern's `(?! id )`: some SMTP or QMQP after ` with ` that no ` id ` follows.
    QMAIL.is_match(by_part)
        && by_part.match_indices(" with ").any(|(w, _)| {
            ["SMTP", "QMQP"].iter().any(|p| {
                by_part[w..]
                    .match_indices(p)
                    .any(|(i, _)| !by_part[w + i + p.len()..].starts_with(" id "))
            })
        })
}

fn word_after<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let pos = find_ascii_ci(s, key)? + key.len();
    s[pos..].split_whitespace().next()
}

/// Where `key` (lower case ASCII) first occurs in `s`, ASCII case-insensitively: what
/// `s.to_ascii_lowercase().find(key)` gives, without the copy.
fn find_ascii_ci(s: &str, key: &str) -> Option<usize> {
    let (hay, key) = (s.as_bytes(), key.as_bytes());
    let first = *key.first()?;
    (0..=hay.len().checked_sub(key.len())?).find(|&i| {
        hay[i].to_ascii_lowercase() == first && hay[i..i + key.len()].eq_ignore_ascii_case(key)
    })
}

/// Whether the part of a Received line before ` by ` holds an address anywhere: a line
/// whose only address is the receiving host's (`from NAME by [IP] via smtpd`) is one of
/// the handovers [`ignorable_without_ip`] describes.
fn from_part_has_ip(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    let end = lower.find(" by ").unwrap_or(line.len());
    find_ip_in(&line[..end], true).is_some()
}

/// Whether the from-part opens with a bare address (`from 210.214.94.76 (unverified) by`):
/// when no format reads such a line, Received.pm's list of ignored handovers decides, as
/// for lines without an address (spam-1/00249's Content Technologies line).
fn opens_with_bare_ip(line: &str) -> bool {
    line.trim_start()
        .get(5..)
        .and_then(|rest| rest.split_whitespace().next())
        .is_some_and(|w| w.parse::<IpAddr>().is_ok())
}

/// The Received lines without an address that SpamAssassin's Received.pm passes over as
/// local or internal handovers rather than counting them unparseable: `from NAME by HOST`
/// with a one-word name, local delivery, `with (local-)?smtp` from localhost or a mail
/// fetcher, `Unknown/Local` and `(user@localhost)` submissions, Microsoft's mail pickup
/// service and the other internal formats Received.pm lists.
fn ignorable_without_ip(line: &str) -> bool {
    static SKIP: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"(?xi)^from\s+(?:
                \S+\s+by\s
              | \S+\s+(?:(?:with|via|for)\s+\S+|\(unverified\))\s+by\b
              | \S+\s+\S+\s+by\s+\S+\s+with\s+local-e?smtp\s
              | \S+\s+\((?:\S+@)?localhost[)\[]
              | \S+\s+\(\S+@\S+\s+\[127\.0\.0\.1\]\)
              | Unknown/Local\s+\(
              | \S+@\S+\s+by\s
              | \S+@localhost\)\s+by\s
              | mail\s+pickup\s+service\s+by\s+\S+\s+with\s+Microsoft\s+SMTPSVC
              | \S+\s+\(\S+\)\s+by\s+\S+\s+\(Content\s+Technologies\s
              | \(AUTH:\s+\S+\)\s+by\s+\S+\s+with\s
              | \S+\s+\(\[unix\s+socket\]\)\s+by\s
              | no\.name\.available\s+by\s
              | localhost\s+\(localhost\s+\[\[UNIX:\s+localhost\]\]\)\s+by\s
              | \S+\s+id\s+\S+$
            )|\bwith\s+local\b|\bwith\s+(?:POP3|IMAP)\b|\bwith\s+BSMTP\b|\(LSMTP\s+for",
        )
        .expect("static regex")
    });
    SKIP.is_match(line.trim())
}

/// What Received.pm's general qmail format gives a line.
struct QmailLine {
    rdns: String,
    helo: String,
    ident: Option<String>,
}

/// Received.pm's general qmail format: `from RDNS [(HELO helo)] ([ident@][IP]) by HOST
/// [(...)] with [...] SMTP|QMQP`, the protocol not followed by ` id ` (that would be a
/// sendmail line). The name is the reverse DNS qmail got from tcpserver, and the HELO
/// when qmail dropped an identical one.
fn qmail_line(line: &str) -> Option<QmailLine> {
    static QMAIL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"^from (\S+)(?: \((?:HELO|EHLO) (\S*)\))? \((?:(\S+)@)?\[?[0-9A-Fa-f.:]+\]?\)(?: \(envelope-sender <\S+>\))? by \S+(?: \(.+\))* with (.*)$",
        )
        .expect("static regex")
    });
    // Neither protocol word anywhere: not qmail's, without collapsing the line.
    if !line.contains("SMTP") && !line.contains("QMQP") {
        return None;
    }
    let collapsed = line.split_whitespace().collect::<Vec<_>>().join(" ");
    // What the protocol test below needs, checked first: "SMTP" or "QMQP" after a space
    // and not followed by " id " somewhere in the line (the usual `with ESMTP id` is not
    // qmail's), which spares most lines the capturing search.
    let protocol_word = |w: &str| {
        collapsed.match_indices(w).any(|(p, _)| {
            p > 0
                && collapsed.as_bytes()[p - 1] == b' '
                && !collapsed[p + w.len()..].starts_with(" id ")
        })
    };
    if !collapsed.starts_with("from ") || !(protocol_word("SMTP") || protocol_word("QMQP")) {
        return None;
    }
    let c = QMAIL.captures(&collapsed)?;
    // `with (.* )?(SMTP|QMQP)(?! id )`: some SMTP or QMQP word after `with ` or a space,
    // not followed by ` id `.
    let with = &c[4];
    let protocol = with
        .match_indices("SMTP")
        .chain(with.match_indices("QMQP"))
        .any(|(p, w)| {
            (p == 0 || with.as_bytes()[p - 1] == b' ') && !with[p + w.len()..].starts_with(" id ")
        });
    if !protocol {
        return None;
    }
    let rdns = c[1].to_string();
    Some(QmailLine {
        helo: c
            .get(2)
            .map_or_else(|| rdns.clone(), |h| h.as_str().to_string()),
        ident: c.get(3).map(|i| i.as_str().to_string()),
        rdns,
    })
}

/// Lotus SMTP for NT's `from NAME (IP:PORT) by HOST (LSMTP for Windows NT v1.1b) ...`: no
/// format of Received.pm takes an address in parentheses with a port, and the line then
/// falls to its list of ignored lines (`/\(LSMTP for/`): not a relay, not unparseable
/// (spam-2/00808). Without the port (`from NAME (IP) by ...`) it is an ordinary relay.
fn lsmtp_unbracketed(line: &str) -> bool {
    if !line.contains("(LSMTP for") {
        return false;
    }
    let lower = line.to_ascii_lowercase();
    let Some(by) = lower.find(" by ") else {
        return false;
    };
    // `(IP:PORT)`: an address in parentheses, a colon and digits right after it.
    lower[..by].split('(').skip(1).any(|p| {
        p.split_once(')').is_some_and(|(inner, _)| {
            inner.split_once(':').is_some_and(|(ip, port)| {
                ip.parse::<std::net::Ipv4Addr>().is_ok()
                    && !port.is_empty()
                    && port.bytes().all(|b| b.is_ascii_digit())
            })
        })
    })
}

/// Received.pm's ignore rule `^\S+ by \S+ (?:with|via|for|\()`, which it tries after its
/// formats and before its last-resort guess: a one-word `from` part with the address glued
/// to the name (`yahoo.com([IP])`, `host[IP]`), which none of its formats reads, followed by
/// `with`, `via`, `for` or a comment after the receiving host, is not a relay and not
/// unparseable (spam-2/00327, IBM OS/400's `by HOST (IBM OS/400 SMTP ...) with TCP`).
fn glued_address_handover(line: &str) -> bool {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^(?i:from) (\S+) by \S+ (?:with|via|for|\()").expect("static regex")
    });
    let line = line.trim();
    // What the pattern needs, checked before its capturing search: `from `, one word, and
    // ` by ` right after the first space that follows.
    let one_word = line
        .get(..5)
        .is_some_and(|f| f.eq_ignore_ascii_case("from "))
        && line[5..]
            .split_once(' ')
            .is_some_and(|(_, rest)| rest.starts_with("by "));
    if !one_word {
        return false;
    }
    let Some(c) = RE.captures(line) else {
        return false;
    };
    let word = &c[1];
    let glued = |open: &str| {
        word.find(open).is_some_and(|p| {
            // Glued to a name: `from ([IP]) by` is Received.pm's `(\[?IP\]?) by` format.
            p > 0
                && word.as_bytes()[p - 1].is_ascii_alphanumeric()
                && word[p + open.len()..]
                    .split(']')
                    .next()
                    .is_some_and(|ip| ip.parse::<IpAddr>().is_ok())
        })
    };
    glued("([") || glued("[")
}

/// The synthetic Received line of an `originating_ip_headers` address.
const ORIGINATING: &str = "from X-Originating-IP: ";

/// Parses one unfolded Received value; `None` when it is not a relay with an IP.
pub fn parse_received(line: &str) -> Option<Relay> {
    let line = line.trim();
    if let Some(ip) = line.strip_prefix(ORIGINATING) {
        let ip: IpAddr = ip.parse().ok()?;
        return Some(Relay {
            ip: ip.to_string(),
            private: is_private(&ip),
            ..Default::default()
        });
    }
    let lower = line.to_ascii_lowercase();
    lower.strip_prefix("from ")?;
    // Mail fetched by fetchmail/getmail over IMAP or POP: not an SMTP hop, ignored like
    // SpamAssassin ignores it.
    if lower.contains("(fetchmail") || lower.contains(" with imap") || lower.contains(" with pop") {
        return None;
    }
    if lsmtp_unbracketed(line) || glued_address_handover(line) {
        return None;
    }
    let by_pos = lower.find(" by ").unwrap_or(line.len());
    let from_part = &line[5..by_pos];
    let (ip_pos, ip) = find_ip(from_part)?;
    // An address in a parenthesis glued to a word is smap's `from NAME(IP) by` or
    // `from NAME(IP, HELO h) by` when the word is the first; after other words
    // (`from Life 300(113.2.2.1) Life1 by`: spam-2/00032) no format reads it.
    let b = from_part.as_bytes();
    if ip_pos >= 2
        && b[ip_pos - 1] == b'('
        && !b[ip_pos - 2].is_ascii_whitespace()
        && from_part[..ip_pos - 1].trim().contains(char::is_whitespace)
    {
        return None;
    }
    // A bare address opening the line is the relay's only as `from IP by` or qmail's
    // `from IP (HELO h) by`; `from IP - IP by ... SMTPSVC`, `from IP foo by` and
    // `from IP (x) by` fit no format of Received.pm (spam-2/00013, checked line by line).
    if from_part[..ip_pos].trim().is_empty() && !from_part[ip_pos..].starts_with('[') {
        let after = from_part[ip_pos..]
            .trim_start_matches(|c: char| c.is_ascii_hexdigit() || c == '.' || c == ':')
            .trim_start()
            .to_ascii_lowercase();
        // Received.pm's `^(IP) \([A-Za-z][^\)]+\) by (\S+) with ` and its webmail
        // formats (`from IP (proxying for IP2) (SquirrelMail authenticated user u) by H
        // with HTTP`: easy-ham-1/00110).
        let comment = after.strip_prefix('(').is_some_and(|c| {
            c.starts_with(|ch: char| ch.is_ascii_alphabetic())
                && c.find(')').is_some_and(|e| e >= 2 && e + 1 == c.len())
        }) && line[by_pos..].split_whitespace().nth(2) == Some("with");
        let words: Vec<&str> = lower.split_whitespace().collect();
        let webmail = words.windows(3).any(|w| {
            matches!(w[0], "(squirrelmail" | "(nasmail")
                && w[1] == "authenticated"
                && w[2] == "user"
        });
        if !(after.is_empty()
            || after.starts_with("(helo ")
            || after.starts_with("(ehlo ")
            || comment
            || webmail)
        {
            return None;
        }
    }
    let mut r = Relay {
        ip: ip.to_string(),
        private: is_private(&ip),
        ..Default::default()
    };
    let first = from_part.split_whitespace().next().unwrap_or("");
    let before_ip = &from_part[..ip_pos];
    let mut no_dns_lookup = false;
    let paren = before_ip
        .rfind('(')
        .map(|p| &before_ip[p + 1..])
        .unwrap_or("");
    let smtpsvc = smtpsvc_helo(line, from_part, &r.ip);
    if let Some(helo) = smtpsvc {
        // Microsoft SMTPSVC: from HELO ([IP]...) by HOST with Microsoft SMTPSVC; it does
        // not look the rDNS up (Received.pm, which tries this before its other formats).
        r.helo = helo.to_string();
        no_dns_lookup = true;
    } else if let Some(h) = word_after(from_part, "helo=") {
        // Exim: from RDNS ([IP] helo=HELO)
        r.helo = h.trim_end_matches(')').to_string();
        if !first.starts_with('(') && !first.starts_with('[') {
            r.rdns = first.to_string();
        }
    } else if let Some(h) = word_after(from_part, "(helo ") {
        // qmail: from RDNS (HELO helo) (IP). `from IP (HELO helo) by ...` names no rDNS
        // (Received.pm; spam-2/00712 hits RDNS_NONE so).
        r.helo = h.trim_end_matches(')').to_string();
        if first != "unknown" && first.parse::<IpAddr>().is_err() {
            r.rdns = first.to_string();
        }
    } else if qmail_plain(from_part, ip_pos) {
        // Received.pm reads `from NAME (IP)` as qmail's (protocol SMTP or QMQP) or with
        // something after `by HOST` (`by hawk.dcu.ie (6.0.040) id ...`); once the date
        // after `;` is cut, `from hyundaitrade (211.196.206.210) by relay6.kornet.net;
        // 3 Jun 2002` (spam-2/00571) has neither and is unparseable there.
        let by_clause = line[by_pos..].split(';').next().unwrap_or("");
        if !qmail_protocol(&line[by_pos..]) && by_clause.split_whitespace().count() <= 2 {
            return None;
        }
        // qmail behind tcpserver: from RDNS ([ident@]IP) with a bare address. qmail drops
        // the HELO when it equals the reverse name, and writes `unknown` without one.
        r.helo = first.to_string();
        if first != "unknown" {
            r.rdns = first.to_string();
        }
        if let Some(user) = paren.trim().strip_suffix('@') {
            r.ident = user.to_string();
        }
    } else if lower.contains("exim")
        && !first.starts_with('(')
        && !first.starts_with('[')
        && from_part
            .strip_prefix(first)
            .and_then(|rest| rest.strip_prefix(" (["))
            .is_some_and(|rest| rest.starts_with(r.ip.as_str()))
    {
        // Exim without a helo=: from RDNS ([IP]); the name is the rDNS and, by default,
        // the HELO too (Received.pm, its bug 5112).
        r.helo = first.to_string();
        r.rdns = first.to_string();
    } else if let Some(name) = paren_helo(from_part, &r.ip) {
        // from (NAME [IP]) by HOST, no name before the parenthesis (MailEnable): NAME is
        // the HELO and there is no rDNS (Received.pm: "from (64.52.135.194
        // [64.52.135.194]) by mail.unearthed.com").
        r.helo = name.to_string();
        no_dns_lookup = true;
    } else {
        // `from [IP] ([IP]) by`: the bracketed HELO, its brackets turned into `!` as
        // Received.pm flags invalid characters (`helo=!1.2.3.4!`); a bare `from [IP] by`
        // or `from (...)` names none.
        let literal_helo = first.starts_with('[')
            && from_part
                .trim_start()
                .strip_prefix(first)
                .is_some_and(|rest| rest.trim_start().starts_with('('));
        r.helo = if literal_helo {
            first.replace(['[', ']'], "!")
        } else if first.starts_with('(') || first.starts_with('[') {
            String::new()
        } else {
            first.to_string()
        };
        // sendmail/Postfix: (RDNS [IP]) or (ident@RDNS [IP])
        let name = paren.split_whitespace().next().unwrap_or("");
        let name = match name.split_once('@') {
            Some((user, host)) => {
                r.ident = user.to_string();
                host
            }
            None => name,
        };
        // Any name but `unknown`, a bracketed literal or couriertcpd's `softdnserr` is the
        // reverse DNS, dotless ones included (Received.pm's sendmail format and `enough:`).
        let name = name.trim_end_matches('.');
        if !name.is_empty()
            && !name.eq_ignore_ascii_case("unknown")
            && !name.starts_with('[')
            && name != "softdnserr"
        {
            r.rdns = name.to_string();
        }
    }
    r.helo = r.helo.trim_matches(|c| c == '[' || c == ']').to_string();
    if by_pos < line.len() {
        r.by = line[by_pos + 4..]
            .split_whitespace()
            .next()
            .unwrap_or("")
            .trim_end_matches(';')
            .to_string();
    }
    let qmail = qmail_plain(from_part, ip_pos);
    // A name (not qmail's `ident@`) before the address: the MTA looked it up.
    let named = !qmail
        && !before_ip.contains("softdnserr")
        && before_ip
            .rfind('(')
            .is_some_and(|p| !before_ip[p + 1..].trim().is_empty());
    // `from NAME [IP] by HOST (...)`, IMail's SMTPD32 (`by highstream.net (SMTPD32-7.07)`):
    // Received.pm reads NAME as the HELO and assumes no lookup, though a parenthesis follows
    // the receiving host as in sendmail's lines (spam-2/00086: no NO_RDNS_DOTCOM_HELO).
    let bare_bracketed = {
        let mut words = from_part.split_whitespace();
        matches!(
            (words.next(), words.next(), words.next()),
            (Some(n), Some(ip), None) if !n.starts_with(['(', '['])
                && ip.strip_prefix('[').and_then(|w| w.strip_suffix(']'))
                    .is_some_and(|ip| ip.parse::<IpAddr>().is_ok())
        )
    };
    // `from NAME ([IP]) by` or `([IP.port])`: Received.pm's sendmail-like
    // formats, which assume a lookup whatever follows the receiving host (spam-1/00316:
    // `by smtp4.cyberec.com with NNFMP`). With more inside the parenthesis
    // (`([IP] (may be forged))`) no format reads the line and nothing is assumed
    // (spam-2/01340).
    let bracket_only = {
        let rest = from_part.trim_start();
        rest.split_once(" ([").is_some_and(|(name, after)| {
            !name.contains(char::is_whitespace)
                && !name.starts_with(['(', '['])
                && after.split_once(']').is_some_and(|(addr, tail)| {
                    // The port, when there is one, inside the brackets: `[IP.port]`.
                    let without_port = addr
                        .rsplit_once([':', '.'])
                        .filter(|(_, port)| {
                            !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
                        })
                        .map(|(ip, _)| ip);
                    tail.starts_with(')')
                        && (addr.parse::<IpAddr>().is_ok()
                            || without_port.is_some_and(|ip| ip.parse::<IpAddr>().is_ok()))
                })
        })
    };
    let paren_after_host = by_pos < line.len()
        && line[by_pos + 4..]
            .split_whitespace()
            .nth(1)
            .is_some_and(|w| w.starts_with('('));
    let sendmail =
        bracket_only || (paren_after_host && !bare_bracketed && !from_part.contains(" (["));
    // qmail writes `unknown` when tcpserver passed no name: nothing was looked up then.
    // Received.pm decides that only for lines with qmail's protocol (`with SMTP`, `QMQP`);
    // `from unknown (HELO h) (IP) by HOST with asmtp` falls to its later qmail-like
    // formats, which always assume a lookup (spam-1/00085 hits NO_RDNS_DOTCOM_HELO so).
    let qmail_named = qmail
        && (!first.eq_ignore_ascii_case("unknown")
            || !qmail_protocol(&line[by_pos.min(line.len())..]));
    // MDaemon: from HELO [IP] by HOST [IP] with ... (it looks the name up).
    let mdaemon = {
        let words: Vec<&str> = from_part.split_whitespace().collect();
        let by_words: Vec<&str> = line[by_pos.min(line.len())..].split_whitespace().collect();
        let bracketed = |w: &str| {
            w.strip_prefix('[')
                .and_then(|w| w.strip_suffix(']'))
                .is_some_and(|ip| ip.parse::<IpAddr>().is_ok())
        };
        words.len() == 2
            && bracketed(words[1])
            && by_words.len() >= 4
            && bracketed(by_words[2])
            && by_words[3].eq_ignore_ascii_case("with")
    };
    // Lotus Domino never records the reverse name (SpamAssassin's bug 5926).
    let domino = lower.contains(" (lotus domino ");
    r.dns_looked_up = (named || sendmail || qmail_named || mdaemon) && !domino && !no_dns_lookup;
    if let Some(id) = word_after(line, " id ") {
        r.id = id.trim_end_matches(';').to_string();
    }
    if let Some(e) = word_after(line, "envelope-from ") {
        r.envfrom = e
            .trim_end_matches([')', ';'])
            .trim_matches(|c| c == '<' || c == '>')
            .to_string();
    }
    // Received.pm: ` with ((?:ES|L|UTF8S|UTF8L)MTPS?A|ASMTP|HTTP[SU]?)(?: |;|$)`, any
    // ` with ` of the line, case-insensitively: authenticated submissions, webmail
    // (`with HTTP`: easy-ham-1/01335's SquirrelMail hop is trusted so).
    if lower.contains(" by ") {
        let authenticated = |w: &str| {
            let up = w.to_ascii_uppercase();
            let mtp = ["ES", "L", "UTF8S", "UTF8L"].iter().any(|p| {
                up.strip_prefix(p)
                    .is_some_and(|rest| rest == "MTPA" || rest == "MTPSA")
            });
            mtp || matches!(up.as_str(), "ASMTP" | "HTTP" | "HTTPS" | "HTTPU")
        };
        if let Some(w) = lower.match_indices(" with ").find_map(|(p, _)| {
            let rest = &line[p + 6..];
            let end = rest.find([' ', ';']).unwrap_or(rest.len());
            authenticated(&rest[..end]).then(|| &rest[..end])
        }) {
            r.auth = w.to_string();
        }
    }
    if smtpsvc.is_none()
        && let Some(q) = qmail_line(line)
    {
        r.dns_looked_up = !q.rdns.eq_ignore_ascii_case("unknown");
        r.rdns = if r.dns_looked_up {
            q.rdns
        } else {
            String::new()
        };
        r.helo = q.helo;
        if let Some(ident) = q.ident {
            r.ident = ident;
        }
    }
    Some(r)
}

/// The HELO of Microsoft SMTPSVC's `from HELO ([IP] ...) by HOST with Microsoft SMTPSVC`
/// (Received.pm: `^(\S*) \(\[(IP)\][^\)]{0,40}\) by (\S+) with Microsoft SMTPSVC`).
fn smtpsvc_helo<'a>(line: &str, from_part: &'a str, ip: &str) -> Option<&'a str> {
    if !line.contains(" SMTPSVC") {
        return None;
    }
    let after_by = &line[5 + from_part.len()..];
    let by_host = after_by.strip_prefix(" by ")?.split_whitespace();
    let rest: Vec<&str> = by_host.skip(1).take(2).collect();
    if rest.len() < 2 || rest[0] != "with" || !rest[1].starts_with("Microsoft") {
        return None;
    }
    let from_part = from_part.trim_start();
    let (helo, paren) = from_part.split_once(' ')?;
    let inner = paren.trim_start().strip_prefix("([")?.strip_suffix(')')?;
    let (addr, tail) = inner.split_once(']')?;
    (addr == ip && tail.len() <= 40 && !tail.contains(')') && !helo.contains('(')).then_some(helo)
}

/// `NAME` when the from-part is just `(NAME [IP])`, `IP` the relay's address.
fn paren_helo<'a>(from_part: &'a str, ip: &str) -> Option<&'a str> {
    let inner = from_part.trim().strip_prefix('(')?.strip_suffix(')')?;
    let mut words = inner.split_whitespace();
    let (name, addr) = (words.next()?, words.next()?);
    (words.next().is_none()
        && !name.starts_with('[')
        && addr.strip_prefix('[')?.strip_suffix(']')? == ip)
        .then_some(name)
}

/// Parses the Received fields of a message (in header order: most recent first), trust
/// and internal decided by `trusted_nets` and `internal_nets` when set.
///
/// The last value of each of `originating` (`originating_ip_headers`: X-Originating-IP,
/// ...) that holds an address adds one more relay with that address and nothing else, after
/// the Received lines, as Received.pm's synthetic `from X-Originating-IP: IP` lines do.
pub fn parse(
    headers: &[HeaderField],
    trusted_nets: &Networks,
    internal_nets: &Networks,
    originating: &[String],
) -> Relays {
    let mut out = Relays::default();
    let mut trusted = true;
    // Each list stands in for the other when only one is set.
    let trust_by = if trusted_nets.is_empty() {
        internal_nets
    } else {
        trusted_nets
    };
    let in_list = |nets: &Networks, relay: &Relay| {
        relay
            .ip
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || nets.contains(&ip))
    };
    let mut internal = (!internal_nets.is_empty()).then_some(0usize);
    let mut still_internal = true;
    // A mail fetcher's line (fetchmail, getmail) right after trusted relays restarts the
    // parse, as Received.pm's found_pop_fetcher_sig does: the relays before it are
    // forgotten (they were the fetching host's own delivery), those after it counted.
    let mut fetch_restarts = true;
    let received = headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("Received"))
        .map(|h| String::from_utf8_lossy(&h.unfolded()).replace(['\t', '\r', '\n'], " "));
    let synthetic = originating.iter().filter_map(|name| {
        let h = headers
            .iter()
            .rfind(|h| h.name.eq_ignore_ascii_case(name))?;
        let value = String::from_utf8_lossy(&h.unfolded()).into_owned();
        let (_, ip) = find_ip_in(&value, true)?;
        Some(format!("{ORIGINATING}{ip}"))
    });
    for value in received.chain(synthetic) {
        let Some(relay) = parse_received(&value) else {
            if trusted {
                out.trusted_received += 1;
            }
            let lower = value.trim_start().to_ascii_lowercase();
            let fetcher = lower.contains("(fetchmail")
                || lower.contains(" with imap")
                || lower.contains(" with pop");
            if lower.starts_with("from ") && fetcher && fetch_restarts {
                out.trusted.clear();
                if let Some(n) = internal.as_mut() {
                    *n = 0;
                }
            }
            if lower.starts_with("from ")
                && !fetcher
                && !lsmtp_unbracketed(value.trim())
                && !glued_address_handover(&value)
                && (!ignorable_without_ip(&value)
                    || (from_part_has_ip(&value) && !opens_with_bare_ip(&value)))
            {
                out.unparseable += 1;
            }
            continue;
        };
        let keeps_trust = if trust_by.is_empty() {
            relay.private || !relay.auth.is_empty()
        } else {
            in_list(trust_by, &relay)
        };
        if trusted && !keeps_trust {
            trusted = false;
        }
        if let Some(n) = internal.as_mut() {
            still_internal = still_internal && in_list(internal_nets, &relay);
            if still_internal {
                *n += 1;
            }
        }
        fetch_restarts = trusted;
        if trusted {
            out.trusted_received += 1;
            out.trusted.push(relay);
        } else {
            out.untrusted.push(relay);
        }
    }
    out.internal = internal;
    out
}

impl Relays {
    /// The value of pseudo-header `name` (`X-Spam-Relays-Trusted`, ...), if it is one.
    /// Without internal_networks, internal equals trusted and external untrusted.
    pub fn header(&self, name: &str) -> Option<String> {
        let all: Vec<&Relay> = self.trusted.iter().chain(&self.untrusted).collect();
        let internal = self.internal.unwrap_or(self.trusted.len()).min(all.len());
        let (list, offset) = match name {
            "X-Spam-Relays-Trusted" => (&all[..self.trusted.len()], 0),
            "X-Spam-Relays-Untrusted" => (&all[self.trusted.len()..], self.trusted.len()),
            "X-Spam-Relays-Internal" => (&all[..internal], 0),
            "X-Spam-Relays-External" => (&all[internal..], internal),
            _ => return None,
        };
        Some(
            list.iter()
                .enumerate()
                .map(|(i, r)| r.as_string(offset + i < internal))
                .collect::<Vec<_>>()
                .join(" "),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_formats() {
        let r = parse_received(
            "from mail.example.com (mail.example.com [192.0.2.1]) by mx.example.org (Postfix) with ESMTP id ABC123 for <u@example.org>; Mon, 1 Jan 2024",
        )
        .unwrap();
        assert_eq!(
            (r.ip.as_str(), r.rdns.as_str(), r.helo.as_str()),
            ("192.0.2.1", "mail.example.com", "mail.example.com")
        );
        assert_eq!((r.by.as_str(), r.id.as_str()), ("mx.example.org", "ABC123"));
        let r = parse_received("from helo.example (unknown [198.51.100.7]) by mx with SMTP id X")
            .unwrap();
        assert_eq!(r.rdns, "");
        let r = parse_received(
            "from host.example ([203.0.113.9] helo=hi.example) by mx with esmtpa (Exim 4) id 1a-2b",
        )
        .unwrap();
        assert_eq!(
            (r.rdns.as_str(), r.helo.as_str(), r.auth.as_str()),
            ("host.example", "hi.example", "esmtpa")
        );
        assert!(parse_received("by localhost with local; Mon").is_none());
        assert!(
            parse_received(
                "from d.example [212.17.35.15] by localhost with IMAP (fetchmail-5.9.0) for jm"
            )
            .is_none()
        );
        assert!(parse_received("from x by y").is_none());
    }

    #[test]
    fn unparseable_lines_are_counted_as_spamassassin_counts_them() {
        let count = |line: &str| {
            let h = HeaderField {
                name: "Received".into(),
                raw_value: line.as_bytes().to_vec(),
            };
            parse(&[h], &Networks::default(), &Networks::default(), &[]).unparseable
        };
        // No format SpamAssassin knows, with or without an address.
        assert_eq!(
            count("from SMTP agent by mail gateway  Wed, 24 Jul 2002 06:43:48 -0000"),
            1
        );
        assert_eq!(
            count(
                "From LOCALHOST.LOCALDOMAIN (148.121.170.2[148.121.170.2 port:4688]) by grimm1.grimstad Mail essentials (server 2.422) with SMTP id: <7700@grimm1.grimstad>"
            ),
            1
        );
        assert_eq!(
            count(
                "from r-smtp.korea.com - 203.122.2.197 by dd_it7  with Microsoft SMTPSVC(5.5.1775.675.6);"
            ),
            1
        );
        // A one-word `from` part with the address glued on and a comment, `with`, `via` or
        // `for` after the host: ignored (spam-2/00327); with ` id ` there it parses.
        assert_eq!(
            count(
                "from yahoo.com([208.166.82.124]) by MIRAFLORES.GOB.PE (IBM OS/400 SMTP V05R01M00) with TCP; Wed, 15 May 2002 10:23:51 +0000"
            ),
            0
        );
        assert!(
            parse_received(
                "from yahoo.com([208.166.82.124]) by MIRAFLORES.GOB.PE (IBM OS/400 SMTP V05R01M00) with TCP; Wed, 15 May 2002"
            )
            .is_none()
        );
        assert_eq!(
            count("from yahoo.com[1.2.3.4] by host.example with SMTP; Wed, 15 May 2002"),
            0
        );
        assert!(
            parse_received("from yahoo.com([1.2.3.4]) by host.example id 5; Wed, 15 May 2002")
                .is_some()
        );
        assert!(
            parse_received("from yahoo.com(1.2.3.4) by host.example with SMTP; Wed, 15 May 2002")
                .is_some()
        );
        // An opening address no format reads, on a handover Received.pm ignores
        // (spam-1/00249).
        assert_eq!(
            count(
                "from 210.214.94.76 (unverified) by mailsweeper.abc-arbitrage.com (Content Technologies SMTPRS 4.2.10) with ESMTP id <T5d3a@mailsweeper.abc-arbitrage.com>; Mon, 9 Sep 2002"
            ),
            0
        );
        // sendmail's submission from a Unix socket is a local handover (easy-ham-2/00402).
        assert_eq!(
            count(
                "from localhost (localhost [[UNIX: localhost]]) by docaoimh.tradesignals.com (8.11.6/8.11.6) id g7DD20W22917; Tue, 13 Aug 2002 14:02:00 +0100"
            ),
            0
        );
        // `from NAME (IP)` with nothing after `by HOST` but the date (spam-2/00571); with
        // something after it, or qmail's `with SMTP`, it parses (all checked with -D).
        assert_eq!(
            count(
                "from hyundaitrade (211.196.206.210) by relay6.kornet.net; 3 Jun 2002 17:01:55 +0900"
            ),
            1
        );
        let r = parse_received(
            "from 61.78.78.173 (HELO localhost) by smtp.c001.snv.cp.net (209.228.32.110) with SMTP; 16 Jul",
        )
        .unwrap();
        assert_eq!(
            (r.ip.as_str(), r.rdns.as_str(), r.helo.as_str()),
            ("61.78.78.173", "", "localhost")
        );
        for parsed in [
            "from hyundaitrade (211.196.206.210) by relay6.kornet.net with SMTP; 3 Jun 2002",
            "from prodigy.redbrick.dcu.ie (136.206.15.10) by hawk.dcu.ie (6.0.040) id 3D36; Fri",
        ] {
            assert_eq!(count(parsed), 0, "{parsed}");
            assert!(parse_received(parsed).is_some(), "{parsed}");
        }
        // Internal handovers it passes over, an address after `by` included.
        assert_eq!(
            count(
                "from mail.example.com by [67.32.39.130] via smtpd (for x.example [192.0.2.1]) with SMTP; Mon"
            ),
            0
        );
        assert_eq!(
            count("from mail pickup service by hotmail.com with Microsoft SMTPSVC; Thu"),
            0
        );
        assert_eq!(
            count("FROM barge.dsg.cs.tcd.ie BY webshield ; Wed Aug 28 10:45:49 2002"),
            0
        );
        assert_eq!(
            count("from phobos [127.0.0.1] by localhost with IMAP (fetchmail-5.9.0)"),
            0
        );
    }

    #[test]
    fn which_received_formats_imply_a_dns_lookup() {
        // Received.pm: `from NAME [IP] by HOST ` names the HELO, no rDNS, no lookup, even
        // with a parenthesis after the host (spam-2/00086).
        let r = parse_received(
            "from tmiaw.aol.com [65.160.252.196] by mail.ericcohler.com (SMTPD32-6.06) id AEE6F4002C; Sun, 22 Jul 2001 17:00:22 -0400",
        )
        .expect("a relay");
        assert_eq!(
            (r.helo.as_str(), r.rdns.as_str(), r.dns_looked_up),
            ("tmiaw.aol.com", "", false)
        );
        // An address opening the line is the HELO and rDNS when another follows in
        // parentheses (spam-2/00043); alone it is the address.
        let r = parse_received(
            "from 63.21.73.21 (63.21.73.21) by nt1meltingpoint with MERCUR-SMTP/POP3/IMAP4-Server (v3.20.01 AS-0098319) for <root@eire.com>; Fri, 29 Jun 2001",
        )
        .expect("a relay");
        assert_eq!(
            (r.ip.as_str(), r.rdns.as_str(), r.helo.as_str()),
            ("63.21.73.21", "63.21.73.21", "63.21.73.21")
        );
        let r = parse_received("from 1.2.3.4 by host.example with SMTP; Wed, 15 May 2002")
            .expect("a relay");
        assert_eq!((r.ip.as_str(), r.rdns.as_str()), ("1.2.3.4", ""));
        let r = parse_received(
            "from smtp.greyware.com(208.14.208.51, HELO smtp.sff.net) by x.x.org via smap (V1.3) id xma002908; Fri, 27 Feb 04",
        )
        .expect("smap's format");
        assert_eq!(r.ip, "208.14.208.51");
        let r = parse_received(
            "from [192.168.1.2] (w008.z064002062.sjc-ca.dsl.cnc.net [64.2.62.8]) by dogma.slashnull.org (8.11.6/8.11.6) with ESMTP id gAT07XW04583",
        )
        .expect("sendmail's format");
        assert_eq!(
            (r.ip.as_str(), r.rdns.as_str(), r.helo.as_str()),
            (
                "64.2.62.8",
                "w008.z064002062.sjc-ca.dsl.cnc.net",
                "!192.168.1.2!"
            )
        );
        let r = parse_received(
            "from 64.110.46.132 (proxying for 192.168.44.43, unknown) (SquirrelMail  authenticated user al) by mpsc.ph with HTTP; Wed, 21 Aug 2002",
        )
        .expect("webmail's format");
        assert_eq!((r.ip.as_str(), r.auth.as_str()), ("64.110.46.132", "HTTP"));
        let r = parse_received(
            "from 194.125.220.138 (SquirrelMail authenticated user yyyymail) by jmason.org with HTTP; Wed, 28 Aug 2002",
        )
        .expect("webmail's format");
        assert_eq!(r.ip, "194.125.220.138");
        for unparseable in [
            "from Life 300(113.2.2.1) Life1 by sdn-ar-002riprovP318.dialsprint.net with ESMTP; Tue, 26 Jun 2001",
            "from 64.3.210.238 - 64.3.210.238 by webman.example with Microsoft SMTPSVC(5.5.1774.114.11); Thu, 2 Aug 2001",
            "from 1.2.3.4 foo by host.example with SMTP; Thu, 2 Aug 2001",
            "from 1.2.3.4 (x) by host.example with SMTP; Thu",
        ] {
            assert!(parse_received(unparseable).is_none(), "{unparseable}");
        }
        // `unknown` is qmail's no-name only with qmail's protocol; Received.pm's other
        // qmail-like formats assume a lookup (spam-1/00085).
        let r = parse_received(
            "from unknown (HELO rly-xw01.mx.aol.com) (96.213.243.25) by n9.groups.yahoo.com with asmtp; Aug, 25 2002 6:19:40 AM -0100",
        )
        .expect("a relay");
        assert_eq!((r.rdns.as_str(), r.dns_looked_up), ("", true));
        let r = parse_received(
            "from unknown (HELO rly-xw01.mx.aol.com) (96.213.243.25) by n9.groups.yahoo.com with SMTP; 25 Aug 2002 06:19:40 -0000",
        )
        .expect("a relay");
        assert_eq!((r.rdns.as_str(), r.dns_looked_up), ("", false));
        // `NAME ([IP])` assumes a lookup whatever follows the host (spam-1/00316); with more
        // inside the parenthesis nothing is assumed (spam-2/01340).
        let r = parse_received(
            "from rly-xl05.mx.aol.com ([147.119.50.98]) by smtp4.cyberec.com with NNFMP; Sep, 16 2002",
        )
        .expect("a relay");
        assert!(r.dns_looked_up);
        let r = parse_received(
            "from smtp0261.mail.yahoo.com ([210.82.165.4] (may be forged)) by mail.chohungbank.co.kr (2.5 Build 2639 (Berkeley 8.8.6)/8.8.4) with SMTP id FAA22195",
        )
        .expect("a relay");
        assert!(!r.dns_looked_up);
        // MDaemon's `by HOST [IP] with` form does look the name up.
        let r = parse_received(
            "from mail.example.com [192.0.2.7] by mx.example.net [198.51.100.1] with SMTP (MDaemon.PRO.v5.0.6.R) for <a@example.net>",
        )
        .expect("a relay");
        assert!(r.dns_looked_up);
    }

    #[test]
    fn lotus_lsmtp_lines_with_a_port_are_ignored() {
        let h = |v: &str| HeaderField {
            name: "Received".into(),
            raw_value: v.as_bytes().to_vec(),
        };
        let relays = parse(
            &[
                h(
                    "from hawaii.ireaye.net ([205.244.94.208]) by linux.midrange.com (8.11.6/8.11.6) with ESMTP id g6L4QH414517",
                ),
                h(
                    "from alabama (192.168.4.195:1146) by hawaii.ireaye.net (LSMTP for Windows NT v1.1b) with SMTP id <82.000001A0@hawaii.ireaye.net>; 21 Jul 2002 11:28:26 -0400",
                ),
            ],
            &Networks::default(),
            &Networks::default(),
            &[],
        );
        assert_eq!(relays.untrusted.len(), 1);
        assert_eq!(relays.unparseable, 0);
        // Without a port the line is a relay (spam-1/00008).
        let r = parse_received(
            "from tiputil1 (10.2.0.30) by TIPSMTP1.ADMANMAIL.COM (LSMTP for Windows NT v1.1b) with SMTP id <123.000035F8@TIPSMTP1.ADMANMAIL.COM>",
        )
        .expect("a relay");
        assert_eq!((r.ip.as_str(), r.rdns.as_str()), ("10.2.0.30", "tiputil1"));
    }

    #[test]
    fn originating_ip_headers_add_a_last_relay() {
        let h = |n: &str, v: &str| HeaderField {
            name: n.into(),
            raw_value: v.as_bytes().to_vec(),
        };
        let headers = [
            h(
                "Received",
                "from a.example (a.example [192.0.2.7]) by mx.example with SMTP id 1",
            ),
            h("X-Originating-IP", "[198.51.100.1]"),
            h("X-Originating-IP", "[198.51.100.2]"),
            h("X-Apparently-From", "no address"),
        ];
        let names = ["X-Yahoo-Post-IP", "X-Originating-IP", "X-Apparently-From"].map(String::from);
        let relays = parse(&headers, &Networks::default(), &Networks::default(), &names);
        let ips: Vec<&str> = relays.untrusted.iter().map(|r| r.ip.as_str()).collect();
        // The last value of the header, as Perl's scalar get_header returns it.
        assert_eq!(ips, ["192.0.2.7", "198.51.100.2"]);
        assert!(relays.untrusted[1].rdns.is_empty() && relays.untrusted[1].by.is_empty());
        let none = parse(&headers, &Networks::default(), &Networks::default(), &[]);
        assert_eq!(none.untrusted.len(), 1);
    }

    #[test]
    fn microsoft_smtpsvc_names_no_rdns() {
        for (line, helo) in [
            (
                "from 213.67.19.63 ([213.67.19.63]) by MAIL-SRV.brio.de with Microsoft SMTPSVC(5.0.2195.2966)",
                "213.67.19.63",
            ),
            (
                "from inet-vrs-05.redmond.corp.microsoft.com ([157.54.6.157]) by INET-IMC-05.redmond.corp.microsoft.com with Microsoft SMTPSVC(5.0.2195.6624)",
                "inet-vrs-05.redmond.corp.microsoft.com",
            ),
            (
                "from tthompson ([217.35.105.172] unverified) by mail.neosinteractive.com with Microsoft SMTPSVC(5.0.2195.5329)",
                "tthompson",
            ),
        ] {
            let r = parse_received(line).expect("a relay");
            assert_eq!((r.rdns.as_str(), r.helo.as_str()), ("", helo), "{line}");
            assert!(!r.dns_looked_up, "{line}");
        }
    }

    #[test]
    fn a_bracketed_helo_is_flagged_with_bangs() {
        let r = parse_received(
            "from [67.32.39.130] ([67.32.39.130]) by linux.midrange.com (8.11.6/8.11.6) with SMTP id g6N0Yee05828",
        )
        .expect("a relay");
        assert_eq!((r.helo.as_str(), r.rdns.as_str()), ("!67.32.39.130!", ""));
        let r = parse_received(
            "from [193.80.199.68] by cavalryfw.example via smtpd (for x [192.168.1.17]) with SMTP",
        )
        .expect("a relay");
        assert_eq!(r.helo, "");
    }

    #[test]
    fn a_name_only_in_parentheses_is_the_helo() {
        // MailEnable: `from  (IP [IP]) by ...`; Received.pm reads the name as the HELO.
        let r = parse_received(
            "from  (127.0.0.1 [127.0.0.1]) by MailEnable Inbound Mail Agent with ESMTP; Wed, 24 Jul 2002 01:39:57 -08:00",
        )
        .unwrap();
        assert_eq!(
            (
                r.ip.as_str(),
                r.rdns.as_str(),
                r.helo.as_str(),
                r.by.as_str()
            ),
            ("127.0.0.1", "", "127.0.0.1", "MailEnable")
        );
        assert!(!r.dns_looked_up);
        // With a name before the parenthesis it stays the rDNS.
        let r = parse_received("from h.example (mail.example [192.0.2.9]) by mx.example with SMTP")
            .unwrap();
        assert_eq!(
            (r.rdns.as_str(), r.helo.as_str()),
            ("mail.example", "h.example")
        );
    }

    #[test]
    fn qmail_and_domino_formats() {
        // qmail behind tcpserver: the name is the reverse DNS (and the HELO).
        let r = parse_received(
            "from bocelli.siteprotect.com (64.41.120.21) by h0090.client2.attbi.com with SMTP; 7 May 2002",
        )
        .unwrap();
        assert_eq!(
            (r.rdns.as_str(), r.helo.as_str(), r.dns_looked_up),
            ("bocelli.siteprotect.com", "bocelli.siteprotect.com", true)
        );
        let r = parse_received("from unknown (qmailr@198.51.100.4) by mx.example with SMTP; x")
            .unwrap();
        assert_eq!(
            (r.rdns.as_str(), r.ident.as_str(), r.dns_looked_up),
            ("", "qmailr", false)
        );
        // Sendmail's bracketed form keeps the name as HELO only.
        let r = parse_received(
            "from h.example ([192.0.2.9]) by mx.example (8.11.6/8.11.6) with ESMTP id g6J",
        )
        .unwrap();
        assert_eq!(
            (r.rdns.as_str(), r.helo.as_str(), r.dns_looked_up),
            ("", "h.example", true)
        );
        // qmail's general form takes a bracketed address too: the name is the rDNS.
        let r = parse_received(
            "from q4.quickslow.com ([94.86.40.159]) by rly-xw01.otpalo.com with SMTP; 26 Jul 2002",
        )
        .unwrap();
        assert_eq!(
            (r.rdns.as_str(), r.helo.as_str(), r.dns_looked_up),
            ("q4.quickslow.com", "q4.quickslow.com", true)
        );
        // MDaemon looks it up.
        let r = parse_received(
            "from mailin-02.mx.aol.com [207.86.156.18] by marchmont.com [127.0.0.1] with SMTP (MDaemon.v2.7.SP3.R) for <jm@netnoteinc.com>;",
        )
        .unwrap();
        assert_eq!(
            (r.rdns.as_str(), r.helo.as_str(), r.dns_looked_up),
            ("", "mailin-02.mx.aol.com", true)
        );
        // Lotus Domino never looks the name up.
        let r = parse_received(
            "from mx1.mail.yahoo.com ([172.192.235.43]) by mail.tj-nec.com.cn (Lotus Domino Release 5.0.6a) with ESMTP id 20020719",
        )
        .unwrap();
        assert_eq!((r.rdns.as_str(), r.dns_looked_up), ("", false));
    }

    /// Exim's `from NAME ([IP])` without `helo=`: NAME is the rDNS and the HELO (checked
    /// with spamassassin -D received-header on easy-ham-2/00588).
    #[test]
    fn exim_name_before_a_bracketed_address() {
        let r = parse_received(
            "from med-core07.med.wayne.edu ([146.9.19.23]) by usw-sf-list1.sourceforge.net with esmtp (Exim 3.31-VA-mm2 #1 (Debian)) id 17cnjT-0001fe-00 for <x@y.example>; Thu",
        )
        .unwrap();
        assert_eq!(
            r.as_string(false),
            "[ ip=146.9.19.23 rdns=med-core07.med.wayne.edu helo=med-core07.med.wayne.edu by=usw-sf-list1.sourceforge.net ident= envfrom= intl=0 id=17cnjT-0001fe-00 auth= msa=0 ]"
        );
    }

    /// A leading blank or a multi-byte name before `([IP])` must not split a character.
    #[test]
    fn exim_form_with_odd_bytes_does_not_panic() {
        for line in [
            "from  \u{e9}\u{e9} ([192.0.2.1]) by x (Exim 4) id 1",
            "from \u{e9} ([192.0.2.1]) by x (Exim 4) id 1",
            "from  a ([192.0.2.1]) by x (Exim 4) id 1",
        ] {
            let _ = parse_received(line);
        }
    }

    /// Received.pm's found_pop_fetcher_sig: a fetchmail line after trusted relays forgets
    /// them (easy-ham-1/01308 then has no relays at all, and hits NO_RELAYS); after an
    /// untrusted relay it changes nothing.
    #[test]
    fn a_mail_fetcher_line_restarts_the_parse() {
        let f = |v: &str| HeaderField {
            name: "Received".into(),
            raw_value: v.as_bytes().to_vec(),
        };
        let none = Networks::default();
        let fetched = [
            f(" from localhost (localhost [127.0.0.1]) by phobos.example (Postfix) id 1"),
            f(" from phobos [127.0.0.1] by localhost with IMAP (fetchmail-5.9.0) for jm"),
            f(" from a (a.example [192.0.2.7]) by b.example id 2"),
        ];
        let relays = parse(&fetched, &none, &none, &[]);
        assert_eq!((relays.trusted.len(), relays.untrusted.len()), (0, 1));
        let relays = parse(&fetched[..2], &none, &none, &[]);
        assert!(relays.trusted.is_empty() && relays.untrusted.is_empty());
        let late = [
            f(" from a (a.example [192.0.2.7]) by b.example id 2"),
            f(" from phobos [127.0.0.1] by localhost with IMAP (fetchmail-5.9.0) for jm"),
            f(" from c (c.lan [10.0.0.3]) by a.example id 3"),
        ];
        let relays = parse(&late, &none, &none, &[]);
        assert_eq!((relays.trusted.len(), relays.untrusted.len()), (0, 2));
    }

    #[test]
    fn trust_inference() {
        let f = |v: &str| HeaderField {
            name: "Received".into(),
            raw_value: v.as_bytes().to_vec(),
        };
        let chain = [
            f(" from a (a.lan [10.0.0.2]) by b id 1"),
            f(" from c (c.example [192.0.2.5]) by a.lan id 2"),
            f(" from d (d.lan [10.0.0.9]) by c.example id 3"),
        ];
        let none = Networks::default();
        let relays = parse(&chain, &none, &none, &[]);
        assert_eq!(relays.trusted.len(), 1);
        assert_eq!(relays.untrusted.len(), 2);
        assert!(
            relays
                .header("X-Spam-Relays-External")
                .unwrap()
                .starts_with("[ ip=192.0.2.5 rdns=c.example helo=c by=a.lan")
        );
        // trusted_networks decides instead: the partner relay 192.0.2.5 is trusted too.
        let mut trusted = Networks::default();
        trusted.add("10/8").unwrap();
        trusted.add("192.0.2.5").unwrap();
        let relays = parse(&chain, &trusted, &none, &[]);
        assert_eq!((relays.trusted.len(), relays.untrusted.len()), (3, 0));
        // internal_networks apart from trust: only 10.0.0.2 is internal.
        let mut internal = Networks::default();
        internal.add("10.0.0.2").unwrap();
        let relays = parse(&chain, &trusted, &internal, &[]);
        assert_eq!(relays.trusted.len(), 3);
        let external = relays.header("X-Spam-Relays-External").unwrap();
        assert!(external.starts_with("[ ip=192.0.2.5 "), "{external}");
        assert!(external.contains("intl=0"));
        assert!(
            relays
                .header("X-Spam-Relays-Internal")
                .unwrap()
                .contains("intl=1")
        );
    }

    #[test]
    fn network_lists() {
        let mut n = Networks::default();
        for spec in [
            "!10.1.2.3",
            "10/8",
            "192.168.",
            "2001:db8::/32",
            "203.0.113.7",
        ] {
            n.add(spec).unwrap();
        }
        let has = |ip: &str| n.contains(&ip.parse().unwrap());
        assert!(has("10.9.9.9") && !has("10.1.2.3"));
        assert!(has("192.168.44.1") && !has("192.169.0.1"));
        assert!(has("2001:db8:1::5") && !has("2001:db9::1"));
        assert!(has("203.0.113.7") && !has("203.0.113.8"));
        for bad in ["10.0.0.300", "1.2.3.4/33", "nonsense", "::zz"] {
            assert!(Networks::default().add(bad).is_err(), "{bad}");
        }
    }
}
