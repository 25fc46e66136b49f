//! The list evals of SpamAssassin's WLBLEval and WelcomeListSubject plugins, written from
//! their sources (Mail::SpamAssassin 4.0.1):
//!
//! - address lists: `welcomelist_from`, `blocklist_from`, `welcomelist_to`, `more_spam_to`,
//!   `all_spam_to`, `blocklist_to` and named lists (`enlist_addrlist (NAME) ...`), checked
//!   by `check_from_in_*`, `check_to_in_*`, `check_from_in_list(NAME)`,
//!   `check_to_in_list(NAME)` and `check_replyto_in_list(NAME)`;
//! - `welcomelist_from_rcvd` / `def_welcomelist_from_rcvd`: a sender counts only when the
//!   message came through the named relay (reverse DNS domain or `[IP]`);
//!   `check_mailfrom_matches_rcvd` compares the envelope sender's domain with the relay's;
//! - URI host lists (`enlist_uri_host (NAME) [!]host ...`, `blocklist_uri_host`,
//!   `welcomelist_uri_host`), checked by `check_uri_host_listed(NAME)` and
//!   `check_uri_host_in_blocklist/welcomelist`;
//! - subject lists (`welcomelist_subject`, `blocklist_subject`).
//!
//! Address patterns are globs (`*@example.com`, `?ob@*.example.org`), matched whole and
//! without case; subject patterns match anywhere in the subject.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;

use super::eval::EvalData;
use super::header_evals::{addrs, all_from_addrs};
use super::parser::{Config, EvalCall};
use super::relays::{Networks, Relay};
use super::texts::Texts;

/// The lists, compiled at load time.
#[derive(Debug, Clone, Default)]
pub struct Lists {
    /// Address lists by name (`welcomelist_from`, `welcomelist_to`, ..., and enlisted names).
    addr: HashMap<String, regex::Regex>,
    /// `welcomelist_from_rcvd` entries: (address pattern, relay domain or `[IP]`).
    from_rcvd: Vec<(regex::Regex, String)>,
    /// `def_welcomelist_from_rcvd` entries.
    def_from_rcvd: Vec<(regex::Regex, String)>,
    /// `welcomelist_allows_relays` patterns.
    allows_relays: Option<regex::Regex>,
    /// URI host lists by name: host -> listed (`false` for `!host`).
    uri_hosts: BTreeMap<String, HashMap<String, bool>>,
    /// `welcomelist_subject` patterns.
    subject_welcome: Option<regex::Regex>,
    /// `blocklist_subject` patterns.
    subject_block: Option<regex::Regex>,
    /// Registry boundaries (`util_rb_*`) for the registrable domain of a host.
    registry: std::sync::Arc<super::texts::Registry>,
}

/// One glob as a regex fragment: `*` any run, `?` one character, everything else literal.
fn glob(pattern: &str) -> String {
    let mut re = String::new();
    let mut star = false;
    for c in pattern.chars() {
        match c {
            '*' if star => {}
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            c => re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
        star = c == '*';
    }
    re
}

/// Globs as one case-insensitive regex, each matching the whole text (`anchored`) or
/// anywhere in it.
fn globs(patterns: &[String], anchored: bool) -> Option<regex::Regex> {
    if patterns.is_empty() {
        return None;
    }
    let alts: Vec<String> = patterns.iter().map(|p| glob(p)).collect();
    let body = alts.join("|");
    let re = if anchored {
        format!("(?is)^(?:{body})$")
    } else {
        format!("(?is)(?:{body})")
    };
    regex::Regex::new(&re).ok()
}

fn rcvd_entries(entries: &[(String, String)]) -> Vec<(regex::Regex, String)> {
    entries
        .iter()
        .filter_map(|(addr, domain)| {
            let re = globs(std::slice::from_ref(addr), true)?;
            Some((re, domain.to_ascii_lowercase()))
        })
        .collect()
}

impl Lists {
    /// Compiles the lists a configuration holds.
    pub fn new(config: &Config) -> Lists {
        let mut addr = HashMap::new();
        let mut add = |name: &str, patterns: &[String]| {
            if let Some(re) = globs(patterns, true) {
                addr.insert(name.to_string(), re);
            }
        };
        add("welcomelist_from", &config.welcomelist_from);
        add("blocklist_from", &config.blocklist_from);
        for (name, patterns) in &config.addr_lists {
            add(name, patterns);
        }
        Lists {
            addr,
            from_rcvd: rcvd_entries(&config.welcomelist_from_rcvd),
            def_from_rcvd: rcvd_entries(&config.def_welcomelist_from_rcvd),
            allows_relays: globs(&config.welcomelist_allows_relays, true),
            uri_hosts: config.uri_host_lists.clone(),
            subject_welcome: globs(&config.welcomelist_subject, false),
            subject_block: globs(&config.blocklist_subject, false),
            registry: config.registry.clone(),
        }
    }

    /// The registry boundaries (`util_rb_*`) the configuration loaded.
    pub(crate) fn registry(&self) -> &super::texts::Registry {
        &self.registry
    }

    /// Whether one of the addresses `addrs` gives is in list `name`; the addresses are read
    /// only when the list has entries (the stock rules ask for seven lists on every message,
    /// and a site fills few of them).
    fn in_list(&self, name: &str, addrs: impl FnOnce() -> Vec<String>) -> bool {
        self.addr
            .get(name)
            .is_some_and(|re| addrs().iter().any(|a| re.is_match(a)))
    }
}

/// Whether `call` is one of this module's evals (with usable arguments).
pub fn supported(call: &EvalCall) -> bool {
    let one_name = || call.args.len() == 1 && !list_name(&call.args[0]).is_empty();
    match call.function.as_str() {
        "check_from_in_list"
        | "check_to_in_list"
        | "check_replyto_in_list"
        | "check_uri_host_listed" => one_name(),
        "check_from_in_welcomelist"
        | "check_from_in_whitelist"
        | "check_from_in_blocklist"
        | "check_from_in_blacklist"
        | "check_forged_in_welcomelist"
        | "check_forged_in_whitelist"
        | "check_from_in_default_welcomelist"
        | "check_from_in_default_whitelist"
        | "check_forged_in_default_welcomelist"
        | "check_forged_in_default_whitelist"
        | "check_to_in_welcomelist"
        | "check_to_in_whitelist"
        | "check_to_in_blocklist"
        | "check_to_in_blacklist"
        | "check_to_in_more_spam"
        | "check_to_in_all_spam"
        | "check_mailfrom_matches_rcvd"
        | "check_uri_host_in_blocklist"
        | "check_uri_host_in_blacklist"
        | "check_uri_host_in_welcomelist"
        | "check_uri_host_in_whitelist"
        | "check_subject_in_welcomelist"
        | "check_subject_in_whitelist"
        | "check_subject_in_blocklist"
        | "check_subject_in_blacklist"
        | "have_any_bounce_relays"
        | "check_welcomelist_bounce_relays"
        | "check_whitelist_bounce_relays" => call.args.is_empty(),
        _ => false,
    }
}

/// A list-name argument without its quotes.
fn list_name(arg: &str) -> &str {
    arg.trim().trim_matches(['\'', '"']).trim()
}

/// Runs the evals of this module; `None` when `call` is not one of them.
pub fn run(call: &EvalCall, texts: &Texts<'_>, data: &EvalData) -> Option<bool> {
    if !supported(call) {
        return None;
    }
    let lists = &data.lists;
    let name = || call.args.first().map_or("", |a| list_name(a));
    Some(match call.function.as_str() {
        "check_from_in_list" => lists.in_list(name(), || from_addresses(texts)),
        "check_to_in_list" => lists.in_list(name(), || to_addresses(texts)),
        "check_replyto_in_list" => {
            let reply_to = first_address(texts, "Reply-To");
            !reply_to.is_empty() && lists.in_list(name(), || vec![reply_to])
        }
        "check_from_in_welcomelist" | "check_from_in_whitelist" => {
            from_in_welcomelist(texts, lists) > 0
        }
        "check_from_in_default_welcomelist" | "check_from_in_default_whitelist" => {
            from_in_default_welcomelist(texts, lists) > 0
        }
        "check_forged_in_welcomelist" | "check_forged_in_whitelist" => {
            from_in_welcomelist(texts, lists) < 0 && from_in_default_welcomelist(texts, lists) == 0
        }
        "check_forged_in_default_welcomelist" | "check_forged_in_default_whitelist" => {
            from_in_default_welcomelist(texts, lists) < 0 && from_in_welcomelist(texts, lists) == 0
        }
        "check_from_in_blocklist" | "check_from_in_blacklist" => {
            lists.in_list("blocklist_from", || from_addresses(texts))
        }
        "check_to_in_welcomelist" | "check_to_in_whitelist" => {
            lists.in_list("welcomelist_to", || to_addresses(texts))
        }
        "check_to_in_blocklist" | "check_to_in_blacklist" => {
            lists.in_list("blocklist_to", || to_addresses(texts))
        }
        "check_to_in_more_spam" => lists.in_list("more_spam_to", || to_addresses(texts)),
        "check_to_in_all_spam" => lists.in_list("all_spam_to", || to_addresses(texts)),
        "check_mailfrom_matches_rcvd" => mailfrom_matches_rcvd(texts, lists),
        "check_uri_host_listed" => uri_host_listed(texts, lists, name()),
        "check_uri_host_in_blocklist" | "check_uri_host_in_blacklist" => {
            uri_host_listed(texts, lists, "BLOCK")
        }
        "check_uri_host_in_welcomelist" | "check_uri_host_in_whitelist" => {
            uri_host_listed(texts, lists, "WELCOME")
        }
        "check_subject_in_welcomelist" | "check_subject_in_whitelist" => {
            subject_listed(texts, lists.subject_welcome.as_ref())
        }
        "check_subject_in_blocklist" | "check_subject_in_blacklist" => {
            subject_listed(texts, lists.subject_block.as_ref())
        }
        "have_any_bounce_relays" => lists.addr.contains_key("welcomelist_bounce_relays"),
        "check_welcomelist_bounce_relays" | "check_whitelist_bounce_relays" => {
            bounce_relays(texts, lists)
        }
        _ => return None,
    })
}

/// `get(NAME:addr)` in scalar context: the first address, or "".
fn first_address(texts: &Texts<'_>, name: &str) -> String {
    addrs(texts, name).into_iter().next().unwrap_or_default()
}

/// Appends the items not seen yet, in order (a set beside the list: a hostile To header
/// holds 200,000 addresses).
fn push_unique(
    out: &mut Vec<String>,
    seen: &mut HashSet<String>,
    items: impl IntoIterator<Item = String>,
) {
    for a in items {
        if seen.insert(a.clone()) {
            out.push(a);
        }
    }
}

/// PerMsgStatus's `all_from_addrs`.
fn from_addresses(texts: &Texts<'_>) -> Vec<String> {
    all_from_addrs(texts).iter().cloned().collect()
}

/// PerMsgStatus's `all_to_addrs`: the first Resent-To and Resent-Cc addresses when the
/// message was resent; else the `for <address>` of the three newest Received headers, then
/// To, Apparently-To, Delivered-To and the other recipient headers MTAs and delivery agents
/// write, then Cc.
fn to_addresses(texts: &Texts<'_>) -> Vec<String> {
    let (mut out, mut seen) = (Vec::new(), HashSet::new());
    push_unique(&mut out, &mut seen, addrs(texts, "Resent-To:first"));
    push_unique(&mut out, &mut seen, addrs(texts, "Resent-Cc:first"));
    if !out.is_empty() {
        return out;
    }
    for line in texts
        .header("Received", &[])
        .unwrap_or_default()
        .iter()
        .take(3)
    {
        if let Some(a) = received_for(&String::from_utf8_lossy(line)) {
            push_unique(&mut out, &mut seen, [a]);
        }
    }
    for name in [
        "To",
        "Apparently-To",
        "Delivered-To",
        "Envelope-Recipients",
        "Apparently-Resent-To",
        "X-Envelope-To",
        "Envelope-To",
        "X-Delivered-To",
        "X-Original-To",
        "X-Rcpt-To",
        "X-Real-To",
        "Cc",
    ] {
        push_unique(&mut out, &mut seen, addrs(texts, name));
    }
    out
}

/// The recipient of ` for <?(\S+\@(\S+?))>?;` in a Received header, when its domain is
/// a plausible host name.
fn received_for(line: &str) -> Option<String> {
    let mut rest = line;
    while let Some(p) = rest.find(" for ") {
        let after = &rest[p + 5..];
        rest = after;
        let word_end = after.find(char::is_whitespace).unwrap_or(after.len());
        let word = &after[..word_end];
        // `;` must end the address, maybe after a `>`.
        let Some(word) = word.strip_suffix(';') else {
            continue;
        };
        let word = word.strip_suffix('>').unwrap_or(word);
        let word = word.strip_prefix('<').unwrap_or(word);
        let Some((local, domain)) = word.rsplit_once('@') else {
            continue;
        };
        if local.is_empty() || !fqdn(domain) {
            continue;
        }
        return Some(word.to_ascii_lowercase());
    }
    None
}

/// A syntactically valid fully qualified domain name (two labels at least).
fn fqdn(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && labels
            .last()
            .is_some_and(|t| t.bytes().any(|b| b.is_ascii_alphabetic()))
}

/// The relays a `*_from_rcvd` entry is checked against: the first untrusted relay when
/// there is one; else every trusted relay.
fn checked_relays<'t>(texts: &'t Texts<'_>) -> Vec<&'t Relay> {
    let r = &texts.relays;
    match r.untrusted.first() {
        Some(first) => vec![first],
        None => r.trusted.iter().collect(),
    }
}

/// Whether a relay matches a `*_from_rcvd` domain: a reverse DNS name in `domain`, or an
/// `[IP]`, `[classful.prefix]`, `[IP/len]` or `[IP]/len` address.
fn relay_matches(relay: &Relay, domain: &str) -> bool {
    if let Some(inner) = domain.strip_prefix('[') {
        let Some((ip, len)) = inner.split_once(']') else {
            return false;
        };
        let spec = format!("{ip}{len}");
        let relay_ip = relay.ip.as_str();
        if relay_ip.is_empty() {
            return false;
        }
        let dotted = |s: &str| s.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        if dotted(&spec) && spec.split('.').count() == 4 && !spec.ends_with('.') {
            return spec == relay_ip;
        }
        if dotted(&spec) {
            let prefix = format!("{}.", spec.trim_end_matches('.'));
            return relay_ip.starts_with(&prefix);
        }
        let mut net = Networks::default();
        return net.add(&spec).is_ok()
            && relay_ip.parse::<IpAddr>().is_ok_and(|ip| net.contains(&ip));
    }
    let rdns = relay.rdns.to_ascii_lowercase();
    rdns == domain
        || rdns
            .strip_suffix(domain)
            .is_some_and(|head| head.ends_with('.'))
}

/// WLBLEval's `_check_welcomelist_rcvd`: 1 when an address matches an entry and the relay
/// matches its domain, -1 when only the address matches (a possible forgery, unless
/// `welcomelist_allows_relays` lists the address), 0 otherwise.
fn rcvd_verdict(
    texts: &Texts<'_>,
    entries: &[(regex::Regex, String)],
    addr: &str,
    lists: &Lists,
) -> i8 {
    let relays = checked_relays(texts);
    if relays.is_empty() {
        return 0;
    }
    let mut forged = 0;
    for (re, domain) in entries {
        if !re.is_match(addr) {
            continue;
        }
        if relays.iter().any(|r| relay_matches(r, domain)) {
            return 1;
        }
        forged = -1;
    }
    if forged < 0
        && lists
            .allows_relays
            .as_ref()
            .is_some_and(|re| re.is_match(addr))
    {
        forged = 0;
    }
    forged
}

/// WLBLEval's `_check_from_in_welcomelist` (`welcomelist_from` and
/// `welcomelist_from_rcvd`) and `_check_from_in_default_welcomelist`
/// (`def_welcomelist_from_rcvd`): 1 listed, -1 a `*_from_rcvd` address that came through
/// another relay, 0 not listed.
fn from_verdict(
    texts: &Texts<'_>,
    lists: &Lists,
    plain: Option<&str>,
    rcvd: &[(regex::Regex, String)],
) -> i8 {
    let listed = plain.and_then(|name| lists.addr.get(name));
    if listed.is_none() && rcvd.is_empty() {
        return 0;
    }
    let mut found = 0;
    for a in from_addresses(texts) {
        if listed.is_some_and(|re| re.is_match(&a)) {
            return 1;
        }
        match rcvd_verdict(texts, rcvd, &a, lists) {
            1 => return 1,
            -1 => found = -1,
            _ => {}
        }
    }
    found
}

fn from_in_welcomelist(texts: &Texts<'_>, lists: &Lists) -> i8 {
    from_verdict(texts, lists, Some("welcomelist_from"), &lists.from_rcvd)
}

fn from_in_default_welcomelist(texts: &Texts<'_>, lists: &Lists) -> i8 {
    from_verdict(texts, lists, None, &lists.def_from_rcvd)
}

/// WLBLEval's `check_mailfrom_matches_rcvd`: the envelope sender's registrable domain
/// equals that of the first untrusted relay's reverse DNS name (or of any trusted relay's
/// when every relay is trusted).
fn mailfrom_matches_rcvd(texts: &Texts<'_>, lists: &Lists) -> bool {
    let sender = first_address(texts, "EnvelopeFrom");
    let Some((_, domain)) = sender.rsplit_once('@') else {
        return false;
    };
    if domain.is_empty()
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
    {
        return false;
    }
    let sender_domain = lists.registry.trim_domain(domain);
    checked_relays(texts).iter().any(|r| {
        !r.rdns.is_empty()
            && lists.registry.trim_domain(&r.rdns.to_ascii_lowercase()) == sender_domain
    })
}

/// The host of a URI (lowercase; `None` for `mailto:` and URIs without one).
fn uri_host(uri: &str) -> Option<String> {
    let lower = uri.trim().to_ascii_lowercase();
    if lower.starts_with("mailto:") {
        return None;
    }
    let rest = lower.split_once("://").map_or(lower.as_str(), |(_, r)| r);
    let authority = rest.split(['/', '?', '#', '\\']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split_once(']').map_or(host, |(h, _)| h).to_string() + "]"
    } else {
        host.split(':').next().unwrap_or("").to_string()
    };
    let host = host.trim_end_matches('.').to_string();
    (!host.is_empty()).then_some(host)
}

/// The distinct hosts of the message's URIs that SpamAssassin's get_uri_detail_list
/// records: IP addresses and names ending in a valid TLD (RegistryBoundaries'
/// uri_to_domain; a relative `href="top"` has none).
fn uri_hosts(texts: &Texts<'_>, lists: &Lists) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut hosts = Vec::new();
    for uri in &texts.uris {
        let Some(host) = uri_host(&String::from_utf8_lossy(uri)) else {
            continue;
        };
        let ipv4 = host.split('.').count() == 4
            && host
                .split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if (ipv4 || host.starts_with('[') || lists.registry.is_domain_valid(&host))
            && seen.insert(host.clone())
        {
            hosts.push(host);
        }
    }
    hosts
}

/// WLBLEval's `check_uri_host_listed(NAME)`: some URI host, or the nearest of its parent
/// domains that the list names, is listed (and not excluded with `!`).
fn uri_host_listed(texts: &Texts<'_>, lists: &Lists, name: &str) -> bool {
    let Some(list) = lists.uri_hosts.get(name) else {
        return false;
    };
    let hosts = texts.uri_hosts.get_or_init(|| uri_hosts(texts, lists));
    for host in hosts {
        let keys: Vec<&str> = if let Some(inner) = host.strip_prefix('[') {
            vec![inner.trim_end_matches(']')]
        } else {
            // host, then each parent domain; SpamAssassin keeps the last 11.
            let mut keys = vec![host.as_str()];
            let mut h = host.as_str();
            while let Some((_, parent)) = h.split_once('.') {
                keys.push(parent);
                h = parent;
            }
            let skip = keys.len().saturating_sub(11);
            keys.split_off(skip)
        };
        if keys.iter().find_map(|k| list.get(*k)).copied() == Some(true) {
            return true;
        }
    }
    false
}

/// VBounce's `check_welcomelist_bounce_relays`: a bounce that quotes a Received line naming
/// one of our `welcomelist_bounce_relays` hosts, in its text or in an attached message,
/// answers mail we really sent.
fn bounce_relays(texts: &Texts<'_>, lists: &Lists) -> bool {
    static RECEIVED: std::sync::LazyLock<regex::bytes::Regex> = std::sync::LazyLock::new(|| {
        regex::bytes::Regex::new(r"(?i-u)^[> ]*Received:").expect("static regex")
    });
    // One host-like word between blanks (VBounce's `\s(\S+\.\S+)\s`).
    static HOST: std::sync::LazyLock<regex::bytes::Regex> = std::sync::LazyLock::new(|| {
        regex::bytes::Regex::new(r"(?-u)\s(\S+\.\S+)\s").expect("static regex")
    });
    let Some(relays) = lists.addr.get("welcomelist_bounce_relays") else {
        return false;
    };
    // Matches do not overlap: a word's trailing blank is not the next one's leading.
    let listed = |text: &[u8]| {
        HOST.captures_iter(text).any(|c| {
            let host = String::from_utf8_lossy(&c[1]).to_lowercase();
            relays.is_match(&host)
        })
    };
    if texts
        .body
        .iter()
        .any(|line| RECEIVED.is_match(line) && listed(line))
    {
        return true;
    }
    // Attached messages: the body as received, Received fields with their continuations.
    let raw = texts.raw_body;
    if memchr::memmem::find(&raw.to_ascii_lowercase(), b"received:").is_none() {
        return false;
    }
    let mut found = false;
    let mut field: Vec<u8> = Vec::new();
    for line in raw.split(|&b| b == b'\n') {
        if !found {
            if !RECEIVED.is_match(line) {
                continue;
            }
            found = true;
        }
        if line.first().is_some_and(u8::is_ascii_whitespace) {
            field.extend_from_slice(line);
        } else {
            field = line.to_vec();
        }
        if RECEIVED.is_match(&field) && listed(&field) {
            return true;
        }
    }
    false
}

/// WelcomeListSubject's check: a pattern found anywhere in the decoded Subject.
fn subject_listed(texts: &Texts<'_>, re: Option<&regex::Regex>) -> bool {
    let Some(re) = re else {
        return false;
    };
    let subject = texts
        .header("Subject", &[])
        .map(|v| String::from_utf8_lossy(&v.concat()).into_owned())
        .unwrap_or_default();
    !subject.is_empty() && re.is_match(&subject)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_addresses() {
        let re = globs(&["*@example.com".into(), "?ob@*.example.org".into()], true).unwrap();
        assert!(re.is_match("alice@example.com"));
        assert!(re.is_match("ALICE@EXAMPLE.COM"));
        assert!(!re.is_match("alice@example.com.evil"));
        assert!(re.is_match("bob@mail.example.org"));
        assert!(!re.is_match("bobby@mail.example.org"));
        assert!(!re.is_match("bob@example.org"));
        // Metacharacters are literal.
        let re = globs(&["a+b@x.com".into()], true).unwrap();
        assert!(re.is_match("a+b@x.com"));
        assert!(!re.is_match("aab@x.com"));
    }

    #[test]
    fn received_for_addresses() {
        assert_eq!(
            received_for("from a by b with ESMTP id 1 for <Jm@Example.COM>; Mon, 1 Jan 2002"),
            Some("jm@example.com".into())
        );
        assert_eq!(
            received_for("from a by b for jm@example.com; Mon"),
            Some("jm@example.com".into())
        );
        assert_eq!(received_for("from a by b for <jm@localhost>; Mon"), None);
        assert_eq!(received_for("from a by b for <jm@example.com> Mon"), None);
    }

    #[test]
    fn uri_hosts() {
        assert_eq!(
            uri_host("http://User@WWW.Example.com:8080/x"),
            Some("www.example.com".into())
        );
        assert_eq!(uri_host("mailto:a@b.com"), None);
        assert_eq!(
            uri_host("https://[2001:db8::1]/"),
            Some("[2001:db8::1]".into())
        );
        assert_eq!(uri_host("www.example.com."), Some("www.example.com".into()));
    }

    #[test]
    fn relay_domains() {
        let relay = Relay {
            ip: "192.0.2.7".into(),
            rdns: "mail.Example.com".into(),
            ..Relay::default()
        };
        assert!(relay_matches(&relay, "example.com"));
        assert!(relay_matches(&relay, "mail.example.com"));
        assert!(!relay_matches(&relay, "ample.com"));
        assert!(relay_matches(&relay, "[192.0.2.7]"));
        assert!(relay_matches(&relay, "[192.0.2]"));
        assert!(relay_matches(&relay, "[192.0.2.0/24]"));
        assert!(relay_matches(&relay, "[192.0.2.0]/24"));
        assert!(!relay_matches(&relay, "[192.0.3.0/24]"));
        assert!(!relay_matches(&relay, "[192.0.2.70]"));
    }
}
