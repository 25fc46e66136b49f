//! Header evals: dates (`check_for_shifted_date`, `check_outlook_message_id`) and the
//! FreeMail plugin's tests (`check_freemail_from`, `check_freemail_header`,
//! `check_freemail_replyto`), written from SpamAssassin's documented semantics.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use super::eval::EvalData;
use super::parser::EvalCall;
use super::texts::Texts;

/// Addresses the FreeMail plugin never counts as freemail (role accounts, bounces, list
/// and forwarding addresses).
static WELCOME: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)^(?:abuse|support|sales|info|helpdesk|contact|kontakt|(?:post|host|domain)master|undisclosed.*|request-[a-f0-9]{16}|bounced?-|[a-f0-9]{8}(?:\.[a-f0-9]{8}|-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12})|.+=.+=.+)@",
    )
    .expect("static regex")
});

/// Envelope senders that look like bulk or list mail: the Reply-To tests skip them.
static BULK_ENVFROM: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)(?:^(?:post|host|domain)master|^double-bounce|^(?:sentto|owner|return|(?:gr)?bounced?)-.+|-(?:request|bounces?|admin|owner)|\b(?:do[._t-]?)?no[._t-]?repl(?:y|ies)|.+=.+)@",
    )
    .expect("static regex")
});

/// An e-mail address in body text, as the FreeMail plugin finds them (top-level domain:
/// letters only, where SpamAssassin checks its list of valid TLDs).
static BODY_EMAIL: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
    regex::bytes::Regex::new(
        r"(?i-u)[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,59}[a-z0-9])?\.){1,4}[a-z]{2,18}\b",
    )
    .expect("static regex")
});

/// Runs the evals of this module; `None` when `call` is not one of them.
pub fn run(call: &EvalCall, texts: &Texts<'_>, data: &EvalData) -> Option<bool> {
    let arg = |i: usize| call.args.get(i).map(String::as_str);
    Some(match call.function.as_str() {
        "check_for_shifted_date" => {
            let diff = texts.date_diff();
            let bound = |a: Option<&str>| {
                a.filter(|a| *a != "undef")
                    .and_then(|a| a.parse::<f64>().ok())
            };
            let (min, max) = (bound(arg(0)), bound(arg(1)));
            min.is_none_or(|m| diff as f64 >= 3600.0 * m)
                && max.is_none_or(|m| (diff as f64) < 3600.0 * m)
        }
        "check_outlook_message_id" => outlook_message_id(texts),
        "check_freemail_from" => freemail_from(texts, data, arg(0)),
        "check_freemail_header" => freemail_header(texts, data, arg(0)?, arg(1)),
        "check_freemail_replyto" => freemail_replyto(texts, data, arg(0).unwrap_or("replyto")),
        "sorted_recipients" => recipients(texts).0,
        "similar_recipients" => {
            let sim = recipients(texts).1;
            let bound = |a: Option<&str>| {
                a.filter(|a| *a != "undef")
                    .and_then(|a| a.parse::<f64>().ok())
            };
            bound(arg(0)).is_none_or(|m| sim >= m) && bound(arg(1)).is_none_or(|m| sim < m)
        }
        "check_for_no_hotmail_received_headers" => {
            *texts.hotmail.get_or_init(|| hotmail_received(texts)) == Some(false)
        }
        "check_for_forged_hotmail_received_headers" => {
            *texts.hotmail.get_or_init(|| hotmail_received(texts)) == Some(true)
        }
        "check_for_forged_yahoo_received_headers" => forged_yahoo(texts),
        "helo_ip_mismatch" => helo_ip_mismatch(texts),
        "check_for_no_rdns_dotcom_helo" => no_rdns_dotcom_helo(texts),
        "check_illegal_chars" => illegal_chars(texts, arg(0)?, arg(1)?, arg(2)?),
        "check_unresolved_template" => unresolved_template(texts),
        "check_ratware_envelope_from" => ratware_envelope_from(texts, data),
        "check_for_fake_aol_relay_in_rcvd" => fake_aol_relay(texts),
        "check_for_forged_eudoramail_received_headers" => forged_eudoramail(texts),
        "check_for_forged_gmail_received_headers" => forged_gmail(texts),
        "check_for_forged_juno_received_headers" => forged_juno(texts),
        "check_for_forged_received_trail" => forged_received_trail(texts),
        _ => return None,
    })
}

/// An IPv4 or IPv6 address, loosely (SpamAssassin's IP_ADDRESS).
const IP: &str = r"(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7})";

/// The Received headers, decoded, joined, white space runs made single spaces.
fn received_text(texts: &Texts<'_>) -> String {
    texts
        .header("Received", &[])
        .map(|v| String::from_utf8_lossy(&v.concat()).into_owned())
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first address of a header, lowercased.
fn first_addr(texts: &Texts<'_>, name: &str) -> String {
    addrs(texts, name).into_iter().next().unwrap_or_default()
}

/// Mail that passed a list manager or gateway that strips Received headers (ezmlm, MSN
/// groups), or has none: the forged-Received tests do not apply.
pub(crate) fn gated_through_received_remover(texts: &Texts<'_>) -> bool {
    static EZMLM: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"(?m)^contact \S+@\S+; run by ezmlm$").expect("static regex")
    });
    static QMAIL: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"qmail \d+ invoked (?:from network|by .{3,20})\); \d+ ... \d+")
            .expect("static regex")
    });
    let get = |n: &str| {
        texts
            .header(n, &[])
            .map(|v| String::from_utf8_lossy(&v.concat()).into_owned())
    };
    if let Some(list) = get("Mailing-List")
        && EZMLM.is_match(&list)
    {
        let dlto = get("Delivered-To").unwrap_or_default();
        let rcvd = get("Received").unwrap_or_default();
        if dlto.lines().any(|l| {
            l.strip_prefix("mailing list ")
                .is_some_and(|r| r.split_whitespace().next().is_some_and(|a| a.contains('@')))
        }) && QMAIL.is_match(&rcvd)
        {
            return true;
        }
    }
    match get("Received") {
        None => true,
        Some(r) => r.contains("from groups.msn.com (") && r.contains(".msn.com "),
    }
}

/// The Hotmail test: `None` when it does not apply, `Some(true)` when a Received line
/// claims Hotmail without Hotmail's own format, `Some(false)` when the From address is at
/// hotmail.com and no Received line mentions Hotmail.
fn hotmail_received(texts: &Texts<'_>) -> Option<bool> {
    static GENUINE: LazyLock<[regex::Regex; 5]> = LazyLock::new(|| {
        [
            r"from (?:\S*\.)?hotmail.com \(\S+\.hotmail(?:\.msn)?\.com[ )]".to_string(),
            format!(r"from \S*\.hotmail.com \(\[{IP}\][ ):]"),
            r"from \S+ by \S+\.hotmail(?:\.msn)?\.com with HTTP;".to_string(),
            r"from \[66\.218.\S+\] by \S+\.yahoo\.com".to_string(),
            r"from \S*\.outbound\.protection\.outlook\.com \(\S+\.outbound\.protection\.outlook\.com[ )]".to_string(),
        ]
        .map(|p| regex::Regex::new(&p).expect("static regex"))
    });
    static OUTLOOK: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(&format!(
            r"from \S*\.(?:eur|nam)prd\d+\.prod\.outlook\.com \({IP}\)"
        ))
        .expect("static regex")
    });
    static CLAIM: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"(?:from |HELO |helo=)\S*hotmail\.com\b").expect("static regex")
    });
    static IPRE: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(IP).expect("static regex"));
    // A verdict needs `hotmail.com` in a Received field (the claim below) or a From at
    // hotmail.com; most messages have neither, and nothing more is read for them.
    let claimed = texts
        .headers
        .iter()
        .zip(&texts.decoded)
        .any(|(h, v)| h.name.eq_ignore_ascii_case("Received") && v.contains("hotmail.com"));
    if !claimed && !at_hotmail(&first_addr(texts, "From")) {
        return None;
    }
    let rcvd = received_text(texts);
    if rcvd.contains("from mail pickup service by hotmail.com with Microsoft SMTPSVC;") {
        return None;
    }
    let to = texts
        .header("To", &[])
        .map(|v| String::from_utf8_lossy(&v.concat()).to_ascii_lowercase())
        .unwrap_or_default();
    if to.contains("@groups.msn.com>") {
        // MSN groups mail has its own test; SpamAssassin skips this one for it.
        return None;
    }
    let get = |n: &str| {
        texts
            .header(n, &[])
            .map(|v| String::from_utf8_lossy(&v.concat()).into_owned())
    };
    let ip = get("X-Originating-Ip").is_some_and(|v| IPRE.is_match(&v));
    let orig = get("X-OriginatorOrg")
        .is_some_and(|v| v.contains("hotmail.com") || v.contains("msonline-outlook"));
    if gated_through_received_remover(texts) {
        return None;
    }
    let [a, b, c, d, e] = &*GENUINE;
    if (ip && (a.is_match(&rcvd) || b.is_match(&rcvd) || c.is_match(&rcvd) || d.is_match(&rcvd)))
        || (orig && (e.is_match(&rcvd) || OUTLOOK.is_match(&rcvd)))
    {
        return None;
    }
    if CLAIM.is_match(&rcvd) {
        return Some(true);
    }
    at_hotmail(&first_addr(texts, "From")).then_some(false)
}

/// An address at hotmail.com (not at a longer name ending so).
fn at_hotmail(addr: &str) -> bool {
    addr.ends_with("hotmail.com")
        && (addr.len() == 11 || !addr.as_bytes()[addr.len() - 12].is_ascii_alphanumeric())
}

/// FORGED_YAHOO_RCVD: From at yahoo.com, but no Received line in any of Yahoo's formats.
fn forged_yahoo(texts: &Texts<'_>) -> bool {
    static OK: LazyLock<[regex::Regex; 5]> = LazyLock::new(|| {
        [
            r"by web\S+\.mail\S*\.yahoo\.com via HTTP".to_string(),
            r"by sonic\S+\.consmr\.mail\S*\.yahoo\.com with HTTP".to_string(),
            r"by smtp\S+\.yahoo\.com with SMTP".to_string(),
            format!(r"from \[{IP}\] by \S+\.(?:groups|scd|dcn)\.yahoo\.com with NNFMP"),
            r"by \w+\.\w+\.yahoo\.com \(\d+\.\d+\.\d+/\d+\.\d+\.\d+\)(?: with ESMTP)? id \w+"
                .to_string(),
        ]
        .map(|p| regex::Regex::new(&p).expect("static regex"))
    });
    static TRUSTED: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r" rdns=\S+\.yahoo\.com ").expect("static regex"));
    static UNTRUSTED: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"^[^\]]+ rdns=\S+\.yahoo\.com ").expect("static regex")
    });
    let from = first_addr(texts, "From");
    let yahoo = from.ends_with("yahoo.com")
        && (from.len() == 9 || !from.as_bytes()[from.len() - 10].is_ascii_alphanumeric());
    if !yahoo {
        return false;
    }
    let mut rcvd = received_text(texts);
    let has = |n: &str| {
        texts
            .header(n, &[])
            .is_some_and(|v| !v.concat().trim_ascii().is_empty())
    };
    if has("Resent-From") && has("Resent-To") {
        let x = texts
            .header("X-Received", &[])
            .map(|v| String::from_utf8_lossy(&v.concat()).into_owned())
            .unwrap_or_default();
        if !x.trim().is_empty() {
            rcvd = x.split_whitespace().collect::<Vec<_>>().join(" ");
        }
    }
    if gated_through_received_remover(texts) {
        return false;
    }
    let trusted = texts
        .relays
        .header("X-Spam-Relays-Trusted")
        .unwrap_or_default();
    let untrusted = texts
        .relays
        .header("X-Spam-Relays-Untrusted")
        .unwrap_or_default();
    if TRUSTED.is_match(&format!("{trusted} ")) || UNTRUSTED.is_match(&untrusted) {
        return false;
    }
    if OK.iter().any(|r| r.is_match(&rcvd)) {
        return false;
    }
    if rcvd.contains(".bulk.scd.yahoo.com") && from.ends_with("@reply.yahoo.com") {
        return false;
    }
    true
}

/// (sorted, similarity) of the recipient list, as SpamAssassin's `_check_recipients`:
/// To and Cc addresses (Bcc too when fewer than 5), neighbours that repeat dropped; sorted
/// when 7 or more are in byte order; similarity is the share of address pairs whose first two
/// bytes of user or host agree (hosts only when the full hosts differ), from 5 addresses.
fn recipients(texts: &Texts<'_>) -> (bool, f64) {
    let mut inputs: Vec<String> = Vec::new();
    for h in ["ToCc", "Bcc"] {
        inputs.extend(
            texts
                .header(h, &["addr".to_string()])
                .unwrap_or_default()
                .iter()
                .map(|a| String::from_utf8_lossy(a).trim().to_string()),
        );
        if inputs.len() >= 5 {
            break;
        }
    }
    let mut address: Vec<String> = Vec::new();
    let mut previous = String::new();
    // Perl's `while (my $current = shift @inputs)` stops at an empty (false) entry.
    for current in inputs.into_iter().take_while(|a| !a.is_empty() && a != "0") {
        if current.to_lowercase() != previous.to_lowercase() {
            previous = current.clone();
            address.push(current);
        }
        if address.len() == 256 {
            break;
        }
    }
    let sorted = address.len() >= 7 && address.windows(2).all(|w| w[0] <= w[1]);
    if address.len() < 5 {
        return (sorted, 0.0);
    }
    let prefix = |s: &str| s.bytes().take(2).collect::<Vec<u8>>();
    let user: Vec<Vec<u8>> = address.iter().map(|a| prefix(a)).collect();
    // Addresses without `@` add no host, shifting the later ones, as in SpamAssassin.
    let fqhn: Vec<&str> = address
        .iter()
        .filter_map(|a| a.split_once('@').map(|(_, h)| h))
        .collect();
    let host: Vec<Vec<u8>> = fqhn.iter().map(|h| prefix(h)).collect();
    let (mut hits, mut combinations) = (0usize, 0usize);
    for i in 0..address.len() {
        for j in i + 1..address.len() {
            if user[i] == user[j] {
                hits += 1;
            }
            let (hi, hj) = (
                host.get(i).cloned().unwrap_or_default(),
                host.get(j).cloned().unwrap_or_default(),
            );
            if hi == hj && fqhn.get(i).copied().unwrap_or("") != fqhn.get(j).copied().unwrap_or("")
            {
                hits += 1;
            }
            combinations += 1;
        }
    }
    (sorted, hits as f64 / combinations as f64)
}

/// SpamAssassin's private IPv4 ranges (10/8, 127/8, 169.254/16, 172.16/12, 192.168/16,
/// 100.64/10), for a dotted-quad string.
fn private_v4(ip: &str) -> bool {
    let Ok(v) = ip.parse::<std::net::Ipv4Addr>() else {
        return false;
    };
    let o = v.octets();
    o[0] == 10
        || o[0] == 127
        || (o[0] == 169 && o[1] == 254)
        || (o[0] == 172 && (16..=31).contains(&o[1]))
        || (o[0] == 192 && o[1] == 168)
        || (o[0] == 100 && (64..=127).contains(&o[1]))
}

fn is_v4(s: &str) -> bool {
    s.parse::<std::net::Ipv4Addr>().is_ok()
}

/// RCVD_HELO_IP_MISMATCH: an untrusted relay said HELO with a public IPv4 address outside
/// the /24 of the address it connected from.
fn helo_ip_mismatch(texts: &Texts<'_>) -> bool {
    texts.relays.untrusted.iter().any(|r| {
        let (helo, ip) = (r.helo.as_str(), r.ip.as_str());
        if !is_v4(helo) || private_v4(helo) {
            return false;
        }
        let net = helo.rsplit_once('.').map(|(p, _)| format!("{p}."));
        is_v4(ip) && !private_v4(ip) && helo != ip && net.is_some_and(|n| !ip.starts_with(&n))
    })
}

/// NO_RDNS_DOTCOM_HELO: the last public untrusted relay has no reverse DNS and said HELO
/// as a big freemail/ISP domain (only the last such relay counts, as in SpamAssassin).
fn no_rdns_dotcom_helo(texts: &Texts<'_>) -> bool {
    const DOMS: [&str; 11] = [
        "lycos.com",
        "lycos.co.uk",
        "hotmail.com",
        "localhost.com",
        "excite.com",
        "caramail.com",
        "cs.com",
        "aol.com",
        "msn.com",
        "yahoo.com",
        "drizzle.com",
    ];
    let Some(r) = texts.relays.untrusted.iter().rev().find(|r| !r.private) else {
        return false;
    };
    let helo = r.helo.to_ascii_lowercase();
    let dotcom = DOMS
        .iter()
        .any(|d| helo == *d || helo.ends_with(&format!(".{d}")));
    dotcom && r.rdns.is_empty() && r.dns_looked_up
}

/// `check_illegal_chars(HEADER, RATIO, COUNT)`: control and 8-bit bytes in the raw header
/// (valid UTF-8 without controls is fine; one of `\xa2\xa3\xae` in a Subject is exempt).
fn illegal_chars(texts: &Texts<'_>, header: &str, ratio: &str, count: &str) -> bool {
    let (Ok(ratio), Ok(count)) = (ratio.parse::<f64>(), count.parse::<f64>()) else {
        return false;
    };
    let name = header.strip_suffix(":raw").unwrap_or(header);
    let Some(v) = texts.header(name, &["raw".to_string()]) else {
        return false;
    };
    let s: Vec<u8> = v.concat();
    if s.iter().all(u8::is_ascii_whitespace) {
        return false;
    }
    let control = |b: &u8| matches!(*b, 0x00..=0x08 | 0x0b | 0x0c | 0x0e..=0x1f);
    if !s.is_ascii() && std::str::from_utf8(&s).is_ok() && !s.iter().any(control) {
        return false;
    }
    let mut illegal = s.iter().filter(|b| control(b) || **b >= 0x7f).count() as f64;
    if illegal > 0.0 && name.eq_ignore_ascii_case("subject") {
        let exempt = s
            .iter()
            .filter(|b| matches!(**b, 0xa2 | 0xa3 | 0xae))
            .count();
        if exempt == 1 {
            illegal -= 1.0;
        }
    }
    illegal / s.len() as f64 >= ratio && illegal >= count
}

/// Whether `call` is one of this module's evals with arguments it understands.
pub fn supported(call: &EvalCall) -> bool {
    match call.function.as_str() {
        "check_for_shifted_date" => call.args.len() == 2,
        "check_outlook_message_id" | "helo_ip_mismatch" | "check_for_no_rdns_dotcom_helo" => {
            call.args.is_empty()
        }
        "check_illegal_chars" => call.args.len() == 3,
        "sorted_recipients"
        | "check_for_no_hotmail_received_headers"
        | "check_for_forged_hotmail_received_headers"
        | "check_for_forged_yahoo_received_headers"
        | "check_unresolved_template"
        | "check_ratware_envelope_from"
        | "check_for_fake_aol_relay_in_rcvd"
        | "check_for_forged_eudoramail_received_headers"
        | "check_for_forged_gmail_received_headers"
        | "check_for_forged_juno_received_headers"
        | "check_for_forged_received_trail" => call.args.is_empty(),
        "similar_recipients" => call.args.len() == 2,
        "check_freemail_from" => call.args.len() <= 1,
        "check_freemail_header" => (1..=2).contains(&call.args.len()),
        "check_freemail_replyto" => call
            .args
            .first()
            .is_none_or(|a| a == "replyto" || a == "reply"),
        _ => false,
    }
}

/// Patterns the evals of this module take as arguments, compiled at load time.
pub fn argument_pattern(call: &EvalCall) -> Option<&str> {
    match call.function.as_str() {
        "check_freemail_header" => call.args.get(1).map(String::as_str),
        "check_freemail_from" => call.args.first().map(String::as_str),
        _ => None,
    }
}

/// MSGID_OUTLOOK_INVALID: an Outlook-style Message-ID whose embedded time token is far from
/// both the Date header and the oldest Received time.
fn outlook_message_id(texts: &Texts<'_>) -> bool {
    static ID: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
        regex::bytes::Regex::new(r"(?-u)^<[0-9a-f]{4}([0-9a-f]{8})\$[0-9a-f]{8}\$[0-9a-f]{8}@")
            .expect("static regex")
    });
    let Some(ids) = texts.header("MESSAGEID", &[]) else {
        return false;
    };
    let Some(caps) = ids.first().and_then(|v| ID.captures(v)) else {
        return false;
    };
    let Ok(token) = i64::from_str_radix(&String::from_utf8_lossy(&caps[1]), 16) else {
        return false;
    };
    let expected = |t: i64| (t as f64 * 0.002_328_306_436_538_7 + 27_111_902.832_984_9) as i64;
    let fudge = 250;
    let date = super::dates::date_header_time(texts).unwrap_or(0);
    if (token - expected(date)).abs() < fudge {
        return false;
    }
    let rcvd = super::dates::outlook_received_time(texts).unwrap_or(0);
    (token - expected(rcvd)).abs() >= fudge
}

/// Whether `email` (lowercased) is at a freemail domain and not a welcomelisted address.
fn is_freemail(email: &str, data: &EvalData) -> bool {
    if email.is_empty() || WELCOME.is_match(email) {
        return false;
    }
    email
        .rsplit_once('@')
        .is_some_and(|(_, d)| data.is_freemail_domain(d))
}

/// Lowercased addresses of a header (with `:addr`), empty ones dropped.
pub(crate) fn addrs(texts: &Texts<'_>, header: &str) -> Vec<String> {
    let (name, mods) = match header.split_once(':') {
        Some((n, m)) => (n, m.split(':').map(str::to_string).collect()),
        None => (header, vec![]),
    };
    let mut mods: Vec<String> = mods;
    if !mods.iter().any(|m| m == "addr") {
        mods.push("addr".into());
    }
    texts
        .header(name, &mods)
        .unwrap_or_default()
        .iter()
        .map(|a| String::from_utf8_lossy(a).trim().to_ascii_lowercase())
        .filter(|a| !a.is_empty())
        .collect()
}

/// The sender addresses SpamAssassin's `all_from_addrs` collects: Resent-From when present,
/// otherwise From and the envelope-sender headers.
/// Computed once per message (FreeMail and four stock address lists read them).
pub(crate) fn all_from_addrs<'t>(texts: &'t Texts<'_>) -> &'t BTreeSet<String> {
    texts.from_addrs.get_or_init(|| from_addrs(texts))
}

fn from_addrs(texts: &Texts<'_>) -> BTreeSet<String> {
    let resent = addrs(texts, "Resent-From:first");
    let list = if !resent.is_empty() {
        resent
    } else {
        [
            "From",
            "Envelope-Sender",
            "Resent-Sender",
            "X-Envelope-From",
            "EnvelopeFrom",
        ]
        .iter()
        .flat_map(|h| addrs(texts, h))
        .collect()
    };
    list.into_iter()
        .map(|a| {
            // Runs of dots collapse, as SpamAssassin repairs `foo@bar..com`.
            let mut out = String::with_capacity(a.len());
            for c in a.chars() {
                if !(c == '.' && out.ends_with('.')) {
                    out.push(c);
                }
            }
            out
        })
        .collect()
}

/// FREEMAIL_FROM: a sender address at a freemail domain (matching the optional pattern).
fn freemail_from(texts: &Texts<'_>, data: &EvalData, pattern: Option<&str>) -> bool {
    let re = pattern.and_then(|p| data.pattern(p));
    if pattern.is_some() && re.is_none() {
        return false;
    }
    all_from_addrs(texts)
        .iter()
        .any(|a| is_freemail(a, data) && re.is_none_or(|r| r.is_match(a.as_bytes())))
}

/// `check_freemail_header(HEADER [, PATTERN])`: an address of the header is freemail.
fn freemail_header(
    texts: &Texts<'_>,
    data: &EvalData,
    header: &str,
    pattern: Option<&str>,
) -> bool {
    let re = pattern.and_then(|p| data.pattern(p));
    if pattern.is_some() && re.is_none() {
        return false;
    }
    addrs(texts, header)
        .iter()
        .any(|a| is_freemail(a, data) && re.is_none_or(|r| r.is_match(a.as_bytes())))
}

/// Freemail addresses written in the body text (up to the plugin's limits), or `None` when
/// the body names too many addresses for the test to be meaningful.
fn body_freemails(texts: &Texts<'_>, data: &EvalData) -> Option<BTreeSet<String>> {
    let mut seen: Vec<String> = Vec::new();
    let push = |e: String, seen: &mut Vec<String>| {
        if !seen.contains(&e) {
            seen.push(e);
        }
    };
    // `<a href="mailto:...">` links first (the rendered text does not show them); not
    // form actions or other link kinds.
    for uri in &texts.anchor_links {
        if seen.len() >= 20 {
            break;
        }
        if uri
            .get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"mailto:"))
            && let Some(m) = BODY_EMAIL.find(&uri[7..]).filter(|m| m.start() == 0)
        {
            push(
                String::from_utf8_lossy(m.as_bytes()).to_ascii_lowercase(),
                &mut seen,
            );
        }
    }
    'body: for line in &texts.body {
        let line = URL_AT.replace_all(line, &b" "[..]);
        let mut start = 0;
        while let Some(m) = BODY_EMAIL.find_at(&line, start) {
            start = m.end();
            // Addresses in <...> or followed by "wrote:"-like words are quotes, not offers
            // (unless written as a mailto: link).
            let before = &line[..m.start()];
            let after = &line[m.end()..];
            let mailto = before
                .get(before.len().saturating_sub(7)..)
                .is_some_and(|b| b.eq_ignore_ascii_case(b"mailto:"));
            if !mailto && (after.starts_with(b">") || is_quote_word(after)) {
                continue;
            }
            push(
                String::from_utf8_lossy(m.as_bytes()).to_ascii_lowercase(),
                &mut seen,
            );
            if seen.len() >= 40 {
                break 'body;
            }
        }
    }
    let mut out = BTreeSet::new();
    let mut freemails = 0;
    for (n, e) in seen.iter().enumerate() {
        if n + 1 == 5 {
            return None;
        }
        if !is_freemail(e, data) {
            continue;
        }
        freemails += 1;
        if freemails == 3 {
            return None;
        }
        out.insert(e.clone());
    }
    Some(out)
}

/// Whether text after an address reads like `  wrote:` (up to 10 spaces, 2-11 letters, a
/// colon), other than fax/tel/phone/mail labels.
fn is_quote_word(after: &[u8]) -> bool {
    quote_word_len(after).is_some()
}

/// The length of the `  wrote:`-like text at the start of `after` ([`is_quote_word`]).
fn quote_word_len(after: &[u8]) -> Option<usize> {
    let spaces = after.iter().take_while(|b| b.is_ascii_whitespace()).count();
    if spaces == 0 || spaces > 10 {
        return None;
    }
    let rest = &after[spaces..];
    let letters = rest.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    if !(2..=11).contains(&letters) || rest.get(letters) != Some(&b':') {
        return None;
    }
    let word = rest[..letters].to_ascii_lowercase();
    let label = [
        &b"fax"[..],
        b"facsi",
        b"tel",
        b"phone",
        b"email",
        b"e-mail",
        b"mail",
    ];
    (!label.iter().any(|l| word.starts_with(l))).then_some(spaces + letters + 1)
}

/// How `check_freemail_replyto(what)` decides from the headers alone, when it does.
enum ReplyCheck {
    /// Decided: hit or not.
    Decided(bool),
    /// It compares the body's freemail addresses with `reply` (From or Reply-To).
    Body {
        /// The addresses the body's are compared with.
        reply: Vec<String>,
    },
}

fn freemail_reply_check(texts: &Texts<'_>, data: &EvalData, what: &str) -> ReplyCheck {
    if let Some(env) = addrs(texts, "EnvelopeFrom").first()
        && BULK_ENVFROM.is_match(env)
    {
        return ReplyCheck::Decided(false);
    }
    let from = addrs(texts, "From");
    let replyto = addrs(texts, "Reply-To");
    let from_fm = from.iter().any(|a| is_freemail(a, data));
    let replyto_fm = replyto.iter().any(|a| is_freemail(a, data));
    let from_not_in_replyto = !from.iter().any(|f| replyto.contains(f));
    if from_fm && replyto_fm && from_not_in_replyto {
        return ReplyCheck::Decided(true);
    }
    if what == "replyto" {
        if !replyto_fm {
            return ReplyCheck::Decided(false);
        }
    } else if !replyto.is_empty() && !replyto_fm || !from_fm {
        return ReplyCheck::Decided(false);
    }
    ReplyCheck::Body {
        reply: if what == "replyto" || replyto_fm {
            replyto
        } else {
            from
        },
    }
}

/// Whether `check_freemail_replyto(what)` reads the body text. SpamAssassin's FreeMail
/// plugin then strips, *in place*, the URLs holding an `@` and the quoted addresses
/// (`<a@b.example>`, `a@b.example wrote:`) from the body lines its body rules see later
/// ([`strip_quoted_addresses`]).
pub fn freemail_reads_body(texts: &Texts<'_>, data: &EvalData, what: &str) -> bool {
    matches!(
        freemail_reply_check(texts, data, what),
        ReplyCheck::Body { .. }
    )
}

/// A body line as FreeMail's `_parse_body` leaves it: each URL with an `@` (or `%40`) in it,
/// and each address in `<...>` or followed by a `wrote:`-like word, replaced by a space.
pub fn strip_quoted_addresses(line: &[u8]) -> Vec<u8> {
    let line = URL_AT.replace_all(line, &b" "[..]);
    let mut out = Vec::with_capacity(line.len());
    let mut copied = 0;
    let mut start = 0;
    while let Some(m) = BODY_EMAIL.find_at(&line, start) {
        start = m.end();
        let before = &line[..m.start()];
        if before
            .get(before.len().saturating_sub(7)..)
            .is_some_and(|b| b.eq_ignore_ascii_case(b"mailto:"))
        {
            continue;
        }
        let after = &line[m.end()..];
        let end = if after.starts_with(b">") {
            m.end() + 1
        } else if let Some(n) = quote_word_len(after) {
            m.end() + n
        } else {
            continue;
        };
        let from = if before.ends_with(b"<") {
            m.start() - 1
        } else {
            m.start()
        };
        out.extend_from_slice(&line[copied..from.max(copied)]);
        out.push(b' ');
        copied = end;
        start = end;
    }
    out.extend_from_slice(&line[copied.min(line.len())..]);
    out
}

/// `<?https?://\S{0,255}(?:@|%40)\S{0,255}`: URLs with an address in them.
static URL_AT: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
    regex::bytes::Regex::new(r"(?i-u)<?https?://\S{0,255}(?:@|%40)\S{0,255}").expect("static regex")
});

/// `check_freemail_replyto('replyto'|'reply')`: From and Reply-To are different freemail
/// addresses, or the reply address differs from a freemail address in the body.
fn freemail_replyto(texts: &Texts<'_>, data: &EvalData, what: &str) -> bool {
    let reply = match freemail_reply_check(texts, data, what) {
        ReplyCheck::Decided(hit) => return hit,
        ReplyCheck::Body { reply } => reply,
    };
    let Some(body) = body_freemails(texts, data) else {
        return false;
    };
    body.iter().any(|b| reply.iter().any(|r| r != b))
}

/// A header's decoded value ("" when absent; instances joined with newlines, as Perl's
/// scalar `get` returns them).
fn header_value(texts: &Texts<'_>, name: &str) -> String {
    texts
        .header(name, &[])
        .map(|v| String::from_utf8_lossy(&v.join(&b'\n')).into_owned())
        .unwrap_or_default()
}

/// Whether an address's domain is `domain` or ends in `.domain` (Perl's `\bdomain$`).
fn addr_in_domain(addr: &str, domain: &str) -> bool {
    let addr = addr.to_ascii_lowercase();
    addr.strip_suffix(domain).is_some_and(|head| {
        head.is_empty() || !head.as_bytes()[head.len() - 1].is_ascii_alphanumeric()
    })
}

/// HeaderEval's `check_unresolved_template` (UNRESOLVED_TEMPLATE): a header line holding a
/// mail merge placeholder (`%FIRST_NAME`) the spammer's software failed to fill, outside
/// the headers where such text is normal.
fn unresolved_template(texts: &Texts<'_>) -> bool {
    static TEMPLATE: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r"%[A-Z][A-Z_-]").expect("static regex"));
    static EXEMPT: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(
            r"(?i)^(?:X-VMS-To|X-UIDL|X-Face|To|Cc|From|Subject|References|In-Reply-To|(?:X-|Resent-|X-Original-)?Message-Id):",
        )
        .expect("static regex")
    });
    // The ALL text is each field's name, `: ` and decoded value: without a `%` in any of
    // them (most messages) the template pattern cannot match, and the text is not built.
    let percent = texts.decoded.iter().any(|v| v.contains('%'))
        || texts.headers.iter().any(|h| h.name.contains('%'));
    percent
        && texts
            .header("ALL", &[])
            .unwrap_or_default()
            .iter()
            .any(|v| {
                String::from_utf8_lossy(v)
                    .split('\n')
                    .any(|line| TEMPLATE.is_match(line) && !EXEMPT.is_match(line))
            })
}

/// HeaderEval's `check_ratware_envelope_from` (RATWARE_ENVELOPE_FROM): an envelope sender
/// built from the recipient as `domain.user@...`, as some ratware does (SRS addresses
/// excepted).
fn ratware_envelope_from(texts: &Texts<'_>, data: &EvalData) -> bool {
    let to = first_addr(texts, "To");
    let from = first_addr(texts, "EnvelopeFrom");
    if from.is_empty() || to.is_empty() {
        return false;
    }
    let lower = from.to_ascii_lowercase();
    if lower.len() > 4
        && lower.starts_with("srs")
        && lower.as_bytes()[3].is_ascii_digit()
        && matches!(lower.as_bytes()[4], b'=' | b'+' | b'-')
    {
        return false;
    }
    let Some((user, dom)) = to.split_once('@') else {
        return false;
    };
    if user.is_empty() || dom.is_empty() {
        return false;
    }
    let registry = data.lists.registry();
    let dom = registry.trim_domain(dom);
    if !registry.is_domain_valid(&dom) {
        return false;
    }
    // /\b\Q$dom\E.\Q$user\E@/i: any one character between the domain and the user.
    let needle_dom = dom.to_ascii_lowercase();
    let needle_user = format!("{}@", user.to_ascii_lowercase());
    let bytes = lower.as_bytes();
    let mut from_pos = 0;
    while let Some(p) = lower[from_pos..].find(&needle_dom) {
        let start = from_pos + p;
        // The registered domain starts with a letter or digit, so `\b` wants no word
        // character before it.
        let boundary =
            start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        let after = start + needle_dom.len();
        if boundary
            && let Some(c) = lower[after..].chars().next()
            && lower[after + c.len_utf8()..].starts_with(&needle_user)
        {
            return true;
        }
        from_pos = start + 1;
        while !lower.is_char_boundary(from_pos) {
            from_pos += 1;
        }
    }
    false
}

/// HeaderEval's `check_for_fake_aol_relay_in_rcvd` (FAKE_AOL_RELAY_IN_RCVD): a Received
/// line naming an AOL-style `rly-xx00.` relay that is not in AOL's own formats.
fn fake_aol_relay(texts: &Texts<'_>) -> bool {
    static RLY: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r"(?i) rly-[a-z][a-z]\d\d\.").expect("static regex"));
    static AOL: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"/AOL-\d+\.\d+\.\d+\)|ESMTP id (?:RELAY|MAILRELAY|MAILIN)")
            .expect("static regex")
    });
    let rcvd = received_text(texts);
    RLY.is_match(&rcvd) && !AOL.is_match(&rcvd)
}

/// HeaderEval's `check_for_forged_eudoramail_received_headers`: From at eudoramail.com,
/// but not through Eudora's web mail (whowhere.com, with an X-Sender-Ip).
fn forged_eudoramail(texts: &Texts<'_>) -> bool {
    static WHOWHERE: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r"by \S*whowhere.com;").expect("static regex"));
    static ADDRESS: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(IP).expect("static regex"));
    if !addr_in_domain(&first_addr(texts, "From"), "eudoramail.com") {
        return false;
    }
    let ip = ADDRESS.is_match(&header_value(texts, "X-Sender-Ip"));
    if gated_through_received_remover(texts) {
        return false;
    }
    !(ip && WHOWHERE.is_match(&received_text(texts)))
}

/// HeaderEval's `check_for_forged_gmail_received_headers` (FORGED_GMAIL_RCVD): From at
/// gmail.com without Google's X-Received, submission Received line, or the long
/// X-Gm-Message-State and X-Google-Smtp-Source headers Gmail adds.
fn forged_gmail(texts: &Texts<'_>) -> bool {
    static XRECEIVED: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"by 10\.\S+ with SMTP id \S+|by 2002:a\d\d:\w+:\S+ with SMTP id \S+")
            .expect("static regex")
    });
    static SUBMISSION: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"by smtp\.googlemail\.com with ESMTPSA id \S+").expect("static regex")
    });
    if !addr_in_domain(&first_addr(texts, "From"), "gmail.com") {
        return false;
    }
    if XRECEIVED.is_match(&header_value(texts, "X-Received"))
        || SUBMISSION.is_match(&header_value(texts, "Received"))
    {
        return false;
    }
    let long = |name: &str| header_value(texts, name).chars().count() >= 60;
    !(long("X-Gm-Message-State") && long("X-Google-Smtp-Source"))
}

/// HeaderEval's `check_for_forged_juno_received_headers` (FORGED_JUNO_RCVD): From at
/// juno.com without the Received lines and X-Mailer Juno's and mail.com's servers write.
fn forged_juno(texts: &Texts<'_>) -> bool {
    static JUNO_FROM: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(&format!(r"from.*\b(?:juno|untd)\.com.*[\[(]{IP}[\])].*by"))
            .expect("static regex")
    });
    static COOKIE: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r" cookie\.(?:juno|untd)\.com ").expect("static regex"));
    static MAILCOM: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(&format!(r"from.*\bmail\.com.*\[{IP}\].*by")).expect("static regex")
    });
    static WEBMAIL: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(&format!(
            r"from (webmail\S+\.untd\.com) \((webmail\S+\.untd\.com) \[{IP}\]\) by"
        ))
        .expect("static regex")
    });
    static ADDRESS: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(IP).expect("static regex"));
    if !addr_in_domain(&first_addr(texts, "From"), "juno.com") {
        return false;
    }
    if gated_through_received_remover(texts) {
        return false;
    }
    let xorig = header_value(texts, "X-Originating-IP");
    let xmailer = header_value(texts, "X-Mailer");
    // The headers joined with newlines, as Perl's scalar get() returns them; `.` does not
    // cross them.
    let rcvd = header_value(texts, "Received");
    if !xorig.is_empty() {
        if !JUNO_FROM.is_match(&rcvd) && !COOKIE.is_match(&rcvd) {
            return true;
        }
        return !xmailer.contains("Juno ");
    }
    if MAILCOM.is_match(&rcvd) {
        if !xmailer.contains("mail.com") {
            return true;
        }
    } else if let Some(c) = WEBMAIL.captures(&rcvd) {
        // `\1`: the HELO name repeated.
        if c[1] != c[2] {
            return true;
        }
        if !(xmailer.starts_with("Webmail Version ")
            && xmailer["Webmail Version ".len()..].starts_with(|ch: char| ch.is_ascii_digit()))
        {
            return true;
        }
    } else {
        return true;
    }
    !ADDRESS.is_match(&xorig)
}

/// RelayEval's `hostname_to_domain`: the last two labels when the TLD looks generic
/// (three or more characters, or contains `ie`, `fr` or `de`), else the last three; an IP
/// address (no letters) as it is.
fn hostname_to_domain(host: &str) -> String {
    if !host.bytes().any(|b| b.is_ascii_alphabetic()) {
        return host.to_string();
    }
    let parts: Vec<&str> = host.split('.').collect();
    let last = parts.last().copied().unwrap_or("");
    let generic = last.chars().filter(|c| !c.is_whitespace()).count() >= 3
        || ["ie", "fr", "de"].iter().any(|t| last.contains(t));
    if parts.len() > 1 && generic {
        parts[parts.len() - 2..].join(".")
    } else if parts.len() > 2 {
        parts[parts.len() - 3..].join(".")
    } else {
        host.to_string()
    }
}

/// `^\w+(?:[\w.-]+\.)+\w+$`: a dotted host name.
fn dotted_host(s: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let b = s.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return false;
    };
    // The last dot must have word characters after it and at least two characters
    // (`\w+` and `[\w.-]+`) before it.
    let Some(dot) = s.rfind('.') else {
        return false;
    };
    word(first)
        && word(last)
        && dot >= 2
        && b[dot + 1..].iter().all(|&c| word(c))
        && b[..dot].iter().all(|&c| word(c) || c == b'.' || c == b'-')
}

/// RelayEval's `check_for_forged_received_trail` (__FORGED_RCVD_TRAIL): more than one
/// untrusted relay whose `by` domain differs from the `from` domain the next-older hop
/// reported for itself, i.e. a Received chain that does not link up.
fn forged_received_trail(texts: &Texts<'_>) -> bool {
    let relays = &texts.relays.untrusted;
    let mut from: Vec<Option<String>> = relays
        .iter()
        .map(|r| Some(hostname_to_domain(&r.rdns.to_ascii_lowercase())))
        .collect();
    let mut mismatches = 0;
    for (i, r) in relays.iter().enumerate() {
        let by = hostname_to_domain(&r.by.to_ascii_lowercase());
        if !dotted_host(&by) {
            continue;
        }
        // A relay from localhost at 127.0.0.1 links to nothing (done, as in RelayEval,
        // only for relays whose `by` qualifies).
        if from[i]
            .as_deref()
            .is_some_and(|f| f == "localhost" || f == "localhost.localdomain")
            && r.ip == "127.0.0.1"
        {
            from[i] = None;
        }
        if i > 0
            && let Some(prev) = &from[i - 1]
            && dotted_host(prev)
            && by != *prev
            && !(by == "msn.com" && prev == "hotmail.com")
        {
            mismatches += 1;
        }
    }
    mismatches > 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freemail_strips_urls_with_addresses_and_quoted_addresses() {
        let strip =
            |l: &str| String::from_utf8_lossy(&strip_quoted_addresses(l.as_bytes())).into_owned();
        assert_eq!(
            // ` https:` reads as a `wrote:` and goes with the address, as in Perl.
            strip("list Spamassassin-talk@lists.example.net https://lists.example.net/x"),
            "list  //lists.example.net/x"
        );
        assert_eq!(strip("From: Al <al@x.example> said"), "From: Al   said");
        assert_eq!(strip("see http://u@h.example/p now"), "see   now");
        // Not before a fax, phone or mail label, not after mailto:, not bare.
        assert_eq!(strip("a@x.example fax: 1"), "a@x.example fax: 1");
        assert_eq!(strip("mailto:a@x.example>"), "mailto:a@x.example>");
        assert_eq!(strip("write a@x.example today"), "write a@x.example today");
    }

    #[test]
    fn quote_words() {
        assert!(is_quote_word(b" wrote:"));
        assert!(!is_quote_word(b" fax: 123"));
        assert!(!is_quote_word(b"wrote:"));
    }

    #[test]
    fn welcomelisted() {
        assert!(WELCOME.is_match("abuse@gmail.com"));
        assert!(!WELCOME.is_match("joe@gmail.com"));
        assert!(BULK_ENVFROM.is_match("list-request@example.org"));
        assert!(BULK_ENVFROM.is_match("noreply@example.org"));
    }
}
