//! Engine behaviour on hostile structure: every bound ends UNCHECKED with its reason, never a
//! panic, a hang or "clean"; what was found before a limit is still reported.

mod common;

use mailwarden::{
    Action, Category, Config, Engine, EngineBuilder, Envelope, HeaderOp, Limits, UncheckedReason,
};

const HEAD: &str = "From: a@example.org\r\nTo: b@example.net\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nSubject: t\r\nMIME-Version: 1.0\r\n";

fn reasons(r: &mailwarden::Report) -> Vec<UncheckedReason> {
    r.unchecked().map(|u| u.0).collect()
}

#[test]
fn mime_nested_5000_deep_is_unchecked_max_levels() {
    let mut msg = HEAD.to_string();
    for i in 0..5000 {
        msg.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
        ));
    }
    msg.push_str("Content-Type: text/plain\r\n\r\nbottom\r\n");
    let r = Engine::with_defaults().scan(msg.as_bytes(), &Envelope::new());
    assert_eq!(r.category, Category::Unchecked);
    assert!(
        reasons(&r).contains(&UncheckedReason::MaxLevels),
        "{:?}",
        reasons(&r)
    );
    let hold = r
        .header_edits
        .iter()
        .find(|e| e.name == "X-Mailwarden-Hold")
        .unwrap();
    assert!(
        hold.value.contains("Maximum decoding depth (14) exceeded"),
        "{}",
        hold.value
    );
    let subject = r.header_edits.iter().find(|e| e.name == "Subject").unwrap();
    assert_eq!(subject.op, HeaderOp::Change);
    assert_eq!(subject.value, "***UNCHECKED*** t");
}

#[test]
fn virus_before_the_depth_limit_is_still_found() {
    let eicar = common::base64(mailwarden::signatures::EICAR);
    let mut msg = HEAD.to_string();
    for i in 0..30 {
        msg.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
        ));
        if i == 3 {
            msg.push_str(&format!(
                "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n{eicar}\r\n--b{i}\r\n"
            ));
        }
    }
    let r = Engine::with_defaults().scan(msg.as_bytes(), &Envelope::new());
    assert_eq!(r.category, Category::Virus, "virus outranks unchecked");
    assert!(reasons(&r).contains(&UncheckedReason::MaxLevels));
    assert_eq!(r.viruses(), vec!["Eicar-Test-Signature"]);
}

#[test]
fn million_empty_parts_stop_at_max_files() {
    let mut msg = HEAD.to_string();
    msg.push_str("Content-Type: multipart/mixed; boundary=\"x\"\r\n\r\n");
    msg.push_str(&"--x\r\n\r\n".repeat(1_000_000));
    msg.push_str("--x--\r\n");
    let r = Engine::with_defaults().scan(msg.as_bytes(), &Envelope::new());
    assert_eq!(r.category, Category::Unchecked);
    assert!(
        reasons(&r).contains(&UncheckedReason::MaxFiles),
        "{:?}",
        reasons(&r)
    );
    assert!(r.objects.len() <= 1501);
}

#[test]
fn header_flood_is_unchecked_max_headers() {
    let mut msg = HEAD.to_string();
    for i in 0..100_000 {
        msg.push_str(&format!("X-H{i}: v\r\n"));
    }
    msg.push_str("\r\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n");
    let r = Engine::with_defaults().scan(msg.as_bytes(), &Envelope::new());
    assert!(reasons(&r).contains(&UncheckedReason::MaxHeaders));
    // The body after the flood is still found and scored; unchecked outranks spam.
    assert_eq!(r.category, Category::Unchecked);
    assert_eq!(r.score, 1000.0);
}

#[test]
fn quota_limits_decoding() {
    // quota = max(1000, size * 0, min(0, size * 500)) = 1000 bytes; the body decodes to 3000.
    let limits = Limits {
        min_quota: 1000,
        min_factor: 0,
        max_quota: 0,
        ..Limits::default()
    };
    let engine = EngineBuilder::new().limits(limits).build().unwrap();
    let body = "QUJD".repeat(1000);
    let msg = format!(
        "{HEAD}Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n{body}\r\n"
    );
    let r = engine.scan(msg.as_bytes(), &Envelope::new());
    assert!(
        reasons(&r).contains(&UncheckedReason::MaxQuota),
        "{:?}",
        reasons(&r)
    );
}

#[test]
fn ambiguous_boundaries_are_unchecked_even_when_clean() {
    let msg = format!(
        "{HEAD}Content-Type: multipart/mixed; boundary=a; boundary=b\r\n\r\n--a\r\n\r\nx\r\n--a--\r\n"
    );
    let r = Engine::with_defaults().scan(msg.as_bytes(), &Envelope::new());
    assert_eq!(r.category, Category::Unchecked);
    assert_eq!(reasons(&r), vec![UncheckedReason::AmbiguousMime]);
}

#[test]
fn oversized_messages_are_rejected_with_552() {
    let engine = EngineBuilder::new()
        .limits(Limits {
            max_message_size: 100,
            ..Limits::default()
        })
        .build()
        .unwrap();
    let msg = format!("{HEAD}\r\n{}\r\n", "x".repeat(500));
    let r = engine.scan(msg.as_bytes(), &Envelope::new());
    assert_eq!(r.category, Category::Oversized);
    assert_eq!(
        r.verdict.reply.to_string(),
        "552 5.3.4 Message size exceeds fixed limit, rejected"
    );
}

#[test]
fn incoming_spam_headers_are_removed_and_replaced() {
    let msg = format!("{HEAD}X-Spam-Flag: NO\r\nX-Spam-Status: No\r\n\r\nhello\r\n");
    let r = Engine::with_defaults().scan(msg.as_bytes(), &Envelope::new());
    let ops: Vec<_> = r
        .header_edits
        .iter()
        .map(|e| (e.op, e.name.as_str()))
        .collect();
    assert!(ops.contains(&(HeaderOp::Delete, "X-Spam-Flag")));
    assert!(ops.contains(&(HeaderOp::Delete, "X-Spam-Status")));
    assert!(ops.contains(&(HeaderOp::Add, "X-Spam-Status")));
    assert_eq!(r.verdict.action, Action::Tag);
}

#[test]
fn toml_configuration_maps_onto_the_builder() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mailwarden.toml");
    std::fs::write(
        &path,
        "[limits]\nmax_levels = 2\n[policy.destinies]\nspam = \"discard\"\n",
    )
    .unwrap();
    let engine = Engine::from_config_file(&path).unwrap();
    assert_eq!(engine.limits().max_levels, 2);
    let msg = format!(
        "{HEAD}\r\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n"
    );
    let r = engine.scan(msg.as_bytes(), &Envelope::new());
    assert_eq!(r.verdict.action, Action::Discard);
    assert_eq!(r.verdict.reply.code, 250);

    std::fs::write(&path, "[limits]\nmax_levels = 0\n").unwrap();
    let err = Engine::from_config_file(&path).unwrap_err();
    assert_eq!(err.kind(), mailwarden::ErrorKind::InvalidSetting);
    assert!(Config::from_file(dir.path().join("missing.toml")).is_err());
}

#[test]
fn per_recipient_verdicts_follow_the_envelope() {
    let msg = format!(
        "{HEAD}\r\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n"
    );
    let env = Envelope::new()
        .client_address("192.0.2.7".parse().unwrap())
        .helo("mx.example.com")
        .sender("a@example.org")
        .recipient("b@example.net")
        .recipient("c@example.net");
    let r = Engine::with_defaults().scan(msg.as_bytes(), &env);
    assert_eq!(r.recipients.len(), 2);
    assert_eq!(r.recipients[1].recipient, "c@example.net");
    assert_eq!(r.recipients[1].verdict.action, Action::Reject);
}

#[test]
fn encoded_parts_keep_their_encoded_body() {
    // The rule texts decode some parts again as SpamAssassin does, from the body as the
    // message holds it: base64 and quoted-printable parts carry it, other parts do not.
    let msg = b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
        --b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\naGk=\r\n\
        --b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=3Db\r\n\
        --b\r\nContent-Type: text/plain\r\n\r\nplain\r\n--b--\r\n";
    let engine = mailwarden::Engine::builder().build().expect("engine");
    let mut seen = Vec::new();
    engine.normalize_with(msg, &mailwarden::Envelope::new(), |view| {
        for o in view
            .objects
            .iter()
            .filter(|o| o.origin == mailwarden::object::Origin::MimePart)
        {
            seen.push((
                o.data.to_vec(),
                o.encoded.map(|e| (e.encoding, e.body.to_vec())),
            ));
        }
    });
    use mailwarden::mime::decode::TransferEncoding;
    assert_eq!(
        seen,
        vec![
            (
                b"hi".to_vec(),
                Some((TransferEncoding::Base64, b"aGk=".to_vec()))
            ),
            (
                b"a=b".to_vec(),
                Some((TransferEncoding::QuotedPrintable, b"a=3Db".to_vec()))
            ),
            (b"plain".to_vec(), None),
        ]
    );
}

/// Asserts a `bad-header` finding whose detail contains `needle`.
fn assert_bad_header(r: &mailwarden::Report, needle: &str) {
    let details: Vec<&str> = r
        .findings
        .iter()
        .filter_map(|f| match f {
            mailwarden::Finding::BadHeader { detail, .. } => Some(detail.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        details.iter().any(|d| d.contains(needle)),
        "no {needle:?} in {details:?}"
    );
}

#[test]
fn a_delimiter_right_after_the_header_starts_the_body() {
    // No blank line between the header and the first delimiter: SpamAssassin's Message.pm
    // ends the header there, and so does the engine, which reports the anomaly.
    let eicar = common::base64(mailwarden::signatures::EICAR);
    let msg = format!(
        "{HEAD}Content-Type: multipart/mixed; boundary=b\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n{eicar}\r\n--b--\r\n"
    );
    let r = Engine::with_defaults().scan(msg.as_bytes(), &Envelope::new());
    assert_eq!(r.category, Category::Virus);
    assert_bad_header(&r, "no blank line after the header");
}

#[test]
fn a_header_cut_short_by_stray_lines_is_also_read_to_its_blank_line() {
    // Four lines that are no fields end the header (Message.pm's reading), so the
    // Content-Transfer-Encoding after them is body text there; read on to the blank line it
    // applies, and the attachment decodes. Both readings are scanned.
    let eicar = common::base64(mailwarden::signatures::EICAR);
    let msg = format!(
        "{HEAD}Content-Type: application/octet-stream\r\nnot a field\r\nnor this\r\nnor this one\r\nnor the fourth\r\nContent-Transfer-Encoding: base64\r\n\r\n{eicar}\r\n"
    );
    let r = Engine::with_defaults().scan(msg.as_bytes(), &Envelope::new());
    assert_eq!(r.category, Category::Virus, "{:?}", r.findings);
    assert_bad_header(&r, "line 10 is the body");
}

#[test]
fn parameters_without_their_semicolon_are_still_read() {
    // `multipart/mixed boundary=b` and `attachment filename=...`: mail clients and
    // SpamAssassin find the parameters; a strict parser makes them part of the type, and
    // the attachment inside was never decoded.
    let eicar = common::base64(mailwarden::signatures::EICAR);
    let msg = format!(
        "{HEAD}Content-Type: multipart/mixed boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain charset=us-ascii\r\n\r\nhello\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment filename=\"e.com\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{eicar}\r\n--b--\r\n"
    );
    let r = Engine::with_defaults().scan(msg.as_bytes(), &Envelope::new());
    assert_eq!(r.category, Category::Virus, "{:?}", r.findings);
    assert!(
        r.objects.iter().any(|o| o.name.as_deref() == Some("e.com")),
        "{:?}",
        r.objects
    );
    let loose = r
        .findings
        .iter()
        .filter(|f| {
            matches!(
                f,
                mailwarden::Finding::Anomaly {
                    kind: mailwarden::AnomalyKind::LooseParameters,
                    ..
                }
            )
        })
        .count();
    assert_eq!(loose, 3, "{:?}", r.findings);
}

#[test]
fn a_message_only_an_alternative_reading_finds_stays_out_of_the_rule_texts() {
    // A base64 multipart: SpamAssassin (and the primary reading) split it as it stands and
    // find no part; the decoded reading finds a text part. The part is scanned (an
    // alternate-reading object), but the loaded rules, which follow SpamAssassin's one
    // reading, do not read it.
    let dir = tempfile::tempdir().unwrap();
    let cf = dir.path().join("local.cf");
    std::fs::write(
        &cf,
        "body MW_HIDDEN_WORDS /hidden words/\nscore MW_HIDDEN_WORDS 1.0\n",
    )
    .unwrap();
    let engine = Engine::builder().rules(&cf).build().unwrap();
    let body = common::base64(b"--c\r\nContent-Type: text/plain\r\n\r\nhidden words\r\n--c--\r\n");
    let msg = format!(
        "{HEAD}Content-Type: multipart/mixed; boundary=c\r\nContent-Transfer-Encoding: base64\r\n\r\n{body}\r\n"
    );
    let r = engine.scan(msg.as_bytes(), &Envelope::new());
    let part = r
        .objects
        .iter()
        .find(|o| o.path == "alt1:decoded/1")
        .unwrap_or_else(|| panic!("{:#?}", r.objects));
    assert_eq!(part.origin, mailwarden::Origin::AlternateReading);
    let hits: Vec<&str> = r.rules().map(|(name, _, _)| name).collect();
    assert!(!hits.contains(&"MW_HIDDEN_WORDS"), "{hits:?}");
    // The same text in a plain part hits: the rule is sound.
    let plain = format!("{HEAD}Content-Type: text/plain\r\n\r\nhidden words\r\n");
    let r = engine.scan(plain.as_bytes(), &Envelope::new());
    assert!(r.rules().any(|(name, _, _)| name == "MW_HIDDEN_WORDS"));
}
