//! The C ABI exercised from Rust, the way a C caller uses it.
#![allow(unsafe_code)]

use mailwarden::ffi::*;
use std::ffi::{CStr, CString, c_char};
use std::ptr;

const EICAR: &str = concat!(
    r"X5O!P%@AP[4\PZX54(P^)7CC)7}$",
    "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
);
const GTUBE: &str = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

fn message(body: &str) -> String {
    format!(
        "From: a@example.org\r\nTo: b@example.net\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\
         Subject: test\r\nMessage-ID: <1@example.org>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain\r\n\r\n{body}\r\n"
    )
}

fn s(p: *const c_char) -> String {
    assert!(!p.is_null());
    // SAFETY: the library returns NUL-terminated strings that live as long as the test needs.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string()
}

fn engine() -> *const mw_engine {
    let mut e = ptr::null();
    // SAFETY: `e` is writable.
    assert_eq!(unsafe { mw_engine_new_default(&mut e) }, mw_result::Ok);
    assert!(!e.is_null());
    e
}

/// Scans `msg` in chunks of `chunk` bytes with a full envelope.
fn scan(engine: *const mw_engine, msg: &str, chunk: usize) -> *const mw_report {
    let mut sc = ptr::null_mut();
    // SAFETY: all pointers are live and NUL-terminated where required.
    unsafe {
        assert_eq!(mw_scan_new(engine, &mut sc), mw_result::Ok);
        assert_eq!(
            mw_scan_set_client_address(sc, c"127.0.0.1".as_ptr()),
            mw_result::Ok
        );
        assert_eq!(
            mw_scan_set_helo(sc, c"client.example.org".as_ptr()),
            mw_result::Ok
        );
        assert_eq!(
            mw_scan_set_sender(sc, c"<a@example.org>".as_ptr()),
            mw_result::Ok
        );
        assert_eq!(
            mw_scan_add_recipient(sc, c"<b@example.net>".as_ptr()),
            mw_result::Ok
        );
        for part in msg.as_bytes().chunks(chunk) {
            assert_eq!(mw_scan_write(sc, part.as_ptr(), part.len()), mw_result::Ok);
        }
        let mut report = ptr::null();
        assert_eq!(mw_scan_finish(sc, &mut report), mw_result::Ok);
        mw_scan_free(sc);
        report
    }
}

#[test]
fn eicar_is_rejected_with_the_virus_reply() {
    let e = engine();
    let r = scan(e, &message(EICAR), 7);
    // SAFETY: `r` is a live report until mw_report_free.
    unsafe {
        assert_eq!(mw_report_action(r), mw_action::Reject);
        assert_eq!(mw_report_category(r), mw_category::Virus);
        assert_eq!(mw_report_reply_code(r), 554);
        assert_eq!(s(mw_report_reply_enhanced(r)), "5.7.1");
        assert_eq!(
            s(mw_report_reply_text(r)),
            "Message contains Eicar-Test-Signature virus, rejected"
        );
        assert_eq!(
            s(mw_report_reply(r)),
            "554 5.7.1 Message contains Eicar-Test-Signature virus, rejected"
        );
        assert_eq!(mw_report_virus_count(r), 1);
        assert_eq!(s(mw_report_virus_name(r, 0)), "Eicar-Test-Signature");
        assert!(mw_report_virus_name(r, 1).is_null());
        let json: serde_json::Value = serde_json::from_str(&s(mw_report_json(r))).unwrap();
        assert_eq!(json["viruses"][0], "Eicar-Test-Signature");
        assert_eq!(json["action"], "reject");
        mw_report_free(r);
        mw_engine_free(e);
    }
}

#[test]
fn gtube_hits_a_rule_and_is_rejected_as_spam() {
    let e = engine();
    let r = scan(e, &message(GTUBE), 4096);
    // SAFETY: `r` is a live report until mw_report_free.
    unsafe {
        assert_eq!(mw_report_category(r), mw_category::Spam);
        assert_eq!(
            s(mw_report_reply(r)),
            "554 5.7.1 Message seems to be spam, rejected"
        );
        assert!(mw_report_score(r) >= 1000.0);
        assert_eq!(mw_report_required_score(r), 5.0);
        assert!(mw_report_rule_count(r) >= 1);
        let (mut name, mut score, mut desc) = (ptr::null(), 0.0f64, ptr::null());
        let found = (0..mw_report_rule_count(r)).any(|i| {
            assert_eq!(
                mw_report_rule(r, i, &mut name, &mut score, &mut desc),
                mw_result::Ok
            );
            s(name) == "GTUBE"
        });
        assert!(found, "GTUBE rule hit listed");
        assert!(score >= 1000.0);
        assert!(!s(desc).is_empty());
        mw_report_free(r);
        mw_engine_free(e);
    }
}

#[test]
fn clean_message_is_accepted_with_spam_headers_to_add() {
    let e = engine();
    let r = scan(e, &message("Hello, nothing to see here."), 1);
    // SAFETY: `r` is a live report until mw_report_free.
    unsafe {
        assert_eq!(mw_report_category(r), mw_category::Clean);
        assert_eq!(mw_report_virus_count(r), 0);
        assert_eq!(mw_report_unchecked_count(r), 0);
        let n = mw_report_header_edit_count(r);
        let mut names = Vec::new();
        for i in 0..n {
            let (mut op, mut name, mut value) = (mw_header_op::Delete, ptr::null(), ptr::null());
            assert_eq!(
                mw_report_header_edit(r, i, &mut op, &mut name, &mut value),
                mw_result::Ok
            );
            names.push((op, s(name), s(value)));
        }
        assert!(
            names.iter().any(|(op, n, v)| *op == mw_header_op::Add
                && n == "X-Spam-Status"
                && v.starts_with("No")),
            "{names:?}"
        );
        mw_report_free(r);
        mw_engine_free(e);
    }
}

#[test]
fn outputs_are_untouched_on_failure() {
    let e = engine();
    let r = scan(e, &message("plain"), 100);
    // SAFETY: pointers are live; sentinels check that nothing is written on failure.
    unsafe {
        let sentinel: *const c_char = c"sentinel".as_ptr();
        let (mut name, mut score, mut desc) = (sentinel, -1.0f64, sentinel);
        let n = mw_report_rule_count(r);
        assert_eq!(
            mw_report_rule(r, n, &mut name, &mut score, &mut desc),
            mw_result::OutOfRange
        );
        assert_eq!((name, score, desc), (sentinel, -1.0, sentinel));
        assert!(s(mw_last_error()).contains("rule index"));

        let mut op = mw_header_op::Delete;
        let n = mw_report_header_edit_count(r);
        assert_eq!(
            mw_report_header_edit(r, n, &mut op, ptr::null_mut(), ptr::null_mut()),
            mw_result::OutOfRange
        );
        assert_eq!(op, mw_header_op::Delete);
        let mut reason = sentinel;
        assert_eq!(
            mw_report_unchecked(r, 0, &mut reason, ptr::null_mut(), ptr::null_mut()),
            mw_result::OutOfRange
        );
        assert_eq!(reason, sentinel);

        // JSON copy: too small a buffer is refused, the needed size is reported.
        let mut small = [0x55 as c_char; 4];
        let mut needed = 0usize;
        assert_eq!(
            mw_report_json_copy(r, small.as_mut_ptr(), small.len(), &mut needed),
            mw_result::InsufficientSize
        );
        assert!(small.iter().all(|c| *c == 0x55));
        let mut buf = vec![0 as c_char; needed + 1];
        let mut written = 0usize;
        assert_eq!(
            mw_report_json_copy(r, buf.as_mut_ptr(), buf.len(), &mut written),
            mw_result::Ok
        );
        assert_eq!(written, needed);
        assert_eq!(s(buf.as_ptr()), s(mw_report_json(r)));
        mw_report_free(r);

        let mut sc = ptr::null_mut();
        assert_eq!(mw_scan_new(e, &mut sc), mw_result::Ok);
        assert_eq!(
            mw_scan_set_client_address(sc, c"not-an-ip".as_ptr()),
            mw_result::InvalidAddress
        );
        assert!(s(mw_last_error()).contains("not-an-ip"));
        assert_eq!(
            mw_scan_set_client_address(sc, c"IPv6:::1".as_ptr()),
            mw_result::Ok
        );
        assert_eq!(
            mw_scan_set_helo(sc, c"\xff\xfe".as_ptr()),
            mw_result::InvalidUtf8
        );
        mw_scan_free(sc);
        mw_engine_free(e);
    }
}

#[test]
fn null_arguments_give_null_parameter_and_free_null_is_a_no_op() {
    // SAFETY: every call here is documented to accept NULL.
    unsafe {
        assert_eq!(
            mw_engine_new_default(ptr::null_mut()),
            mw_result::NullParameter
        );
        let mut e = ptr::null();
        assert_eq!(
            mw_engine_new_from_config(ptr::null(), &mut e),
            mw_result::NullParameter
        );
        assert!(e.is_null());
        let mut sc = ptr::null_mut();
        assert_eq!(mw_scan_new(ptr::null(), &mut sc), mw_result::NullParameter);
        assert!(sc.is_null());
        assert_eq!(
            mw_scan_set_helo(ptr::null_mut(), c"x".as_ptr()),
            mw_result::NullParameter
        );
        assert_eq!(
            mw_scan_write(ptr::null_mut(), ptr::null(), 0),
            mw_result::NullParameter
        );
        let mut r = ptr::null();
        assert_eq!(
            mw_scan_finish(ptr::null_mut(), &mut r),
            mw_result::NullParameter
        );
        assert!(s(mw_last_error()).contains("scan"));
        assert_eq!(mw_report_action(ptr::null()), mw_action::Tempfail);
        assert_eq!(mw_report_virus_count(ptr::null()), 0);
        assert!(mw_report_json(ptr::null()).is_null());
        assert!(mw_report_score(ptr::null()).is_nan());
        mw_report_free(ptr::null());
        mw_scan_free(ptr::null_mut());
        mw_scan_reset(ptr::null_mut());
        mw_engine_free(ptr::null());

        // Writing NULL with length 0 is allowed; with a length it is not.
        let e = engine();
        assert_eq!(mw_scan_new(e, &mut sc), mw_result::Ok);
        assert_eq!(mw_scan_write(sc, ptr::null(), 0), mw_result::Ok);
        assert_eq!(mw_scan_write(sc, ptr::null(), 5), mw_result::NullParameter);
        mw_scan_free(sc);
        mw_engine_free(e);
    }
}

#[test]
fn config_errors_carry_a_code_and_a_detail() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "this is = = not toml\n").unwrap();
    let missing = CString::new(dir.path().join("nope.toml").to_str().unwrap()).unwrap();
    let bad = CString::new(bad.to_str().unwrap()).unwrap();
    // SAFETY: pointers are live NUL-terminated strings and writable out-parameters.
    unsafe {
        let mut e = ptr::null();
        assert_eq!(
            mw_engine_new_from_config(missing.as_ptr(), &mut e),
            mw_result::Io
        );
        assert!(e.is_null());
        assert!(s(mw_last_error()).contains("nope.toml"));
        assert_eq!(
            mw_engine_new_from_config(bad.as_ptr(), &mut e),
            mw_result::Config
        );
        assert!(e.is_null());
        assert!(s(mw_last_error()).contains("bad.toml"));
        assert_eq!(
            s(mw_result_name(mw_result::Config as u32)),
            "MW_RESULT_CONFIG"
        );
        assert_eq!(s(mw_result_name(9999)), "MW_RESULT_UNKNOWN");
    }
}

#[test]
fn reset_drops_the_message_and_the_scanner_is_reused() {
    let e = engine();
    // SAFETY: pointers are live.
    unsafe {
        let mut sc = ptr::null_mut();
        assert_eq!(mw_scan_new(e, &mut sc), mw_result::Ok);
        // The engine handle may go; the scanner keeps the compiled data.
        mw_engine_free(e);
        let virus = message(EICAR);
        assert_eq!(
            mw_scan_write(sc, virus.as_ptr(), virus.len()),
            mw_result::Ok
        );
        mw_scan_reset(sc);
        let clean = message("fine");
        assert_eq!(
            mw_scan_write(sc, clean.as_ptr(), clean.len()),
            mw_result::Ok
        );
        let mut r = ptr::null();
        assert_eq!(mw_scan_finish(sc, &mut r), mw_result::Ok);
        assert_eq!(mw_report_category(r), mw_category::Clean);
        mw_report_free(r);
        // After finish the scanner is empty again and takes the next message.
        assert_eq!(
            mw_scan_write(sc, virus.as_ptr(), virus.len()),
            mw_result::Ok
        );
        assert_eq!(mw_scan_finish(sc, &mut r), mw_result::Ok);
        assert_eq!(mw_report_category(r), mw_category::Virus);
        mw_report_free(r);
        mw_scan_free(sc);
    }
}

#[test]
fn one_engine_serves_many_threads() {
    struct Shared(*const mw_engine);
    // SAFETY: a `const mw_engine *` is documented as shareable between threads.
    unsafe impl Sync for Shared {}
    let e = Shared(engine());
    std::thread::scope(|scope| {
        for i in 0..4 {
            let e = &e;
            scope.spawn(move || {
                let body = if i % 2 == 0 { EICAR } else { "clean" };
                let r = scan(e.0, &message(body), 13);
                // SAFETY: `r` is live until freed.
                unsafe {
                    let want = if i % 2 == 0 {
                        mw_category::Virus
                    } else {
                        mw_category::Clean
                    };
                    assert_eq!(mw_report_category(r), want);
                    mw_report_free(r);
                }
            });
        }
    });
    // SAFETY: every thread is done with the engine.
    unsafe { mw_engine_free(e.0) };
}

#[test]
fn static_strings_name_every_value() {
    assert_eq!(s(mw_action_name(mw_action::Reject as u32)), "reject");
    assert_eq!(
        s(mw_category_name(mw_category::BadHeader as u32)),
        "bad-header"
    );
    assert!(mw_action_name(77).is_null());
    assert!(mw_category_name(2).is_null());
    assert_eq!(s(mw_version()), env!("CARGO_PKG_VERSION"));
}

#[test]
fn bayes_learn_forget_commit_and_stats() {
    let dir = tempfile::tempdir().unwrap();
    let path = CString::new(dir.path().join("bayes.db").to_str().unwrap()).unwrap();
    let msg = message("cheap pills for everyone");
    let mut learner = ptr::null_mut();
    let mut changed = false;
    let mut stats = mw_bayes_stats::default();
    // SAFETY: every pointer is live, NUL-terminated where required, and used by this thread.
    unsafe {
        // A missing database reads as empty.
        assert_eq!(
            mw_bayes_stats_read(path.as_ptr(), &mut stats),
            mw_result::Ok
        );
        assert_eq!(stats, mw_bayes_stats::default());
        assert_eq!(mw_learner_new(path.as_ptr(), &mut learner), mw_result::Ok);
        let learn = |l, class, changed: &mut bool| {
            mw_learner_learn(l, msg.as_ptr(), msg.len(), class, changed)
        };
        assert_eq!(
            learn(learner, mw_bayes_class::Spam as u32, &mut changed),
            mw_result::Ok
        );
        assert!(changed);
        assert_eq!(
            learn(learner, mw_bayes_class::Spam as u32, &mut changed),
            mw_result::Ok
        );
        assert!(!changed, "same Message-ID learned twice");
        assert_eq!(learn(learner, 7, &mut changed), mw_result::OutOfRange);
        assert_eq!(
            mw_learner_learn(learner, ptr::null(), 0, 1, &mut changed),
            mw_result::NullParameter
        );
        assert_eq!(mw_learner_stats(learner, &mut stats), mw_result::Ok);
        assert_eq!((stats.spam, stats.ham, stats.messages), (1, 0, 1));
        assert!(stats.tokens > 3);
        // Not visible before the commit.
        let mut on_disk = mw_bayes_stats::default();
        assert_eq!(
            mw_bayes_stats_read(path.as_ptr(), &mut on_disk),
            mw_result::Ok
        );
        assert_eq!(on_disk.spam, 0);
        assert_eq!(mw_learner_commit(learner), mw_result::Ok);
        assert_eq!(
            mw_bayes_stats_read(path.as_ptr(), &mut on_disk),
            mw_result::Ok
        );
        assert_eq!(on_disk, stats);
        assert_eq!(
            mw_learner_forget(learner, msg.as_ptr(), msg.len(), &mut changed),
            mw_result::Ok
        );
        assert!(changed);
        assert_eq!(mw_learner_commit(learner), mw_result::Ok);
        mw_learner_free(learner);
        mw_learner_free(ptr::null_mut());
        assert_eq!(
            mw_bayes_stats_read(path.as_ptr(), &mut on_disk),
            mw_result::Ok
        );
        assert_eq!((on_disk.spam, on_disk.tokens, on_disk.messages), (0, 0, 0));
        // A damaged database is an error with a reason, not a crash.
        std::fs::write(dir.path().join("bayes.db"), b"MWBAYES1 torn").unwrap();
        assert_eq!(
            mw_bayes_stats_read(path.as_ptr(), &mut on_disk),
            mw_result::Bayes
        );
        assert!(s(mw_last_error()).contains("not a valid mailwarden Bayes database"));
    }
}

#[test]
fn banned_findings_name_rule_path_and_match() {
    let msg = "From: a@example.org\r\nTo: b@example.net\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\
               Subject: invoice\r\nMessage-ID: <2@example.org>\r\nMIME-Version: 1.0\r\n\
               Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
               --b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n\
               --b\r\nContent-Type: application/pdf\r\n\
               Content-Disposition: attachment; filename=\"invoice.pdf.exe\"\r\n\
               Content-Transfer-Encoding: base64\r\n\r\nbm90IHJlYWxseQ==\r\n--b--\r\n";
    let e = engine();
    let r = scan(e, msg, 7);
    // SAFETY: `r` is a live report; out-parameters are writable or NULL.
    unsafe {
        assert_eq!(mw_report_category(r), mw_category::Banned);
        assert_eq!(mw_report_banned_count(r), 1);
        let (mut rule, mut path, mut detail) = (ptr::null(), ptr::null(), ptr::null());
        assert_eq!(
            mw_report_banned(r, 0, &mut rule, &mut path, &mut detail),
            mw_result::Ok
        );
        assert_eq!(s(rule), "double-extension");
        assert_eq!(s(path), "2");
        assert!(s(detail).contains("invoice.pdf.exe"), "{}", s(detail));
        let mut untouched: *const c_char = c"sentinel".as_ptr();
        assert_eq!(
            mw_report_banned(r, 1, &mut untouched, ptr::null_mut(), ptr::null_mut()),
            mw_result::OutOfRange
        );
        assert_eq!(s(untouched), "sentinel");
        assert_eq!(mw_report_banned_count(ptr::null()), 0);
        assert_eq!(
            mw_report_banned(
                ptr::null(),
                0,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut()
            ),
            mw_result::NullParameter
        );
        mw_report_free(r);
        mw_engine_free(e);
    }
}

#[test]
fn bayes_retrain_adds_a_copy_of_what_is_still_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let path = CString::new(dir.path().join("bayes.db").to_str().unwrap()).unwrap();
    // 200 of each class (the default minimum before anything is classified), plus one spam
    // written in the ham vocabulary.
    let msg = |i: usize, words: &str| {
        format!(
            "From: a@example.org\r\nMessage-ID: <{i}@example.org>\r\nSubject: s\r\n\r\n{words} {i}\r\n"
        )
    };
    let spam: Vec<String> = (0..200)
        .map(|i| msg(i, "cheap pills casino lottery winner"))
        .collect();
    let ham: Vec<String> = (200..400)
        .map(|i| msg(i, "meeting agenda budget review patch"))
        .collect();
    let odd = msg(1000, "meeting agenda budget review patch");
    let mut learner = ptr::null_mut();
    let mut changed = false;
    let mut added = 0usize;
    // SAFETY: every pointer is live, NUL-terminated where required, and used by this thread.
    unsafe {
        assert_eq!(mw_learner_new(path.as_ptr(), &mut learner), mw_result::Ok);
        for (m, class) in spam
            .iter()
            .map(|m| (m, mw_bayes_class::Spam))
            .chain(ham.iter().map(|m| (m, mw_bayes_class::Ham)))
            .chain([(&odd, mw_bayes_class::Spam)])
        {
            assert_eq!(
                mw_learner_learn(learner, m.as_ptr(), m.len(), class as u32, &mut changed),
                mw_result::Ok
            );
        }
        let all: Vec<&String> = spam.iter().chain(&ham).chain([&odd]).collect();
        let ptrs: Vec<*const u8> = all.iter().map(|m| m.as_ptr()).collect();
        let lens: Vec<usize> = all.iter().map(|m| m.len()).collect();
        let retrain = |passes, margin, added: &mut usize| {
            mw_learner_retrain(
                learner,
                ptrs.as_ptr(),
                lens.as_ptr(),
                ptrs.len(),
                passes,
                margin,
                added,
            )
        };
        assert_eq!(retrain(2, 0.1, &mut added), mw_result::Ok);
        assert_eq!(added, 2, "the odd spam, once per pass");
        let mut stats = mw_bayes_stats::default();
        assert_eq!(mw_learner_stats(learner, &mut stats), mw_result::Ok);
        assert_eq!((stats.spam, stats.ham, stats.messages), (203, 200, 401));
        // Forgetting removes every copy.
        assert_eq!(
            mw_learner_forget(learner, odd.as_ptr(), odd.len(), &mut changed),
            mw_result::Ok
        );
        assert_eq!(mw_learner_stats(learner, &mut stats), mw_result::Ok);
        assert_eq!((stats.spam, stats.ham, stats.messages), (200, 200, 400));
        assert_eq!(retrain(1, 0.7, &mut added), mw_result::OutOfRange);
        let null_msg = [ptr::null::<u8>()];
        assert_eq!(
            mw_learner_retrain(
                learner,
                null_msg.as_ptr(),
                [5usize].as_ptr(),
                1,
                1,
                0.1,
                &mut added
            ),
            mw_result::NullParameter
        );
        assert_eq!(
            mw_learner_retrain(learner, ptr::null(), ptr::null(), 0, 1, 0.1, &mut added),
            mw_result::NullParameter
        );
        mw_learner_free(learner);
    }
}
