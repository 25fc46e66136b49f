//! An attachment (EICAR, base64) behind malformed MIME wrappers, each a way some reader could
//! see the file where a strict parser does not: the scan must find it behind every one, with
//! LF and with CRLF line ends. Found by a sweep of 28 wrappers on 2026-12-06; four were gaps
//! then (parameters without `;`, an encoding name in quotes or with a dash, a `multipart`
//! without its subtype, a NUL inside the Content-Type). A Content-Type written as an RFC 2047
//! encoded word (`=?us-ascii?Q?multipart/mixed?=`) is not here: no reader decodes one there.
//! A second sweep (same day) found three more: parts after a closing delimiter, a multipart
//! whose body is base64 or quoted-printable, and an embedded message that only an
//! alternative reading found (dropped as a duplicate of the same bytes read as text).

mod common;

use mailwarden::{Category, Engine, Envelope};

const HEAD: &str = "From: a@example.org\nTo: b@example.net\nSubject: t\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMIME-Version: 1.0\n";

const ATTACHMENT: &str =
    "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64";

/// A multipart/mixed of a text part and a part with `part_header` and `body`.
fn multipart(content_type: &str, part_header: &str, body: &str) -> String {
    wrapped(content_type, part_header, body, "b", "", "")
}

fn wrapped(
    content_type: &str,
    part_header: &str,
    body: &str,
    boundary: &str,
    preamble: &str,
    delimiter_suffix: &str,
) -> String {
    format!(
        "{HEAD}{content_type}\n\n{preamble}--{boundary}{delimiter_suffix}\nContent-Type: text/plain\n\nhello\n--{boundary}{delimiter_suffix}\n{part_header}\n\n{body}\n--{boundary}--\n"
    )
}

fn wrappers() -> Vec<(&'static str, String)> {
    let eicar = mailwarden::signatures::EICAR;
    let b64 = common::base64(eicar);
    let mixed = "Content-Type: multipart/mixed; boundary=b";
    let spaced: String = b64
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let concatenated = format!(
        "{}{}",
        common::base64(&eicar[..10]),
        common::base64(&eicar[10..])
    );
    let qp: String = eicar
        .iter()
        .map(|&b| {
            if b == b'=' || !(33..=126).contains(&b) {
                format!("={b:02X}")
            } else {
                (b as char).to_string()
            }
        })
        .collect();
    let inner = multipart(mixed, ATTACHMENT, &b64);
    vec![
        (
            "quoted type",
            multipart(
                "Content-Type: \"multipart/mixed\"; boundary=b",
                ATTACHMENT,
                &b64,
            ),
        ),
        (
            "RFC 2231 boundary",
            multipart(
                "Content-Type: multipart/mixed; boundary*=us-ascii''b",
                ATTACHMENT,
                &b64,
            ),
        ),
        (
            "RFC 2231 boundary section",
            multipart(
                "Content-Type: multipart/mixed; boundary*0=b",
                ATTACHMENT,
                &b64,
            ),
        ),
        (
            "folded boundary",
            multipart(
                "Content-Type: multipart/mixed;\n boundary=\n \"b\"",
                ATTACHMENT,
                &b64,
            ),
        ),
        (
            "upper case",
            multipart(
                "CONTENT-TYPE: MULTIPART/MIXED; BOUNDARY=b",
                "CONTENT-TYPE: APPLICATION/OCTET-STREAM\nCONTENT-TRANSFER-ENCODING: BASE64",
                &b64,
            ),
        ),
        (
            "encoding with a dash",
            multipart(
                mixed,
                "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base-64",
                &b64,
            ),
        ),
        (
            "encoding with a comment",
            multipart(
                mixed,
                "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64 (encoded)",
                &b64,
            ),
        ),
        (
            "encoding in quotes",
            multipart(
                mixed,
                "Content-Type: application/octet-stream\nContent-Transfer-Encoding: \"base64\"",
                &b64,
            ),
        ),
        (
            "blank before the colon",
            multipart(
                mixed,
                "Content-Type: application/octet-stream\nContent-Transfer-Encoding : base64",
                &b64,
            ),
        ),
        (
            "whitespace-only separator line",
            multipart(mixed, &format!("{ATTACHMENT}\n "), &b64),
        ),
        (
            "blanks after the delimiters",
            wrapped(mixed, ATTACHMENT, &b64, "b", "", "  "),
        ),
        (
            "inner multipart with the outer boundary",
            format!("{HEAD}{mixed}\n\n--b\n{mixed}\n\n--b\n{ATTACHMENT}\n\n{b64}\n--b--\n--b--\n"),
        ),
        ("base64 with blanks", multipart(mixed, ATTACHMENT, &spaced)),
        (
            "base64 blocks concatenated",
            multipart(mixed, ATTACHMENT, &concatenated),
        ),
        (
            "quoted-printable",
            multipart(
                mixed,
                "Content-Type: application/octet-stream\nContent-Transfer-Encoding: quoted-printable",
                &qp,
            ),
        ),
        (
            "no MIME-Version",
            multipart(mixed, ATTACHMENT, &b64).replace("MIME-Version: 1.0\n", ""),
        ),
        (
            "a false delimiter in the preamble",
            wrapped(
                mixed,
                ATTACHMENT,
                &b64,
                "b",
                "this is --b not a delimiter\n",
                "",
            ),
        ),
        (
            "CR line ends only",
            multipart(mixed, ATTACHMENT, &b64).replace('\n', "\r"),
        ),
        (
            "a NUL in the Content-Type",
            multipart(
                "Content-Type: multipart/mixed;\0 boundary=b",
                ATTACHMENT,
                &b64,
            ),
        ),
        (
            "a base64 message/rfc822",
            format!(
                "{HEAD}Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n{}\n--o--\n",
                common::base64(inner.as_bytes())
            ),
        ),
        (
            "a misspelt subtype",
            multipart("Content-Type: multipart/mixd; boundary=b", ATTACHMENT, &b64),
        ),
        (
            "multipart without a subtype",
            multipart("Content-Type: multipart; boundary=b", ATTACHMENT, &b64),
        ),
        (
            "empty parameters",
            multipart(
                "Content-Type: multipart/mixed;; boundary=b;",
                ATTACHMENT,
                &b64,
            ),
        ),
        (
            "a quote inside the boundary",
            wrapped(
                "Content-Type: multipart/mixed; boundary=\"b\\\"x\"",
                ATTACHMENT,
                &b64,
                "b\"x",
                "",
                "",
            ),
        ),
        (
            "blanks around the equals sign",
            multipart(
                "Content-Type: multipart/mixed; boundary = b",
                ATTACHMENT,
                &b64,
            ),
        ),
        (
            "parameters without semicolons",
            multipart(
                "Content-Type: multipart/mixed boundary=\"b\"",
                ATTACHMENT,
                &b64,
            ),
        ),
        (
            "no blank line after the header",
            format!("{HEAD}{mixed}\n--b\n{ATTACHMENT}\n\n{b64}\n--b--\n"),
        ),
        (
            "a part after an early closing delimiter",
            format!(
                "{HEAD}{mixed}\n\n--b\nContent-Type: text/plain\n\nhello\n--b--\n--b\n{ATTACHMENT}\n\n{b64}\n--b--\n"
            ),
        ),
        (
            "a part after the last closing delimiter",
            format!(
                "{HEAD}{mixed}\n\n--b\nContent-Type: text/plain\n\nhello\n--b--\n\n--b\n{ATTACHMENT}\n\n{b64}\n"
            ),
        ),
        (
            "a base64 multipart",
            format!(
                "{HEAD}Content-Type: multipart/mixed; boundary=c\nContent-Transfer-Encoding: base64\n\n{}\n",
                common::base64(
                    format!("--c\nContent-Type: text/plain\n\nhello\n--c\n{ATTACHMENT}\n\n{b64}\n--c--\n")
                        .as_bytes()
                )
            ),
        ),
        (
            "a quoted-printable multipart",
            format!(
                "{HEAD}Content-Type: multipart/mixed; boundary=c\nContent-Transfer-Encoding: quoted-printable\n\n=2D-c\nContent-Type: text/plain\n\nhello\n=2D-c\n{ATTACHMENT}\n\n{b64}\n=2D-c--\n"
            ),
        ),
        (
            "an embedded message only the last Content-Type declares",
            multipart(
                mixed,
                "Content-Type: text/plain\nContent-Type: message/rfc822",
                &format!("Subject: inner\n{ATTACHMENT}\n\n{b64}"),
            ),
        ),
    ]
}

#[test]
fn an_attachment_is_found_behind_every_wrapper() {
    let engine = Engine::with_defaults();
    let mut missed = Vec::new();
    for (name, message) in wrappers() {
        for (ending, bytes) in [
            ("LF", message.clone().into_bytes()),
            ("CRLF", common::to_crlf(message.as_bytes())),
        ] {
            let r = engine.scan(&bytes, &Envelope::new());
            if r.category != Category::Virus {
                missed.push(format!("{name} ({ending}): {:?}", r.category));
            }
        }
    }
    assert!(missed.is_empty(), "attachment not found: {missed:#?}");
}
