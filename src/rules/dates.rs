//! Dates as SpamAssassin reads them from Date and Received headers: a lenient RFC 822
//! parser (day, month name, year; optional time and zone; out-of-range fields clamped) and
//! the difference between the Date header and the Received times, which the
//! `check_for_shifted_date` and `check_outlook_message_id` evals read.

use super::texts::Texts;

/// Named zones SpamAssassin knows, with their offset in minutes east of UTC. Any other
/// zone counts as UTC.
const ZONES: &[(&str, i64)] = &[
    ("UT", 0),
    ("UTC", 0),
    ("NDT", -150),
    ("AST", -240),
    ("ADT", -180),
    ("NST", -210),
    ("EST", -300),
    ("EDT", -240),
    ("CST", -360),
    ("CDT", -300),
    ("MST", -420),
    ("MDT", -360),
    ("PST", -480),
    ("PDT", -420),
    ("HST", -600),
    ("AKST", -540),
    ("AKDT", -480),
    ("HADT", -540),
    ("HAST", -600),
    ("GMT", 0),
    ("BST", 60),
    ("IST", 60),
    ("WET", 0),
    ("WEST", 60),
    ("CET", 60),
    ("CEST", 120),
    ("EET", 120),
    ("EEST", 180),
    ("MSK", 180),
    ("MSD", 240),
    ("MET", 60),
    ("MEZ", 60),
    ("MEST", 120),
    ("MESZ", 120),
    ("BRST", -120),
    ("BRT", -180),
    ("AEST", 600),
    ("AEDT", 660),
    ("ACST", 570),
    ("ACDT", 630),
    ("AWST", 480),
    ("NZST", 720),
    ("NZDT", 780),
    ("JST", 540),
    ("KST", 540),
    ("HKT", 480),
    ("SGT", 480),
    ("PHT", 480),
    ("IDT", 180),
];

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month(word: &str) -> Option<i64> {
    if word.len() != 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(word))
        .map(|p| p as i64 + 1)
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses a date the way SpamAssassin's `parse_rfc822_date` does; seconds since the epoch,
/// or `None` when no day, month and year are found.
pub fn parse(date: &str) -> Option<i64> {
    let norm = date.replace(',', " ");
    let mut words: Vec<&str> = norm.split_whitespace().collect();
    // Date part: "DD Mon YYYY", "Mon DD hh:mm:ss YYYY" (ctime), or "DD Mon YY(Y)".
    let mut found = None;
    for i in 0..words.len().saturating_sub(2) {
        if let (true, Some(m), true) = (
            all_digits(words[i]),
            month(words[i + 1]),
            words[i + 2].len() == 4 && all_digits(words[i + 2]),
        ) {
            found = Some((i, 3, words[i].parse::<i64>().ok()?, m, words[i + 2]));
            break;
        }
    }
    if found.is_none() {
        for i in 0..words.len().saturating_sub(3) {
            if let (Some(m), true, true, true) = (
                month(words[i]),
                all_digits(words[i + 1]),
                words[i + 2].split(':').count() == 3 && words[i + 2].split(':').all(all_digits),
                words[i + 3].len() == 4 && all_digits(words[i + 3]),
            ) {
                // SpamAssassin's substitution removes the time with the date, so a ctime
                // date is read as midnight (spam-1/00406 hits DATE_IN_PAST_06_12 so).
                found = Some((i, 4, words[i + 1].parse::<i64>().ok()?, m, words[i + 3]));
                break;
            }
        }
    }
    if found.is_none() {
        for i in 0..words.len().saturating_sub(2) {
            if let (true, Some(m), true) = (
                all_digits(words[i]),
                month(words[i + 1]),
                (2..=3).contains(&words[i + 2].len()) && all_digits(words[i + 2]),
            ) {
                found = Some((i, 3, words[i].parse::<i64>().ok()?, m, words[i + 2]));
                break;
            }
        }
    }
    let (at, len, mut dd, mut mon, year) = found?;
    let mut yyyy: i64 = year.parse().ok()?;
    if year.len() == 2 && yyyy < 50 {
        yyyy += 2000;
    } else if year.len() != 4 {
        yyyy += 1900;
    }
    words.drain(at..at + len);
    let (mut hh, mut mm, mut ss) = (0i64, 0i64, 0i64);
    if let Some(p) = words.iter().position(|w| {
        let parts: Vec<&str> = w.split(':').collect();
        (parts.len() == 2 || parts.len() == 3)
            && (1..=2).contains(&parts[0].len())
            && parts[1..].iter().all(|p| p.len() == 2)
            && parts.iter().all(|p| all_digits(p))
    }) {
        let parts: Vec<i64> = words[p].split(':').filter_map(|x| x.parse().ok()).collect();
        hh = parts[0];
        mm = parts[1];
        ss = parts.get(2).copied().unwrap_or(0);
        words.remove(p);
    }
    let mut offset = 0i64;
    if let Some(w) = words
        .iter()
        .find(|w| w.len() == 5 && (w.starts_with('+') || w.starts_with('-')) && all_digits(&w[1..]))
    {
        let n: i64 = w[1..].parse().unwrap_or(0);
        let mins = (n / 100) * 60 + n % 100;
        offset = if w.starts_with('-') { -mins } else { mins };
    } else if let Some(z) = words.iter().find_map(|w| {
        let w = w.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-');
        let base = w.strip_suffix("-DST").unwrap_or(w);
        ((2..=4).contains(&base.len()) && base.bytes().all(|b| b.is_ascii_uppercase())).then_some(w)
    }) {
        offset = ZONES.iter().find(|(n, _)| *n == z).map_or(0, |(_, o)| *o);
    }
    ss = ss.min(59);
    mm = mm.min(59);
    hh = hh.min(23);
    let max_dd = match mon {
        4 | 6 | 9 | 11 => 30,
        2 if yyyy % 4 == 0 && (yyyy % 100 != 0 || yyyy % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    };
    if dd > max_dd {
        dd = 1;
        mon += 1;
        if mon > 12 {
            mon = 1;
            yyyy += 1;
        }
    }
    yyyy = yyyy.clamp(1970, 2037);
    if dd < 1 {
        return None;
    }
    let mut t = days_from_civil(yyyy, mon, dd) * 86_400 + hh * 3600 + mm * 60 + ss;
    let off = offset * 60;
    if off > 0 && t < off {
        t = 0;
    } else {
        t -= off;
    }
    Some(t)
}

/// The ctime-like date at the end of a Received line (`Mon, 1 Jan 2024 10:00:00 +0000`),
/// found as SpamAssassin finds it: ` D Mon YYYY hh:mm:ss ZONE`.
pub fn received_date(line: &str) -> Option<i64> {
    let words: Vec<&str> = line.split_whitespace().collect();
    // Perl: /(\s.?\d+ \S\S\S \d+ \d+:\d+:\d+ \S+)/ on the single-spaced line.
    for i in 0..words.len().saturating_sub(4) {
        let d = words[i].trim_start_matches(|c: char| !c.is_ascii_digit());
        let lead = words[i].len() - d.len();
        if lead <= 1
            && all_digits(d)
            && words[i + 1].chars().count() == 3
            && all_digits(words[i + 2])
            && words[i + 3].split(':').count() == 3
            && words[i + 3].split(':').all(all_digits)
        {
            let s = format!(
                "{} {} {} {} {}",
                d,
                words[i + 1],
                words[i + 2],
                words[i + 3],
                words[i + 4]
            );
            return parse(&s);
        }
    }
    None
}

/// The Received lines, unfolded, most recent first.
fn received_lines(texts: &Texts<'_>) -> Vec<String> {
    texts
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("Received"))
        .map(|h| {
            String::from_utf8_lossy(&h.unfolded())
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|l| !l.is_empty())
        .collect()
}

/// The Date header's time (Resent-Date first), as SpamAssassin picks it.
pub fn date_header_time(texts: &Texts<'_>) -> Option<i64> {
    for name in ["Resent-Date", "Date"] {
        for (i, h) in texts.headers.iter().enumerate() {
            if h.name.eq_ignore_ascii_case(name)
                && !texts.decoded[i].is_empty()
                && let Some(t) = parse(&texts.decoded[i])
            {
                return Some(t);
            }
        }
    }
    None
}

/// Times of the Received lines, with fetchmail's local hop set apart as SpamAssassin does.
fn received_times(texts: &Texts<'_>) -> Vec<i64> {
    static LOCAL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"\bfrom (?:localhost\s|(?:\S+ ){1,2}\S*\b127\.0\.0\.1\b)|qmail \d+ invoked by uid \d+",
        )
        .expect("static regex")
    });
    static FETCHMAIL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\bby localhost with \w+ \(fetchmail-[\d.]+").expect("static regex")
    });
    let mut received = received_lines(texts);
    let mut local = Vec::new();
    if received.first().is_some_and(|r| LOCAL.is_match(r)) {
        local.push(received.remove(0));
    }
    if received.first().is_some_and(|r| FETCHMAIL.is_match(r)) {
        received.remove(0);
    } else if let Some(l) = local.pop() {
        received.insert(0, l);
    }
    received.iter().filter_map(|r| received_date(r)).collect()
}

/// Date header minus the closest Received time, in seconds (0 when either is missing), as
/// SpamAssassin's `_check_date_diff` computes it.
pub fn date_diff(texts: &Texts<'_>) -> i64 {
    let Some(date) = date_header_time(texts) else {
        return 0;
    };
    let times = received_times(texts);
    if times.is_empty() {
        return 0;
    }
    let mut diffs: Vec<i64> = times.iter().map(|t| date - t).collect();
    if diffs.len() > 1 && diffs.last() == Some(&0) {
        diffs.pop();
    }
    diffs.sort_by_key(|d| d.abs());
    diffs[0]
}

/// The Received time SpamAssassin's Outlook Message-ID test reads: the first date in the
/// oldest Received line, or any date in the Received text when that line has none.
pub fn outlook_received_time(texts: &Texts<'_>) -> Option<i64> {
    let lines = received_lines(texts);
    let last = lines.last()?;
    received_date(last).or_else(|| parse(&lines.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc822() {
        assert_eq!(parse("Thu, 1 Jan 1970 00:00:00 +0000"), Some(0));
        assert_eq!(parse("Mon, 2 Sep 2002 12:00:00 -0100"), Some(1_030_971_600));
        assert_eq!(parse("2 Sep 2002 13:00:00 GMT"), Some(1_030_971_600));
        // ctime: the time is dropped with the date, as parse_rfc822_date drops it.
        assert_eq!(parse("Mon Sep  2 13:00:00 2002"), Some(1_030_924_800));
        assert_eq!(parse("2 Sep 02 14:00:00 CET"), Some(1_030_971_600));
        assert_eq!(parse("no date here"), None);
        // Day past the month's end rolls over; hours are clamped.
        assert_eq!(
            parse("31 Feb 2002 25:00:00 +0000"),
            parse("1 Mar 2002 23:00:00")
        );
    }

    #[test]
    fn received() {
        assert_eq!(
            received_date("from a by b id 1; Mon, 2 Sep 2002 13:00:00 +0000 (GMT)"),
            Some(1_030_971_600)
        );
        assert_eq!(received_date("from a by b"), None);
    }
}
