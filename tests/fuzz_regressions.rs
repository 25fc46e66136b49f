//! Every crash or oracle failure the fuzz targets in `fuzz/` found, as a named test with the bug
//! it caught. The fuzz oracles are: the same report twice, chunked == one-shot, nothing beyond
//! the configured limits, and (structured target) EICAR on a well-formed path never clean.

mod common;

use mailwarden::signatures::EICAR;
use mailwarden::{Category, EngineBuilder, Envelope, Limits, UncheckedReason};

fn nl(s: &str) -> Vec<u8> {
    common::to_crlf(s.as_bytes())
}

/// A message whose single attachment is EICAR, base64-encoded.
fn mail_with_eicar() -> String {
    format!(
        "From: a@example.org\nTo: b@example.net\nSubject: inner\nMIME-Version: 1.0\n\
         Content-Type: multipart/mixed; boundary=in\n\n--in\nContent-Type: text/plain\n\nhi\n\
         --in\nContent-Type: application/octet-stream; name=e.com\n\
         Content-Transfer-Encoding: base64\n\n{}\n--in--\n",
        common::base64(EICAR)
    )
}

/// Structured target, first minute: an `.eml` carried in an uuencode block of a text part was
/// detected as mail but never walked (only top-level, message/rfc822 and archive-member mail
/// was), so the EICAR attachment inside it was never decoded and the message came back clean.
#[test]
fn uuencoded_message_is_walked_as_mail() {
    let inner = mail_with_eicar();
    let outer = format!(
        "From: a@example.org\nTo: b@example.net\nSubject: outer\nMIME-Version: 1.0\n\
         Content-Type: text/plain\n\nbegin 644 fwd.eml\n{}\n`\nend\n",
        common::uuencode(inner.as_bytes())
    );
    let engine = mailwarden::Engine::with_defaults();
    let report = engine.scan(&nl(&outer), &Envelope::new());
    assert_eq!(report.category, Category::Virus, "{:?}", report.findings);
    assert!(
        report.findings.iter().any(
            |f| matches!(f, mailwarden::Finding::Virus { path, .. } if path.contains("fwd.eml"))
        ),
        "{:?}",
        report.findings
    );
}

/// Same root cause, MIME form: a forwarded message attached as `application/octet-stream`
/// (detected as mail from its content) was scanned as one opaque file.
#[test]
fn message_attached_as_octet_stream_is_walked_as_mail() {
    let inner = mail_with_eicar();
    let outer = format!(
        "From: a@example.org\nTo: b@example.net\nSubject: outer\nMIME-Version: 1.0\n\
         Content-Type: multipart/mixed; boundary=out\n\n--out\nContent-Type: text/plain\n\nsee\n\
         --out\nContent-Type: application/octet-stream; name=fwd.eml\n\
         Content-Transfer-Encoding: base64\n\n{}\n--out--\n",
        common::base64(inner.as_bytes())
    );
    let report = mailwarden::Engine::with_defaults().scan(&nl(&outer), &Envelope::new());
    assert_eq!(report.category, Category::Virus, "{:?}", report.findings);
}

/// An inline `text/plain` part that merely looks like a header block stays text: walking it as
/// mail would change which text the rules see.
#[test]
fn inline_text_that_looks_like_mail_stays_text() {
    let outer = "From: a@example.org\nTo: b@example.net\nSubject: outer\nMIME-Version: 1.0\n\
                 Date: Mon, 1 Jan 2024 00:00:00 +0000\n\
                 Content-Type: multipart/mixed; boundary=out\n\n--out\nContent-Type: text/plain\n\n\
                 From: c@example.org\nSubject: quoted\n\nquoted body\n--out--\n";
    let report = mailwarden::Engine::with_defaults().scan(&nl(outer), &Envelope::new());
    assert_eq!(report.category, Category::Clean, "{:?}", report.findings);
    assert!(
        report.objects.iter().all(|o| o.depth <= 1),
        "{:?}",
        report.objects
    );
}

/// config_toml target, first seconds: with `max_object_size = 1` a 42-byte MIME part was kept
/// whole. The cap held for archive members only; a decoded MIME part of any size passed. Now the
/// part keeps its first `max_object_size` bytes (still scanned) and the report is unchecked.
#[test]
fn mime_part_over_max_object_size_is_cut_and_unchecked() {
    let engine = EngineBuilder::new()
        .limits(Limits {
            max_object_size: 16,
            ..Limits::default()
        })
        .build()
        .unwrap();
    let msg = nl("From: a@example.org\nTo: b@example.net\nSubject: s\n\n\
                  a body well over sixteen bytes long\n");
    let report = engine.scan(&msg, &Envelope::new());
    assert_eq!(report.category, Category::Unchecked);
    let reasons: Vec<_> = report.unchecked().map(|(r, _, _)| r).collect();
    assert_eq!(reasons, [UncheckedReason::MaxObjectSize]);
    for o in report.objects.iter().skip(1) {
        assert!(o.size <= 16, "{}: {} bytes", o.path, o.size);
    }
    // the prefix is still scanned: EICAR in the first bytes is found even so
    let engine = EngineBuilder::new()
        .limits(Limits {
            max_object_size: EICAR.len() as u64 + 2,
            ..Limits::default()
        })
        .build()
        .unwrap();
    let mut msg = nl("From: a@example.org\nSubject: s\n\n");
    msg.extend_from_slice(EICAR);
    msg.extend_from_slice(b"\r\n");
    msg.extend_from_slice(&b"padding ".repeat(64));
    let report = engine.scan(&msg, &Envelope::new());
    assert_eq!(report.category, Category::Virus);
}

/// Structured target, round 1: an uuencode block in a text part at the deepest allowed level
/// became an object one level past `max_levels`; blocks were not counted as a level. Now the
/// block is left undecoded and the report says `max_levels`.
#[test]
fn encoded_block_at_the_deepest_level_is_unchecked() {
    let engine = EngineBuilder::new()
        .limits(Limits {
            max_levels: 1,
            ..Limits::default()
        })
        .build()
        .unwrap();
    let msg = format!(
        "From: a@example.org\nTo: b@example.net\nSubject: s\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\
         Content-Type: text/plain\n\nbegin 644 e.com\n{}\n`\nend\n",
        common::uuencode(EICAR)
    );
    let report = engine.scan(&nl(&msg), &Envelope::new());
    for o in &report.objects {
        assert!(o.depth <= 1, "{}: depth {}", o.path, o.depth);
    }
    assert_eq!(
        report.category,
        Category::Unchecked,
        "{:?}",
        report.findings
    );
    let reasons: Vec<_> = report.unchecked().map(|(r, _, _)| r).collect();
    assert_eq!(reasons, [UncheckedReason::MaxLevels]);
    // one level more and the block is decoded and the virus found
    let engine = EngineBuilder::new()
        .limits(Limits {
            max_levels: 2,
            ..Limits::default()
        })
        .build()
        .unwrap();
    assert_eq!(
        engine.scan(&nl(&msg), &Envelope::new()).category,
        Category::Virus
    );
}

/// Structured target, round 2: a `multipart/*` with an empty `boundary=""` at the deepest
/// allowed level is read as one text part (so it is still scanned); that part was emitted one
/// level past `max_levels`. It now stays at the multipart's level and the report says
/// `max_levels`.
#[test]
fn unsplittable_multipart_at_the_deepest_level_stays_within_max_levels() {
    let engine = EngineBuilder::new()
        .limits(Limits {
            max_levels: 1,
            ..Limits::default()
        })
        .build()
        .unwrap();
    let msg = "From: a@example.org\nTo: b@example.net\nSubject: s\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\
               MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=outer\n\n--outer\n\
               Content-Type: multipart/mixed; boundary=\"\"\n\n--\nContent-Type: text/plain\n\nhi\n\
               --outer--\n";
    let report = engine.scan(&nl(msg), &Envelope::new());
    for o in &report.objects {
        assert!(o.depth <= 1, "{}: depth {}", o.path, o.depth);
    }
    assert!(
        report.objects.iter().any(|o| o.path == "1/1"),
        "{:?}",
        report.objects
    );
    let reasons: Vec<_> = report.unchecked().map(|(r, _, _)| r).collect();
    assert_eq!(reasons, [UncheckedReason::MaxLevels]);
}

/// Structured target, round 2: a nested multipart that reuses its parent's boundary closes the
/// parent early for a reader that splits the outer body first (mailwarden's walk), while a
/// recursive-descent reader (ClamAV's, many MUAs') matches the inner close to the inner
/// multipart and reads on. The sibling after it, an EICAR attachment, was an "epilogue" and the
/// message came back clean. Readers disagree, so the message is now UNCHECKED ambiguous MIME.
#[test]
fn nested_multipart_reusing_the_outer_boundary_is_unchecked() {
    let msg = format!(
        "From: a@example.org\nTo: b@example.net\nSubject: s\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\
         MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"X\"\n\n--X\n\
         Content-Type: multipart/alternative; boundary=\"X\"\n\n--X\nContent-Type: text/plain\n\n\
         hi\n--X--\n\n--X\nContent-Type: application/octet-stream; name=e.com\n\
         Content-Transfer-Encoding: base64\n\n{}\n--X--\n",
        common::base64(EICAR)
    );
    let report = mailwarden::Engine::with_defaults().scan(&nl(&msg), &Envelope::new());
    assert!(
        matches!(report.category, Category::Unchecked | Category::Virus),
        "{:?}",
        report.findings
    );
    assert!(
        report
            .unchecked()
            .any(|(r, _, _)| r == UncheckedReason::AmbiguousMime),
        "{:?}",
        report.findings
    );
}

/// rules_cf target, 2026-11-29: an `if` condition with a multi-byte character right after a
/// punctuation byte (`if can(ó...)`) made the condition tokenizer slice a `str` through the
/// middle of the character and panic while loading the file. It must load (the line is a
/// syntax error, counted) and the engine must still score GTUBE.
#[test]
fn if_condition_with_multibyte_character_loads() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("local.cf");
    std::fs::write(
        &path,
        "if can(\u{f3}il::SpamAssassin::Conf::feature_bug6558_free)\n\
         body MW_X /never matches here/\nendif\nif (\u{e9}\u{e9} || 1)\nendif\n\
         header T_SUBJ Subject =~ /\\bprobe\\b/i\nscore T_SUBJ 5\n",
    )
    .expect("write rule file");
    let engine = EngineBuilder::new()
        .rules(&path)
        .build()
        .expect("a bad condition is counted, not fatal");
    let gtube =
        "Subject: probe\n\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n";
    let report = engine.scan(&nl(gtube), &Envelope::new());
    assert!(report.rules().any(|(n, _, _)| n == "GTUBE"), "{report:?}");
    assert!(report.rules().any(|(n, _, _)| n == "T_SUBJ"), "{report:?}");
}
