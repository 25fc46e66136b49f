//! Rule files written by the test, loaded through the engine, evaluated on messages.

use mailwarden::{Engine, Envelope};

mod support;

fn engine(cf: &str) -> (Engine, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("local.cf");
    std::fs::write(&path, cf).expect("write cf");
    let engine = Engine::builder()
        .rules(&path)
        .build()
        .expect("engine builds");
    (engine, dir)
}

/// Names of the rules that hit, sorted.
fn hit_names(engine: &Engine, msg: &str) -> Vec<String> {
    hits(engine, msg).into_iter().map(|(n, _)| n).collect()
}

fn hits(engine: &Engine, msg: &str) -> Vec<(String, f64)> {
    let report = engine.scan(msg.as_bytes(), &Envelope::new());
    let mut v: Vec<(String, f64)> = report.rules().map(|(n, s, _)| (n.to_string(), s)).collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

const CF: &str = r#"
# every rule type, score sets, tflags, meta, conditionals and ReplaceTags
required_score 4.5
header   SUBJ_FREE     Subject =~ /\bfree\b/i
score    SUBJ_FREE     1.5
describe SUBJ_FREE     Subject says free
header   NO_DATE       Date !~ /./
score    NO_DATE       0.5
header   HAS_XM        exists:X-Mailer
score    HAS_XM        0.1
header   FROM_ADDR     From:addr =~ /^bob\@example\.com$/
score    FROM_ADDR     0.2 0.3 0.4 0.5
body     BODY_CASH     /cash (?:now|today)/i
score    BODY_CASH     2.0
body     __WORD_A      /\bbuy\b/
tflags   __WORD_A      multiple maxhits=5
rawbody  RAW_QP        /=3D/
full     FULL_XM       /^X-Mailer: Spammer\r?$/m
uri      URI_EXAMPLE   /^https?:\/\/spam\.example\//
meta     META_TWO      __WORD_A >= 2 && !NOPE
score    META_TWO      0.7
meta     META_OFF      BODY_CASH
score    META_OFF      0
mimeheader MH_HTML     Content-Type =~ /text\/html/i
header   HFDD          eval:check_equal_from_domains()
body     HTMLM         eval:html_test('html')
body     MHO           eval:check_for_mime_html_only()
body     UNIMPL        eval:check_stock_info()
replace_tag   CA   (?:c|k)
body     TAG_CASH      /<CA>ash/
replace_rules TAG_CASH
ifplugin Mail::SpamAssassin::Plugin::NotLoaded
body     NEVER         /./
endif
"#;

const MSG: &str = "From: Bob <bob@example.com>\r\nTo: a@b.example\r\nSubject: Free stuff\r\n\
X-Mailer: Spammer\r\nContent-Type: text/plain\r\n\r\nGet cash now. Buy buy\r\nbuy! http://spam.example/x\r\n";

#[test]
fn every_rule_type_hits() {
    let (e, _dir) = engine(CF);
    assert_eq!(e.rules().required_score(), Some(4.5));
    let h = hits(&e, MSG);
    let names: Vec<&str> = h.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "BODY_CASH",
            "FROM_ADDR",
            "FULL_XM",
            "HAS_XM",
            "META_TWO",
            "NO_DATE",
            "SUBJ_FREE",
            "TAG_CASH",
            "URI_EXAMPLE"
        ],
        "{h:?}"
    );
    // score set 0 is the first of four; no score means 1.0; score 0 disables.
    assert!(h.contains(&("FROM_ADDR".to_string(), 0.2)));
    assert!(h.contains(&("TAG_CASH".to_string(), 1.0)));
}

#[test]
fn html_and_encoded_body_text() {
    let (e, _dir) = engine(CF);
    let msg = "Return-Path: <r@mail.other.example>\r\nFrom: x@y.example\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nSubject: hi\r\n\
MIME-Version: 1.0\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n\
PGh0bWw+PGJvZHk+PHA+Q2FzaCA8Yj50b2RheTwvYj48L3A+PGEgaHJlZj0iaHR0cDovL3NwYW0uZXhhbXBsZS95Ij5nbzwvYT48L2JvZHk+PC9odG1sPg==\r\n";
    let h = hits(&e, msg);
    let names: Vec<&str> = h.iter().map(|(n, _)| n.as_str()).collect();
    // TAG_CASH is case-sensitive and the HTML says "Cash".
    assert_eq!(
        names,
        vec![
            "BODY_CASH",
            "HFDD",
            "HTMLM",
            "MHO",
            "MH_HTML",
            "URI_EXAMPLE"
        ],
        "{h:?}"
    );
    let d = e.rules().describe().join("\n");
    assert!(d.contains("1 x eval check_stock_info()"), "{d}");
}

#[test]
fn malformed_lines_are_counted_with_file_and_line() {
    let (e, _dir) = engine(
        "body OK /ok/\nbody BAD /unterminated\nscore OK one two\nmeta M (A &&\nfrobnicate 1\n",
    );
    let d = e.rules().describe().join("\n");
    assert!(d.contains("3 parse errors"), "{d}");
    assert!(d.contains("local.cf:2: body BAD"), "{d}");
    assert!(d.contains("local.cf:3: score"), "{d}");
    assert!(d.contains("local.cf:4: meta M"), "{d}");
    assert!(d.contains("frobnicate x1"), "{d}");
}

#[test]
fn gtube_with_loaded_files() {
    let (e, _dir) = engine("body X /nothing-here/\n");
    let msg = "Subject: t\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n\
WEpTKkM0SkRCUUFETjEuTlNCTjMqMklETkVOKkdUVUJFLVNUQU5EQVJELUFOVEktVUJFLVRFU1QtRU1BSUwqQy4zNFg=\r\n";
    let h = hits(&e, msg);
    assert_eq!(h, vec![("GTUBE".to_string(), 1000.0)]);
}

#[test]
fn header_and_relay_evals() {
    let (e, _dir) = engine(
        "header ALLCAPS eval:subject_is_all_caps()\nheader NOTO eval:check_for_missing_to_header()\n\
         header ALLTR eval:check_all_trusted()\nheader NORDNS X-Spam-Relays-External =~ /^[^\\]]+ rdns= /\n",
    );
    let msg = "Received: from a (a.lan [10.0.0.2]) by b id 1\r\n\
               Received: from h.example (unknown [192.0.2.9]) by a.lan id 2\r\n\
               Subject: Re: BUY CHEAP PILLS NOW\r\nFrom: x@y.example\r\n\r\nhi\r\n";
    let names = hit_names(&e, msg);
    assert_eq!(names, vec!["ALLCAPS", "NORDNS", "NOTO"]);
    let msg = "Received: from a (a.lan [10.0.0.2]) by b id 1\r\nTo: u@v.example\r\n\
               Subject: Meeting notes for today\r\n\r\nhi\r\n";
    let names = hit_names(&e, msg);
    assert_eq!(names, vec!["ALLTR"]);
    // An empty To line is present, not missing (SpamAssassin's get() returns its newline).
    let msg = "Received: from a (a.lan [10.0.0.2]) by b id 1\r\nTo: \r\n\
               Subject: Meeting notes for today\r\n\r\nhi\r\n";
    assert_eq!(hit_names(&e, msg), vec!["ALLTR"]);
}

#[test]
fn freemail_from() {
    let (e, _dir) =
        engine("freemail_domains mail.example aol.*\nheader FM_FROM eval:check_freemail_from()\n");
    let hit = |from: &str| {
        let msg = format!("From: Someone <{from}>\r\nSubject: x\r\n\r\nhi\r\n");
        hits(&e, &msg).iter().any(|(n, _)| n == "FM_FROM")
    };
    assert!(hit("a@mail.example"));
    assert!(hit("a@AOL.com"));
    assert!(!hit("a@aol.co.uk"));
    assert!(!hit("a@corp.example"));
}

#[test]
fn nosubject_body_rules_do_not_see_the_subject() {
    let (e, _d) = engine(
        "body NONEMPTY /\\S/\ntflags NONEMPTY nosubject\nscore NONEMPTY 1\n\
         body SUBJ_WORD /hello/\nscore SUBJ_WORD 1\n\
         body NOSUBJ_WORD /hello/\ntflags NOSUBJ_WORD nosubject\nscore NOSUBJ_WORD 1\n",
    );
    let names = |msg: &str| hit_names(&e, msg);
    // Subject only: rules with nosubject see an empty body.
    assert_eq!(names("Subject: hello\r\n\r\n\r\n"), ["SUBJ_WORD"]);
    assert_eq!(
        names("Subject: hello\r\n\r\nhello\r\n"),
        ["NONEMPTY", "NOSUBJ_WORD", "SUBJ_WORD"]
    );
}

#[test]
fn subject_is_trimmed_before_decoding_and_the_last_one_counts() {
    // Node.pm trims the raw value, then decodes: a space an encoded word starts with stays
    // (spam-2/00276's `=?gb2312?q?_=B4=F2...?=`). The body's first line is the *last*
    // Subject (`get_header` in scalar context).
    let (e, _d) = engine(
        "header SUBJ_LEAD Subject =~ /^ MBA/\nscore SUBJ_LEAD 1\n\
         body BODY_LEAD /^ MBA/\nscore BODY_LEAD 1\n\
         body BODY_SECOND /^second$/\nscore BODY_SECOND 1\n",
    );
    assert_eq!(
        hit_names(&e, "Subject:  =?us-ascii?q?_MBA?=\r\n\r\nhi\r\n"),
        ["BODY_LEAD", "SUBJ_LEAD"]
    );
    assert_eq!(
        hit_names(&e, "Subject: first\r\nSubject: second\r\n\r\nhi\r\n"),
        ["BODY_SECOND"]
    );
}

#[test]
fn spam_report_lists_hits_as_spamassassin_does() {
    let (e, _d) = engine(
        "body CASH /cash/\nscore CASH 2.5\ndescribe CASH Talks about cash\n\
         body MONEY /money/\nscore MONEY 3\ndescribe MONEY Mentions money in a long description that \
         needs more than one line of the table to fit\nrequired_score 5\n",
    );
    let report = e.scan(b"Subject: hi\r\n\r\ncash and money\r\n", &Envelope::new());
    let text = report.spam_report();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "Content analysis details:   (5.5 points, 5.0 required)"
    );
    assert_eq!(lines[2], " pts rule name              description");
    assert!(lines[3].starts_with("---- ----------------------"));
    // Highest score first; the long description wraps at 78 columns under the column.
    assert!(lines[4].starts_with(" 3.0 MONEY                  Mentions money"));
    assert!(lines[4].len() <= 78 && lines[5].starts_with(&" ".repeat(28)));
    assert_eq!(lines[6], " 2.5 CASH                   Talks about cash");
}

#[test]
fn welcomelist_and_blocklist_from() {
    let (e, _d) = engine(
        "whitelist_from *@good.example friend@other.example\nblocklist_from sp?mmer@*\n\
         header USER_IN_WELCOMELIST eval:check_from_in_welcomelist()\nscore USER_IN_WELCOMELIST -100\n\
         header USER_IN_BLOCKLIST eval:check_from_in_blacklist()\nscore USER_IN_BLOCKLIST 100\n",
    );
    let names = |from: &str| -> Vec<String> {
        hit_names(&e, &format!("From: {from}\r\nSubject: x\r\n\r\nhi\r\n"))
    };
    assert_eq!(names("Bob <bob@GOOD.example>"), ["USER_IN_WELCOMELIST"]);
    assert_eq!(names("friend@other.example"), ["USER_IN_WELCOMELIST"]);
    assert_eq!(names("spammer@anywhere.example"), ["USER_IN_BLOCKLIST"]);
    assert!(names("someone@else.example").is_empty());
    // Resent-From replaces From when present.
    let resent = hits(
        &e,
        "Resent-From: x@nowhere.example\r\nFrom: bob@good.example\r\n\r\nhi\r\n",
    );
    assert!(resent.is_empty(), "{resent:?}");
}

#[test]
fn rewrite_header_subject_sets_the_spam_subject_tag() {
    let (e, _d) = engine(
        "rewrite_header Subject [SPAM _SCORE_/_REQD_]\nrequired_score 5\n\
         body CASH /cash/\nscore CASH 6\n",
    );
    let report = e.scan(b"Subject: hello\r\n\r\ncash\r\n", &Envelope::new());
    let subject: Vec<&str> = report
        .header_edits
        .iter()
        .filter(|h| h.name == "Subject")
        .map(|h| h.value.as_str())
        .collect();
    assert_eq!(subject, ["[SPAM 6.0/5.0] hello"]);
    // Without the directive the configured default tag stays.
    let (plain, _d2) = engine("body CASH /cash/\nscore CASH 6\n");
    let report = plain.scan(b"Subject: hello\r\n\r\ncash\r\n", &Envelope::new());
    assert!(
        report
            .header_edits
            .iter()
            .any(|h| h.name == "Subject" && h.value == "***SPAM*** hello")
    );
}

#[test]
fn add_header_lines_become_x_spam_headers() {
    let (e, _d) = engine(
        "required_score 5\nbody CASH /cash/\nscore CASH 6\nbody HI /hi/\nscore HI 0.5\n\
         add_header all Tests \"_TESTSSCORES_ _STARS(+)_ _YESNOCAPS_\"\n\
         add_header spam Spammy _SCORE_/_REQD_\nadd_header ham Hammy yes\n\
         add_header all Status _YESNO_ twice\n",
    );
    let headers = |body: &str| -> Vec<(String, String)> {
        e.scan(
            format!("Subject: x\r\n\r\n{body}\r\n").as_bytes(),
            &Envelope::new(),
        )
        .header_edits
        .into_iter()
        .filter(|h| h.name.starts_with("X-Spam-"))
        .map(|h| (h.name, h.value))
        .collect()
    };
    let spam = headers("cash hi");
    let get = |hs: &[(String, String)], n: &str| {
        hs.iter()
            .filter(|h| h.0 == n)
            .map(|h| h.1.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        get(&spam, "X-Spam-Tests"),
        ["CASH=6.000,HI=0.500 ++++++ YES"]
    );
    assert_eq!(get(&spam, "X-Spam-Spammy"), ["6.5/5.0"]);
    assert!(get(&spam, "X-Spam-Hammy").is_empty());
    // Status is mailwarden's own header: written once, not again from the rule file.
    assert_eq!(get(&spam, "X-Spam-Status").len(), 1);
    let ham = headers("hi");
    assert_eq!(get(&ham, "X-Spam-Hammy"), ["yes"]);
    assert_eq!(get(&ham, "X-Spam-Tests"), ["HI=0.500  NO"]);
}

#[test]
fn trusted_networks_decide_relay_trust() {
    let rules = "header ALL_TRUSTED eval:check_all_trusted()\nscore ALL_TRUSTED -1\n";
    let msg = "Received: from partner.example (partner.example [192.0.2.5]) by mx.example.org \
               (Postfix) with ESMTP id A1; Mon, 1 Jan 2024 00:00:00 +0000\r\n\
               From: a@partner.example\r\nSubject: x\r\n\r\nhi\r\n";
    let (plain, _d1) = engine(rules);
    assert!(
        hits(&plain, msg).is_empty(),
        "a public relay is untrusted by default"
    );
    let (trusting, _d2) = engine(&format!("trusted_networks 192.0.2.0/24\n{rules}"));
    assert_eq!(hits(&trusting, msg), [("ALL_TRUSTED".to_string(), -1.0)]);
    // A bad entry is a syntax error (listed by check-config) naming the file and line.
    let (bad, _d3) = engine("trusted_networks 10.0.0.300\n");
    let errors = &bad.rules().parsed().expect("parsed").errors;
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].source.line, 1);
    assert!(errors[0].message.contains("10.0.0.300"), "{:?}", errors[0]);
}

#[test]
fn host_domain_ip_and_revip_header_modifiers() {
    let (e, _d) = engine(
        "util_rb_tld com uk example\nutil_rb_2tld co.uk\n\
         header FROM_HOST From:addr:host =~ /^mail\\.shop\\.co\\.uk$/\nscore FROM_HOST 1\n\
         header FROM_DOMAIN From:addr:domain =~ /^shop\\.co\\.uk$/\nscore FROM_DOMAIN 1\n\
         header MSGID_HOST Message-ID:host =~ /^mx\\.sender\\.com$/\nscore MSGID_HOST 1\n\
         header ORIG_IP X-Originating-IP:ip =~ /^192\\.0\\.2\\.33$/\nscore ORIG_IP 1\n\
         header ORIG_REVIP X-Originating-IP:revip =~ /^33\\.2\\.0\\.192$/\nscore ORIG_REVIP 1\n\
         header NO_IP X-Mailer:ip =~ /./\nscore NO_IP 1\n",
    );
    let names = hit_names(
        &e,
        "From: Shop <news@mail.shop.co.uk>\r\nMessage-ID: <abc.123@mx.sender.com>\r\n\
         X-Originating-IP: [192.0.2.33]\r\nX-Mailer: Mailer 1.2.3\r\nSubject: x\r\n\r\nhi\r\n",
    );
    assert_eq!(
        names,
        [
            "FROM_DOMAIN",
            "FROM_HOST",
            "MSGID_HOST",
            "ORIG_IP",
            "ORIG_REVIP"
        ]
    );
}

#[test]
fn tvd_vertical_words_measures_spaced_out_lines() {
    let (e, _d) = engine(
        "body SPACED eval:tvd_vertical_words('75', '100')\nscore SPACED 1\n\
         body NORMAL eval:tvd_vertical_words('0', '30')\nscore NORMAL 1\n",
    );
    let names =
        |body: &str| -> Vec<String> { hit_names(&e, &format!("Subject: x\r\n\r\n{body}\r\n")) };
    assert_eq!(names("F R E E  M O N E Y  N O W"), ["SPACED"]);
    assert_eq!(names("An ordinary sentence of several words."), ["NORMAL"]);
}

#[test]
fn to_in_subject_and_matching_envelope_sender() {
    let (e, _d) = engine(
        "header LOCALPART_IN_SUBJECT eval:check_for_to_in_subject('user')\n\
         score LOCALPART_IN_SUBJECT 1\n\
         header ADDR_IN_SUBJ eval:check_for_to_in_subject('address')\nscore ADDR_IN_SUBJ 1\n\
         header ENV_MATCH eval:check_for_matching_env_and_hdr_from()\nscore ENV_MATCH 1\n",
    );
    let names = |headers: &str, env: Option<&str>| -> Vec<String> {
        let mut envelope = Envelope::new();
        envelope.sender = env.map(str::to_string);
        let r = e.scan(format!("{headers}\r\n\r\nhi\r\n").as_bytes(), &envelope);
        r.rules().map(|(n, _, _)| n.to_string()).collect()
    };
    assert_eq!(
        names(
            "To: jane@example.org\r\nFrom: a@b.example\r\nSubject: jane, your invoice",
            Some("x@y.example")
        ),
        ["LOCALPART_IN_SUBJECT"]
    );
    assert_eq!(
        names(
            "To: jane@example.org\r\nFrom: a@b.example\r\nSubject: for jane@example.org today",
            Some("x@y.example")
        ),
        ["ADDR_IN_SUBJ"]
    );
    // Case-insensitive where the pattern is; a name it does not hold gives nothing.
    assert_eq!(
        names(
            "To: jane@example.org\r\nFrom: a@b.example\r\nSubject: JANE",
            Some("x@y.example")
        ),
        ["LOCALPART_IN_SUBJECT"]
    );
    assert_eq!(
        names(
            "To: jane@example.org\r\nFrom: a@b.example\r\nSubject: Hello Jan, yes",
            Some("x@y.example")
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        names(
            "To: jane@example.org\r\nFrom: A <A@B.example>\r\nSubject: hello",
            Some("a@b.example")
        ),
        ["ENV_MATCH"]
    );
}

#[test]
fn relay_and_ratware_evals() {
    let (e, _d) = engine(
        "header __UNPARSEABLE eval:check_relays_unparseable()\nmeta UNPARSEABLE __UNPARSEABLE >= 1\n\
         score UNPARSEABLE 1\nheader RATWARE eval:check_ratware_name_id()\nscore RATWARE 1\n\
         header GATED eval:gated_through_received_hdr_remover()\nscore GATED 1\n",
    );
    let names = |headers: &str| -> Vec<String> {
        hit_names(&e, &format!("{headers}\r\nSubject: x\r\n\r\nhi\r\n"))
    };
    // No Received line at all: the forged-Received tests cannot run (GATED).
    assert_eq!(names("From: a@b.example"), ["GATED"]);
    assert_eq!(
        names(
            "Received: from r-smtp.korea.com - 203.122.2.197 by dd_it7  with Microsoft SMTPSVC(5.5.1775.675.6);\r\n\
             From: a@b.example"
        ),
        ["UNPARSEABLE"]
    );
    // `from X by Y;` is a handover SpamAssassin skips, whatever follows.
    assert!(
        names("Received: from x by y; relayed for 192.0.2.4\r\nFrom: a@b.example")
            .iter()
            .all(|n| n != "UNPARSEABLE")
    );
    assert_eq!(
        names(
            "Received: from a (a.example [192.0.2.4]) by mx id 1\r\n\
             Message-ID: <ABCDEFGHIJKLMNOPQRSTUVWXYZAB.bob@spam.example>\r\n\
             From: \"Bob\" <bob@spam.example>"
        ),
        ["RATWARE"]
    );
}

#[test]
fn image_count_counts_base64_image_parts() {
    let (e, _d) = engine(
        "body ONE_GIF eval:image_count('gif','1','1')\nscore ONE_GIF 1\n\
         body TWO_PLUS eval:image_count('all','2')\nscore TWO_PLUS 1\n\
         body ONE_JPEG eval:image_count('jpeg',1,1)\nscore ONE_JPEG 1\n",
    );
    let part = |ty: &str, cte: &str| {
        format!("--b\r\nContent-Type: {ty}\r\nContent-Transfer-Encoding: {cte}\r\n\r\nR0lGODlh\r\n")
    };
    let msg = format!(
        "Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nhi\r\n{}{}{}--b--\r\n",
        part("image/gif", "base64"),
        part("image/jpg", "base64"),
        // Not base64: ImageInfo does not count it.
        part("image/png", "7bit"),
    );
    let names = hit_names(&e, &msg);
    assert_eq!(names, ["ONE_GIF", "ONE_JPEG", "TWO_PLUS"]);
}

#[test]
fn named_address_lists_and_to_lists() {
    let (e, _d) = engine(
        "enlist_addrlist (BANKS) *@*.bank.example *@bank.example\n\
         enlist_addrlist (SUSP) *@*.top\n\
         welcomelist_to boss@corp.example\nmore_spam_to *@lists.example\n\
         all_spam_to abuse@corp.example\nblocklist_to spamtrap@corp.example\n\
         header FROM_BANK eval:check_from_in_list('BANKS')\n\
         header REPLYTO_SUSP eval:check_replyto_in_list('SUSP')\n\
         header TO_BANK eval:check_to_in_list('BANKS')\n\
         header NO_SUCH_LIST eval:check_from_in_list('NOPE')\n\
         header USER_IN_WELCOMELIST_TO eval:check_to_in_welcomelist()\n\
         header USER_IN_MORE_SPAM_TO eval:check_to_in_more_spam()\n\
         header USER_IN_ALL_SPAM_TO eval:check_to_in_all_spam()\n\
         header USER_IN_BLOCKLIST_TO eval:check_to_in_blacklist()\n",
    );
    let names = |headers: &str| hit_names(&e, &format!("{headers}Subject: x\r\n\r\nhi\r\n"));
    assert_eq!(
        names("From: Bank <alerts@secure.BANK.example>\r\n"),
        ["FROM_BANK"]
    );
    assert_eq!(names("From: a@bank.example.evil\r\n"), Vec::<String>::new());
    assert_eq!(
        names("From: a@x.example\r\nReply-To: Win <prize@claim.top>\r\n"),
        ["REPLYTO_SUSP"]
    );
    // Only the first Reply-To address counts, as SpamAssassin's scalar get() does.
    assert!(names("From: a@x.example\r\nReply-To: b@ok.example, c@claim.top\r\n").is_empty());
    assert_eq!(
        names("To: Boss <BOSS@corp.example>\r\n"),
        ["USER_IN_WELCOMELIST_TO"]
    );
    assert_eq!(
        names("To: x@y.example\r\nCc: dev@lists.example\r\n"),
        ["USER_IN_MORE_SPAM_TO"]
    );
    assert_eq!(names("To: abuse@corp.example\r\n"), ["USER_IN_ALL_SPAM_TO"]);
    assert_eq!(
        names("To: spamtrap@corp.example\r\n"),
        ["USER_IN_BLOCKLIST_TO"]
    );
    // The recipient of a `for <...>;` clause in the newest Received lines counts too.
    assert_eq!(
        names(
            "Received: from a.example by mx.corp.example with ESMTP id 1\r\n for <boss@corp.example>; Mon, 1 Jan 2024 00:00:00 +0000\r\nTo: undisclosed-recipients:;\r\n"
        ),
        ["USER_IN_WELCOMELIST_TO"]
    );
    // Resent-To replaces the other recipient headers.
    assert!(names("Resent-To: x@y.example\r\nTo: boss@corp.example\r\n").is_empty());
    assert_eq!(names("To: alerts@bank.example\r\n"), ["TO_BANK"]);
}

#[test]
fn welcomelist_from_rcvd_needs_the_named_relay() {
    let (e, _d) = engine(
        "welcomelist_from_rcvd *@partner.example partner.example\n\
         def_welcomelist_from_rcvd news@big.example [198.51.100.0/24]\n\
         header USER_IN_WELCOMELIST eval:check_from_in_welcomelist()\n\
         header USER_IN_DEF_WELCOMELIST eval:check_from_in_default_welcomelist()\n\
         header FORGED_IN_WELCOMELIST eval:check_forged_in_welcomelist()\n\
         header MAILFROM_MATCHES eval:check_mailfrom_matches_rcvd()\n",
    );
    let via = |rdns: &str, ip: &str, from: &str| {
        let msg = format!(
            "Received: from {rdns} ({rdns} [{ip}]) by mx.example.org (Postfix) with ESMTP id A1; \
             Mon, 1 Jan 2024 00:00:00 +0000\r\nFrom: {from}\r\nSubject: x\r\n\r\nhi\r\n"
        );
        let report = e.scan(
            msg.as_bytes(),
            &Envelope::new().sender("bounce@partner.example"),
        );
        let mut v: Vec<String> = report.rules().map(|(n, _, _)| n.to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(
        via("out.partner.example", "192.0.2.5", "a@partner.example"),
        ["MAILFROM_MATCHES", "USER_IN_WELCOMELIST"]
    );
    // The right address through another relay: a possible forgery, not welcomelisted.
    assert_eq!(
        via("mail.elsewhere.example", "203.0.113.9", "a@partner.example"),
        ["FORGED_IN_WELCOMELIST"]
    );
    assert_eq!(
        via("mta.big.example", "198.51.100.20", "news@big.example"),
        ["USER_IN_DEF_WELCOMELIST"]
    );
    assert!(via("mta.big.example", "203.0.113.20", "news@big.example").is_empty());
}

#[test]
fn uri_host_and_subject_lists() {
    let (e, _d) = engine(
        "enlist_uri_host (SUSP_TLD) top zip !safe.top\n\
         blocklist_uri_host bad.example\nwelcomelist_uri_host good.example\n\
         delist_uri_host (SUSP_TLD) zip\n\
         welcomelist_subject [ticket #*]\nblocklist_subject *free money*\n\
         header SUSP_URI eval:check_uri_host_listed('SUSP_TLD')\n\
         body URI_HOST_IN_BLOCKLIST eval:check_uri_host_in_blocklist()\n\
         body URI_HOST_IN_WELCOMELIST eval:check_uri_host_in_welcomelist()\n\
         header SUBJECT_IN_WELCOMELIST eval:check_subject_in_welcomelist()\n\
         header SUBJECT_IN_BLOCKLIST eval:check_subject_in_blacklist()\n",
    );
    let body = |text: &str| {
        hit_names(
            &e,
            &format!("From: a@b.example\r\nSubject: x\r\n\r\n{text}\r\n"),
        )
    };
    assert_eq!(body("see http://win.prize.top/now"), ["SUSP_URI"]);
    // `!host` excludes a host the list would otherwise name through its parent.
    assert!(body("see http://safe.top/ and http://www.safe.top/").is_empty());
    assert!(body("see http://files.zip/x").is_empty(), "delisted");
    assert_eq!(
        body("see https://x.bad.example/"),
        ["URI_HOST_IN_BLOCKLIST"]
    );
    assert_eq!(
        body("<a href=\"http://good.example/\">here</a>"),
        ["URI_HOST_IN_WELCOMELIST"]
    );
    assert!(
        body("write to mailto:someone@x.top").is_empty(),
        "mailto is skipped"
    );
    let subject = |s: &str| {
        hit_names(
            &e,
            &format!("From: a@b.example\r\nSubject: {s}\r\n\r\nhi\r\n"),
        )
    };
    assert_eq!(
        subject("Re: [Ticket #4711] printer"),
        ["SUBJECT_IN_WELCOMELIST"]
    );
    assert_eq!(subject("Get FREE MONEY now"), ["SUBJECT_IN_BLOCKLIST"]);
    assert!(subject("money for free").is_empty());
    // A list without its name in parentheses is a syntax error naming the line.
    let (bad, _d2) = engine("enlist_addrlist BANKS *@bank.example\n");
    let errors = &bad.rules().parsed().expect("parsed").errors;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].source.line, 1);
}

#[test]
fn forged_received_and_ratware_header_evals() {
    let (e, _d) = engine(
        "header UNRESOLVED_TEMPLATE eval:check_unresolved_template()\n\
         header RATWARE_ENVELOPE_FROM eval:check_ratware_envelope_from()\n\
         header FAKE_AOL_RELAY_IN_RCVD eval:check_for_fake_aol_relay_in_rcvd()\n\
         header FORGED_GMAIL_RCVD eval:check_for_forged_gmail_received_headers()\n\
         header FORGED_JUNO_RCVD eval:check_for_forged_juno_received_headers()\n\
         header FORGED_EUDORAMAIL_RCVD eval:check_for_forged_eudoramail_received_headers()\n",
    );
    let scan = |msg: &str, sender: &str| -> Vec<String> {
        let env = if sender.is_empty() {
            Envelope::new()
        } else {
            Envelope::new().sender(sender)
        };
        let mut v: Vec<String> = e
            .scan(msg.as_bytes(), &env)
            .rules()
            .map(|(n, _, _)| n.to_string())
            .collect();
        v.sort();
        v
    };
    let rcvd = "Received: from relay.example (relay.example [192.0.2.1]) by mx.example.org \
                (Postfix) with ESMTP id A1; Mon, 1 Jan 2024 00:00:00 +0000\r\n";
    assert_eq!(
        scan(
            &format!(
                "{rcvd}From: a@x.example\r\nX-Campaign: %CAMPAIGN_ID\r\nSubject: hi\r\n\r\nx\r\n"
            ),
            ""
        ),
        ["UNRESOLVED_TEMPLATE"]
    );
    // A placeholder in Subject or To is left to other rules.
    assert!(
        scan(
            &format!("{rcvd}From: a@x.example\r\nSubject: 100%FREE\r\n\r\nx\r\n"),
            ""
        )
        .is_empty()
    );
    assert_eq!(
        scan(
            &format!("{rcvd}From: a@x.example\r\nTo: jsmith@corp.com\r\nSubject: hi\r\n\r\nx\r\n"),
            "corp.com-jsmith@bulk.example"
        ),
        ["RATWARE_ENVELOPE_FROM"]
    );
    assert!(
        scan(
            &format!("{rcvd}From: a@x.example\r\nTo: jsmith@corp.com\r\nSubject: hi\r\n\r\nx\r\n"),
            "SRS0=ab=cd=corp.com-jsmith@bulk.example"
        )
        .is_empty()
    );
    assert_eq!(
        scan(
            "Received: from unknown (HELO mta05.example.com) (80.71.176.130) by rly-xw01.mx.aol.com \
             with QMQP; Sat, 15 Jun 2002 23:37:16 -0000\r\nFrom: a@x.example\r\nSubject: hi\r\n\r\nx\r\n",
            ""
        ),
        ["FAKE_AOL_RELAY_IN_RCVD"]
    );
    assert!(
        scan(
            "Received: from logs-tr.proxy.aol.com (logs-tr.proxy.aol.com [152.163.201.132]) by \
             rly-ip01.mx.aol.com (8.8.8/8.8.8/AOL-5.0.0) with ESMTP id NAA08955; Thu, 4 Apr 2002 \
             13:11:20 -0500\r\nFrom: a@x.example\r\nSubject: hi\r\n\r\nx\r\n",
            ""
        )
        .is_empty()
    );
    assert_eq!(
        scan(
            &format!("{rcvd}From: Someone <someone@gmail.com>\r\nSubject: hi\r\n\r\nx\r\n"),
            ""
        ),
        ["FORGED_GMAIL_RCVD"]
    );
    assert!(
        scan(
            &format!(
                "{rcvd}X-Received: by 10.1.2.3 with SMTP id abc; Mon, 1 Jan 2024\r\n\
                 From: someone@gmail.com\r\nSubject: hi\r\n\r\nx\r\n"
            ),
            ""
        )
        .is_empty()
    );
    assert_eq!(
        scan(
            &format!("{rcvd}From: a@juno.com\r\nSubject: hi\r\n\r\nx\r\n"),
            ""
        ),
        ["FORGED_JUNO_RCVD"]
    );
    assert!(
        scan(
            "Received: from cookie.juno.com (cookie.juno.com [64.136.24.7]) by mx.example.org; \
             Mon, 1 Jan 2024 00:00:00 +0000\r\nX-Originating-IP: 198.51.100.4\r\n\
             X-Mailer: Juno 5.0.33\r\nFrom: a@juno.com\r\nSubject: hi\r\n\r\nx\r\n",
            ""
        )
        .is_empty()
    );
    assert_eq!(
        scan(
            &format!("{rcvd}From: a@eudoramail.com\r\nSubject: hi\r\n\r\nx\r\n"),
            ""
        ),
        ["FORGED_EUDORAMAIL_RCVD"]
    );
}

#[test]
fn ok_locales_drive_the_faraway_charset_evals() {
    let rules = "body CHARSET_FARAWAY eval:check_for_faraway_charset()\n\
                 header CHARSET_FARAWAY_HEADER eval:check_for_faraway_charset_in_headers()\n\
                 body HTML_CHARSET_FARAWAY eval:html_charset_faraway()\n\
                 rawbody MIME_CHARSET_FARAWAY eval:check_for_mime('mime_faraway_charset')\n";
    let cyrillic = "From: a@x.example\r\nSubject: =?koi8-r?B?8NLJ18XU?=\r\nMIME-Version: 1.0\r\n\
                    Content-Type: text/plain; charset=koi8-r\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
                    \u{440}\u{443}\u{441}\u{441}\u{43a}\u{438}\u{439} \u{442}\u{435}\u{43a}\u{441}\u{442}\r\n";
    let html = "From: a@x.example\r\nSubject: hi\r\nMIME-Version: 1.0\r\n\
                Content-Type: text/html\r\n\r\n<html><head><meta http-equiv=\"Content-Type\" \
                content=\"text/html; charset=big5\"></head><body>hello</body></html>\r\n";
    // The default, `all`, accepts every charset.
    let (default, _d1) = engine(rules);
    assert!(hits(&default, cyrillic).is_empty());
    assert!(hits(&default, html).is_empty());
    let (english, _d2) = engine(&format!("ok_locales en\n{rules}"));
    assert_eq!(
        hit_names(&english, cyrillic),
        [
            "CHARSET_FARAWAY",
            "CHARSET_FARAWAY_HEADER",
            "MIME_CHARSET_FARAWAY"
        ]
    );
    // SpamAssassin 4.0.1 never fires html_charset_faraway (its HTML parser does not pass
    // the meta charsets on), and neither does mailwarden.
    assert!(hits(&english, html).is_empty());
    let (russian, _d3) = engine(&format!("ok_locales en ru\n{rules}"));
    assert!(hits(&russian, cyrillic).is_empty());
}

#[test]
fn abundant_unicode_ratio_counts_escapes_in_plain_text() {
    let (e, _d) = engine(
        "body PP_TOO_MUCH_UNICODE05 eval:check_abundant_unicode_ratio(0.05)\n\
         body MALFORMED_RATIO eval:check_abundant_unicode_ratio(5)\n",
    );
    let msg = |body: &str| {
        format!("From: a@x.example\r\nSubject: hi\r\nContent-Type: text/plain\r\n\r\n{body}\r\n")
    };
    assert_eq!(
        hit_names(&e, &msg("&#x0420;&#x0435;&#x043A; price &#x0430;&#x0431;")),
        ["PP_TOO_MUCH_UNICODE05"]
    );
    assert!(
        hits(
            &e,
            &msg("one &#x0420; in a long enough line of ordinary words here")
        )
        .is_empty()
    );
}

#[test]
fn forged_received_trail_needs_two_broken_links() {
    let (e, _d) = engine("header FORGED_RCVD_TRAIL eval:check_for_forged_received_trail()\n");
    let hop = |from: &str, ip: &str, by: &str| {
        format!(
            "Received: from {from} ({from} [{ip}]) by {by} (Postfix) with ESMTP id A1; \
             Mon, 1 Jan 2024 00:00:00 +0000\r\n"
        )
    };
    let msg = |hops: &[String]| {
        format!(
            "{}From: a@x.example\r\nSubject: hi\r\n\r\nhi\r\n",
            hops.concat()
        )
    };
    // Each hop's `by` is the host the next-newer hop says it came from: a clean trail.
    let clean = [
        hop("relay2.isp.example", "192.0.2.2", "mx.corp.example"),
        hop("relay1.isp.example", "192.0.2.1", "relay2.isp.example"),
        hop("client.dsl.example", "198.51.100.7", "relay1.isp.example"),
    ];
    assert!(hits(&e, &msg(&clean)).is_empty());
    let forged = [
        hop("relay2.isp.example", "192.0.2.2", "mx.corp.example"),
        hop("relay1.other.example", "192.0.2.1", "mail.third.example"),
        hop("client.dsl.example", "198.51.100.7", "smtp.fourth.example"),
    ];
    assert_eq!(hit_names(&e, &msg(&forged)), ["FORGED_RCVD_TRAIL"]);
    // One broken link is not enough.
    let one = [
        hop("relay2.isp.example", "192.0.2.2", "mx.corp.example"),
        hop("relay1.isp.example", "192.0.2.1", "mail.third.example"),
    ];
    assert!(hits(&e, &msg(&one)).is_empty());
}

#[test]
fn clear_headers_and_remove_header() {
    let (e, _d) = engine(
        "required_score 5\nbody CASH /cash/\nscore CASH 6\n\
         add_header all Early dropped\nclear_headers\n\
         add_header all Both _YESNO_\nadd_header spam Gone x\nadd_header all Half _SCORE_\n\
         remove_header spam Gone\nremove_header spam Half\n",
    );
    let names = |body: &str| -> Vec<String> {
        let mut v: Vec<String> = e
            .scan(
                format!("Subject: x\r\n\r\n{body}\r\n").as_bytes(),
                &Envelope::new(),
            )
            .header_edits
            .into_iter()
            .map(|h| h.name)
            .filter(|n| {
                ["X-Spam-Early", "X-Spam-Both", "X-Spam-Gone", "X-Spam-Half"].contains(&n.as_str())
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("cash"), ["X-Spam-Both"]);
    assert_eq!(names("hello"), ["X-Spam-Both", "X-Spam-Half"]);
}

#[test]
fn https_http_mismatch_and_truncated_uris() {
    let (e, _d) = engine(
        "body HTTPS_HTTP_MISMATCH eval:check_https_http_mismatch('1','10')\n\
         body URI_TRUNCATED eval:check_uri_truncated()\n",
    );
    let html = |body: &str| {
        format!(
            "From: a@x.example\r\nSubject: hi\r\nContent-Type: text/html\r\n\r\n<html><body>{body}</body></html>\r\n"
        )
    };
    assert_eq!(
        hit_names(
            &e,
            &html("<a href=\"http://login.phish.example/x\">https://www.bank.example/login</a>")
        ),
        ["HTTPS_HTTP_MISMATCH"]
    );
    // The text names the link's own registered domain.
    assert!(
        hits(
            &e,
            &html("<a href=\"http://www.bank.example/x\">https://login.bank.example/</a>")
        )
        .is_empty()
    );
    // Ten or more links: a newsletter, not counted.
    let many: String = (0..10)
        .map(|i| format!("<a href=\"http://site{i}.example/\">link</a> "))
        .collect();
    assert!(
        hits(
            &e,
            &html(&format!(
                "{many}<a href=\"http://login.phish.example/\">https://www.bank.example/</a>"
            ))
        )
        .is_empty()
    );
    let long = format!("http://x.example/{}", "a".repeat(9000));
    assert_eq!(
        hit_names(&e, &html(&format!("<a href=\"{long}\">here</a>"))),
        ["URI_TRUNCATED"]
    );
    assert!(hits(&e, &html("<a href=\"http://x.example/short\">here</a>")).is_empty());
}

#[test]
fn addr_modifier_keeps_only_addresses() {
    let (e, _d) = engine(
        "header ENV_YYYY EnvelopeFrom =~ /yyyy/\nheader TO_UNDISCLOSED To:addr =~ /undisclosed/\n\
         header TO_ADDR To:addr =~ /^bob\\@x\\.example$/\n",
    );
    // `Return-Path: yyyy` holds no address, so it is no envelope sender (SpamAssassin's
    // parse_header_addresses), and a group name is no recipient.
    assert!(
        hits(
            &e,
            "Return-Path: yyyy\r\nTo: undisclosed-recipients:;\r\nSubject: x\r\n\r\nhi\r\n"
        )
        .is_empty()
    );
    assert_eq!(
        hit_names(
            &e,
            "To: Bob <bob@x.example>, list:;\r\nSubject: x\r\n\r\nhi\r\n"
        ),
        ["TO_ADDR"]
    );
}

#[test]
fn meta_chains_and_cycles() {
    let (e, _d) = engine(
        "body __X /xyz/\nmeta AAA BBB\nmeta BBB __X\n\
         meta CYC1 CYC2 || __X\nmeta CYC2 CYC1\n\
         score AAA 1\nscore BBB 1\nscore CYC1 1\nscore CYC2 1\n",
    );
    // A meta rule reads a later one; in a cycle the rule entered first reads 0 for the
    // one still in progress.
    assert_eq!(
        hit_names(&e, "Subject: x\r\n\r\nxyz\r\n"),
        ["AAA", "BBB", "CYC1"]
    );
    assert!(hit_names(&e, "Subject: x\r\n\r\nnothing\r\n").is_empty());
}

#[test]
fn uri_rules_see_canonical_variants_and_redirector_targets() {
    let (e, _d) = engine(
        "redirector_pattern m'^https?://jump\\.example/go\\?to=(.*)$'i\n\
         uri NORMAL_HTTP_TO_IP m{^https?://\\d+\\.\\d+\\.\\d+\\.\\d+\\b}i\n\
         uri TARGET_SITE /^http:\\/\\/target\\.example\\//\n\
         uri ESCAPED_HOST /^https?\\:\\/\\/[^\\/\\s]*%[0-9a-fA-F][0-9a-fA-F]/\n",
    );
    let body = |text: &str| {
        hit_names(
            &e,
            &format!("From: a@b.example\r\nSubject: x\r\n\r\n{text}\r\n"),
        )
    };
    // A decimal host is the dotted quad it encodes; a link inside another is listed too.
    assert_eq!(body("see http://3232235777/x"), ["NORMAL_HTTP_TO_IP"]);
    assert_eq!(
        body("see http://rd.yahoo.com/*http://80.71.71.88/farm/"),
        ["NORMAL_HTTP_TO_IP"]
    );
    assert_eq!(
        body("see http://jump.example/go?to=http://target.example/x"),
        ["TARGET_SITE"]
    );
    // The original stays listed beside its decoded variant.
    assert_eq!(
        body("see http://%74arget.example/"),
        ["ESCAPED_HOST", "TARGET_SITE"]
    );
}

#[test]
fn image_pixels_ratio_and_alternative_word_counts() {
    // A 600x400 GIF (240,000 pixels), a 500x400 PNG (200,000), a 200x300 JPEG (60,000).
    const GIF: &str = "R0lGODlhWAKQAYAAAA==";
    const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAfQAAAGQCAIAAAAAAAAA";
    const JPEG: &str = "/9j/4AAQSkZJRgABAQAAAQABAAD/wAARCAEsAMgDASIAAhEBAxEB";
    let (e, _d) = engine(
        "body GIF_AREA_180K eval:pixel_coverage('gif','180000','475000')\n\
         body PNG_AREA_180K eval:pixel_coverage('png','180000','475000')\n\
         body ALL_500K eval:pixel_coverage('all',500000)\n\
         body JPEG_SMALL eval:pixel_coverage('jpeg',1,100000)\n\
         body IMG_TEXT_RATIO eval:image_to_text_ratio('all', '0.000', '0.008')\n\
         rawbody IMG_RAW_RATIO eval:image_to_text_ratio('all', '0.000', '0.015')\n",
    );
    let part = |ty: &str, data: &str| {
        format!("--b\r\nContent-Type: {ty}\r\nContent-Transfer-Encoding: base64\r\n\r\n{data}\r\n")
    };
    let msg = format!(
        "Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nhi\r\n{}{}{}--b--\r\n",
        part("image/gif", GIF),
        part("image/png", PNG),
        part("image/jpeg", JPEG),
    );
    // 500,000 pixels in all and almost no text: every image rule hits.
    assert_eq!(
        hit_names(&e, &msg),
        [
            "ALL_500K",
            "GIF_AREA_180K",
            "IMG_RAW_RATIO",
            "IMG_TEXT_RATIO",
            "JPEG_SMALL",
            "PNG_AREA_180K"
        ]
    );
    let (alt, _d2) =
        engine("body MPART_ALT_DIFF_COUNT eval:multipart_alternative_difference_count('3', '1')\n");
    let alternative = |text: &str, html: &str| {
        format!(
            "Subject: x\r\nContent-Type: multipart/alternative; boundary=a\r\n\r\n\
             --a\r\nContent-Type: text/plain\r\n\r\n{text}\r\n\
             --a\r\nContent-Type: text/html\r\n\r\n<p>{html}</p>\r\n--a--\r\n"
        )
    };
    // Many more distinct words in the text than in the HTML (ratio over 3, HTML over 1).
    assert_eq!(
        hit_names(
            &alt,
            &alternative("one two three four five six seven eight nine", "one two")
        ),
        ["MPART_ALT_DIFF_COUNT"]
    );
    assert!(hits(&alt, &alternative("one two three", "one two three")).is_empty());
}

#[test]
fn bounce_relays_rescue_bounces_of_our_own_mail() {
    let rules = "body MY_SERVERS_FOUND eval:check_welcomelist_bounce_relays()\n\
                 body HAVE_BOUNCE_RELAYS eval:have_any_bounce_relays()\n";
    let quoted = "From: MAILER-DAEMON@x.example\r\nSubject: Undelivered\r\n\r\n\
                  The original message:\r\n\r\n\
                  > Received: from pc.lan by relay1.ours.example (Postfix) with ESMTP id X1;\r\n\
                  > Subject: hello\r\n";
    let attached = "From: MAILER-DAEMON@x.example\r\nSubject: Undelivered\r\n\
                    Content-Type: multipart/report; boundary=r\r\n\r\n\
                    --r\r\nContent-Type: text/plain\r\n\r\nSorry.\r\n\
                    --r\r\nContent-Type: message/rfc822\r\n\r\n\
                    Received: from pc.lan (pc.lan [10.0.0.5])\r\n\tby relay2.ours.example (Postfix) with ESMTP id X2;\r\n\
                    Subject: hello\r\n\r\nhi\r\n--r--\r\n";
    let (none, _d1) = engine(rules);
    assert!(
        hits(&none, quoted).is_empty(),
        "no relays listed: nothing to rescue"
    );
    let (ours, _d2) = engine(&format!(
        "welcomelist_bounce_relays relay?.ours.example\n{rules}"
    ));
    assert_eq!(
        hit_names(&ours, quoted),
        ["HAVE_BOUNCE_RELAYS", "MY_SERVERS_FOUND"]
    );
    assert_eq!(
        hit_names(&ours, attached),
        ["HAVE_BOUNCE_RELAYS", "MY_SERVERS_FOUND"]
    );
    let other = quoted.replace("relay1.ours.example", "mx.other.example");
    assert_eq!(hit_names(&ours, &other), ["HAVE_BOUNCE_RELAYS"]);
}

/// The scan runs a sub-rule only when a meta rule reads it (`&&` and `||` short-circuit);
/// every scored rule must still get the value the full evaluation gives it.
#[test]
fn on_demand_evaluation_gives_the_full_evaluations_hits() {
    let (e, _d) = engine(
        "body __A /aaa/\nbody __B /bbb/\ntflags __B multiple\nbody __C /ccc/\n\
         header __SUBJ Subject =~ /deal/\nmeta __AB __A && __B\n\
         meta M_AND __A && __B\nmeta M_COUNT (__A && __B) > 1\nmeta M_OR __C || __B\n\
         meta M_NOT !__A && __SUBJ\nmeta M_NEST __AB && (__C || __SUBJ)\n\
         meta M_ARITH (__A + __B + __C) >= 2\nbody PLAIN /aaa/\n\
         score M_AND 1\nscore M_COUNT 1\nscore M_OR 1\nscore M_NOT 1\nscore M_NEST 1\n\
         score M_ARITH 1\nscore PLAIN 1\n",
    );
    let rules = e.rules();
    for body in [
        "nothing",
        "aaa",
        "bbb",
        "aaa bbb",
        "aaa bbb bbb",
        "ccc bbb",
        "aaa ccc",
        "aaa bbb ccc bbb",
    ] {
        for subject in ["hello", "deal"] {
            let msg = format!("Subject: {subject}\r\n\r\n{body}\r\n");
            let (lazy, eager) = e.normalize_with(msg.as_bytes(), &Envelope::new(), |view| {
                let lazy: Vec<String> = rules.evaluate(view).into_iter().map(|h| h.name).collect();
                let eager: Vec<String> = rules
                    .evaluate_all(view)
                    .into_keys()
                    .filter(|n| !n.starts_with("__"))
                    .collect();
                (lazy, eager)
            });
            let mut lazy = lazy;
            lazy.sort();
            assert_eq!(lazy, eager, "{msg:?}");
        }
    }
    assert_eq!(
        hit_names(&e, "Subject: deal\r\n\r\naaa bbb bbb ccc\r\n"),
        ["M_AND", "M_ARITH", "M_COUNT", "M_NEST", "M_OR", "PLAIN"]
    );
    assert_eq!(
        hit_names(&e, "Subject: deal\r\n\r\nccc\r\n"),
        ["M_NOT", "M_OR"]
    );
}

/// SpamAssassin 4 recodes text parts to UTF-8 before body rules (`normalize_charset`, on by
/// default); rawbody keeps the part's bytes. Checked with spamassassin 4.0.1 on
/// easy-ham-1/01081 (ISO-8859-1, 8bit): `body /\xc3\xa4/` and `rawbody /\xe4/` hit there,
/// `body /\xe4/` and `rawbody /\xc3\xa4/` do not.
#[test]
fn body_text_is_recoded_to_utf8_unless_normalize_charset_is_off() {
    let rules = "body B_UTF8 /\\xc3\\xa4/\nbody B_LATIN /\\xe4/\n\
                 rawbody R_UTF8 /\\xc3\\xa4/\nrawbody R_LATIN /\\xe4/\n";
    let msg = |charset: &str, body: &[u8]| {
        let mut m = format!(
            "Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset={charset}\r\n\
             Content-Transfer-Encoding: 8bit\r\n\r\n"
        )
        .into_bytes();
        m.extend_from_slice(body);
        m
    };
    let names = |e: &Engine, m: &[u8]| -> Vec<String> {
        let mut v: Vec<String> = e
            .scan(m, &Envelope::new())
            .rules()
            .map(|(n, _, _)| n.to_string())
            .collect();
        v.sort();
        v
    };
    let (e, _d) = engine(rules);
    let latin1 = msg("iso-8859-1", b"pystytt\xe4\xe4 itselle\r\n");
    assert_eq!(names(&e, &latin1), ["B_UTF8", "R_LATIN"]);
    // Already UTF-8 (even when declared Latin-1): the same bytes.
    let utf8 = msg("iso-8859-1", "pystyttää\r\n".as_bytes());
    assert_eq!(names(&e, &utf8), ["B_UTF8", "R_UTF8"]);
    let (off, _d2) = engine(&format!("normalize_charset 0\n{rules}"));
    assert_eq!(names(&off, &latin1), ["B_LATIN", "R_LATIN"]);
}

/// A header rule matches every value of its header joined into one text, as SpamAssassin
/// 4's Check plugin joins them: values ending in a newline concatenated, addresses (`:addr`)
/// joined with one; `tflags multiple` counts matches in that text. Every expectation here
/// was checked with `spamassassin --cf` (4.0.1).
#[test]
fn header_rules_see_the_values_joined() {
    let (e, _d) = engine(
        "header T_WS From:addr =~ /\\s/\n\
         header T_ANCHOR From:addr =~ /^b\\@y\\.example$/\n\
         header T_FIRST From:addr =~ /^a\\@x\\.example$/\n\
         header T_NOT From:addr !~ /b\\@y/\n\
         header __T_RCVD Received =~ /^from/m\ntflags __T_RCVD multiple\n\
         meta T_TWO __T_RCVD >= 2\n",
    );
    let two = "From: a@x.example, b@y.example\r\nTo: c@z.example\r\n\
               Received: from one.example by two.example\r\n\
               Received: from three.example by four.example\r\nSubject: x\r\n\r\nbody\r\n";
    assert_eq!(hit_names(&e, two), ["T_TWO", "T_WS"]);
    let one = "From: a@x.example\r\nReceived: from one.example by two.example\r\n\
               Subject: x\r\n\r\nbody\r\n";
    assert_eq!(hit_names(&e, one), ["T_FIRST", "T_NOT"]);
}

/// SpamAssassin's decoded text has LF line ends: CRLF is squashed after base64 and
/// quoted-printable decoding (and in a CRLF message). spam-2/00221's base64 HTML part hits
/// `__HAS_HREF` (`/^[^>].*?<a href=/im`) only so: an empty line's newline is the `[^>]`.
#[test]
fn rawbody_lines_end_in_lf_after_decoding() {
    // base64 of "<a href=http://a.example>\r\nx</a>\r\n\r\n<a href=http://b.example>\r\ny</a>\r\n"
    let b64 = "PGEgaHJlZj1odHRwOi8vYS5leGFtcGxlPg0KeDwvYT4NCg0KPGEgaHJlZj1odHRwOi8vYi5leGFtcGxlPg0KeTwvYT4NCg==";
    let msg = format!(
        "Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/html\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{b64}\r\n"
    );
    let (e, _d) = engine("rawbody HAS_HREF /^[^>].*?<a href=/im\nrawbody RAW_CR /\\r/\n");
    assert_eq!(hit_names(&e, &msg), ["HAS_HREF"]);
}

/// `From:name` as SpamAssassin 4.0.1's `get` gives it (each case checked with
/// `PerMsgStatus::get`): quoted parts and words run together, white space collapsed.
#[test]
fn display_names_as_spamassassin_reads_them() {
    let (e, _d) = engine(
        "header N_AP From:name =~ /^Angles Puglisi$/\nheader N_ABC From:name =~ /^a b c$/\n\
         header N_XY From:name =~ /^x y$/\nheader N_SJ From:name =~ /^Smith, John$/\n\
         header N_JQS From:name =~ /^John Q\\. Smith$/\nheader N_SPACE From:name =~ /^ $/\n",
    );
    let from = |f: &str| hit_names(&e, &format!("From: {f}\r\nSubject: x\r\n\r\nb\r\n"));
    assert_eq!(from("\"\" Angles \" Puglisi\" <a@b.com>"), ["N_AP"]);
    assert_eq!(from("\"a  b\" c <a@b.com>"), ["N_ABC"]);
    assert_eq!(from("x \"  y\" <a@b.com>"), ["N_XY"]);
    assert_eq!(from("\"Smith, John\" <a@b.com>"), ["N_SJ"]);
    assert_eq!(from("a@b.com (John  Q.  Smith)"), ["N_JQS"]);
    assert_eq!(from("\"\" <a@b.com>"), ["N_SPACE"]);
}

/// A bare `href` is the URI `href` for SpamAssassin (HTML::Parser gives a valueless
/// attribute its name as value): spam-2/00515's `<a href onclick="pops();">` makes its
/// only URIs, so `__HAS_URI` hits there.
#[test]
fn a_bare_href_attribute_is_a_uri() {
    let (e, _d) = engine("uri HAS_URI /./\nuri HREF_HOST /^http:\\/\\/www\\.href\\.com$/\n");
    let msg = "Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n\
               <html><a href onclick=\"pops();\">CLICK</a></html>\r\n";
    assert_eq!(hit_names(&e, msg), ["HAS_URI", "HREF_HOST"]);
}

/// A raw 8-bit header that is not UTF-8 reads as Windows-1252, recoded to UTF-8, as
/// SpamAssassin 4 reads it: easy-ham-1/02274's `Subject: Robbie's \xa380m deal` is `£80m`,
/// whose second UTF-8 byte `__hk_bigmoney`'s `[\xa3\xa4]` matches.
#[test]
fn raw_8bit_headers_read_as_windows_1252() {
    let (e, _d) =
        engine("header SUBJ_POUND Subject =~ /\\xc2\\xa380m/\nbody BODY_POUND /\\xa380m/\n");
    let mut msg = b"Subject: Robbie's ".to_vec();
    msg.extend_from_slice(b"\xa380m deal\r\n\r\nbody\r\n");
    let report = e.scan(&msg, &Envelope::new());
    let mut names: Vec<&str> = report.rules().map(|(n, _, _)| n).collect();
    names.sort();
    assert_eq!(names, ["BODY_POUND", "SUBJ_POUND"]);
}

/// `:addr` takes what SpamAssassin's address parser takes: `X-Sender: @ (Unverified)` is
/// no address (so it does not stop EnvelopeFrom from coming from Return-Path, as on
/// easy-ham-1/00004), and a bare `"woie"q_ewo6443@hotmail.com` reads as a phrase that is
/// an address (spam-2/00629). Both checked with PerMsgStatus::get.
#[test]
fn addresses_as_spamassassin_parses_them() {
    let (e, _d) = engine(
        "header XS_ADDR X-Sender:addr =~ /\\@/\n\
         header RT_JOINED Reply-To:addr =~ /^woieq_ewo6443\\@hotmail\\.com$/\n\
         header ENV_TB EnvelopeFrom:addr =~ /\\@tb\\.tf$/\n",
    );
    let msg = "Return-Path: <irregulars-admin@tb.tf>\r\n\
               Received: from phobos [127.0.0.1] by localhost with IMAP (fetchmail-5.9.0) for jm\r\n\
               X-Sender: @ (Unverified)\r\nFrom: Monty <monty@roscom.com>\r\n\
               Reply-To: \"woie\"q_ewo6443@hotmail.com\r\nSubject: x\r\n\r\nb\r\n";
    assert_eq!(hit_names(&e, msg), ["ENV_TB", "RT_JOINED"]);
}

#[test]
fn html_statistics_count_characters_of_the_recoded_text() {
    // SpamAssassin 4 gives its HTML parser the part recoded to characters
    // (`normalize_charset`), LF line ends: `length` and the visible text of the image ratio
    // count characters, not the bytes of the declared charset.
    let rules = "body LEN_CHARS eval:html_range('length', 60, 80)\n\
                 body LEN_BYTES eval:html_range('length', 80, 100)\n\
                 body RATIO_CHARS eval:html_image_ratio('0.15', '0.25')\n\
                 body RATIO_BYTES eval:html_image_ratio('0.05', '0.15')\n";
    let (engine, _dir) = engine(rules);
    // Ten times "中文" in Big5: 20 characters, 40 bytes, beside a 10x10 image.
    let mut msg = b"From: a@x.example\r\nSubject: hi\r\nMIME-Version: 1.0\r\n\
                    Content-Type: text/html; charset=big5\r\n\
                    Content-Transfer-Encoding: 8bit\r\n\r\n\
                    <html><body><img width=10 height=10>"
        .to_vec();
    for _ in 0..10 {
        msg.extend_from_slice(b"\xa4\xa4\xa4\xe5");
    }
    msg.extend_from_slice(b"</body></html>\r\n");
    let report = engine.scan(&msg, &Envelope::new());
    let mut names: Vec<&str> = report.rules().map(|(n, _, _)| n).collect();
    names.sort();
    assert_eq!(names, ["LEN_CHARS", "RATIO_CHARS"]);
}

#[test]
fn freemail_reply_reads_anchor_mailto_links_not_form_actions() {
    let (e, _dir) = engine(
        "freemail_domains mail.example other.example\n\
         header FM_REPLY eval:check_freemail_replyto('reply')\n",
    );
    let hit = |html: &str| {
        let msg = format!(
            "From: A <a@mail.example>\r\nSubject: x\r\nContent-Type: text/html\r\n\r\n{html}\r\n"
        );
        hits(&e, &msg).iter().any(|(n, _)| n == "FM_REPLY")
    };
    // A link to another freemail address: the reply goes elsewhere.
    assert!(hit(
        "<a href=\"mailto:b@other.example?subject=hi\">write</a>"
    ));
    // A form posting to it is not a link SpamAssassin's FreeMail plugin reads.
    assert!(!hit(
        "<form action=\"mailto:b@other.example\"><input type=submit></form>"
    ));
    // Written out in the text, it counts again.
    assert!(hit("<p>write to b@other.example</p>"));
}

#[test]
fn text_uris_without_a_valid_domain_are_dropped() {
    // Words run together ("AkkaBay.comIf") make hosts with no valid TLD: SpamAssassin
    // drops such URIs found in text, but keeps what an HTML link says.
    let (e, _dir) = engine(
        "util_rb_tld com example\nuri URI_GLUED /comIf/\nuri URI_PLAIN /^http:\\/\\/AkkaBay\\.com$/\n\
         uri URI_HREF /^http:\\/\\/glued\\.comIf/\n",
    );
    let plain = "From: a@x.example\r\nSubject: x\r\n\r\n\
                 Designs http://AkkaBay.comIf you have questions, see http://AkkaBay.com now\r\n";
    assert_eq!(hit_names(&e, plain), ["URI_PLAIN"]);
    let html = "From: a@x.example\r\nSubject: x\r\nContent-Type: text/html\r\n\r\n\
                <a href=\"http://glued.comIf\">x</a>\r\n";
    assert_eq!(hit_names(&e, html), ["URI_GLUED", "URI_HREF"]);
}

#[test]
fn raw_header_folds_end_in_lf_and_keep_stray_crs() {
    // SpamAssassin keeps a folded header's line break as LF (CRLF squashed); only a CR
    // inside a line is a CR (`__CR_IN_SUBJ`).
    let (e, _d) = engine(
        "header CR_IN_SUBJ Subject:raw =~ /\\015/\nheader LF_FOLD Subject:raw =~ /packaging\\n\\s+un/\n\
         mimeheader CR_IN_CT Content-Type:raw =~ /\\015/\n",
    );
    for eol in ["\n", "\r\n"] {
        let folded = format!(
            "From: a@x.example{eol}Subject: makes packaging{eol}    unnecessarily difficult{eol}\
             Content-Type: text/plain;{eol} charset=us-ascii{eol}{eol}body{eol}"
        );
        assert_eq!(hit_names(&e, &folded), ["LF_FOLD"], "line ends {eol:?}");
    }
    let stray = "From: a@x.example\nSubject: odd\rsubject\n\nbody\n";
    assert_eq!(hit_names(&e, stray), ["CR_IN_SUBJ"]);
    // Mixed line ends: Message.pm reads a message whose first and last lines end in LF as
    // LF and squashes nothing, so a Subject line ending in CRLF keeps its CR, in a fold too.
    let mixed = "From: a@x.example\nSubject: makes packaging\r\n    unnecessarily difficult\r\n\
                 Content-Type: text/plain\n\nbody\n";
    assert_eq!(hit_names(&e, mixed), ["CR_IN_SUBJ"]);
    // The same lines in a message Message.pm reads as CRLF (its last line ends in CRLF).
    let squashed = "From: a@x.example\nSubject: makes packaging\r\n    unnecessarily difficult\r\n\
                    Content-Type: text/plain\n\nbody\r\n";
    assert_eq!(hit_names(&e, squashed), ["LF_FOLD"]);
}

#[test]
fn freemail_body_parse_rewrites_the_body_later_rules_see() {
    // SpamAssassin's FreeMail plugin strips quoted addresses from the body array in place
    // when check_freemail_replyto reads the body (a freemail From, no Reply-To): body rules
    // then miss them. Only then: with no such eval, or a From that is not freemail, the
    // address stays.
    let msg = |from: &str| {
        format!(
            "From: A <{from}>\r\nSubject: x\r\n\r\nSpamassassin-talk mailing list\r\n\
             Spamassassin-talk@lists.example.net\r\nhttps://lists.example.net/listinfo\r\n"
        )
    };
    let body_rule = "body HAS_ANY_EMAIL /\\w@\\S+\\.\\w/\n";
    let (with_eval, _d1) = engine(&format!(
        "freemail_domains mail.example\nheader __FM_REPLY eval:check_freemail_replyto('reply')\n\
         {body_rule}"
    ));
    assert!(hit_names(&with_eval, &msg("a@mail.example")).is_empty());
    assert_eq!(
        hit_names(&with_eval, &msg("a@corp.example")),
        ["HAS_ANY_EMAIL"]
    );
    let (without, _d2) = engine(&format!("freemail_domains mail.example\n{body_rule}"));
    assert_eq!(
        hit_names(&without, &msg("a@mail.example")),
        ["HAS_ANY_EMAIL"]
    );
}

#[test]
fn a_part_named_html_is_rendered_as_html() {
    // SpamAssassin's effective type: an octet-stream attachment named `*.html` is HTML.
    let (e, _d) = engine(
        "body BUY /Buy now/\nrawbody DOCWRITE /document\\.write/\n\
         body TAG_SCRIPT eval:html_tag_exists('script')\nbody RAW_TAG /<body>/\n",
    );
    let msg = |name: &str| {
        format!(
            "From: a@x.example\r\nSubject: x\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
             Content-Type: text/plain\r\n\r\nsee the attachment\r\n--b\r\n\
             Content-Type: application/octet-stream; name=\"{name}\"\r\n\r\n\
             <html><body><script>document.write('x')</script>Buy now</body></html>\r\n--b--\r\n"
        )
    };
    assert_eq!(
        hit_names(&e, &msg("offer.HTML")),
        ["BUY", "DOCWRITE", "TAG_SCRIPT"]
    );
    assert!(hit_names(&e, &msg("offer.bin")).is_empty());
}

#[test]
fn encoded_words_in_east_asian_charsets_decode() {
    // SpamAssassin decodes RFC 2047 words with Perl's Encode: GB2312, Big5, EUC-KR,
    // Shift_JIS and ISO-2022-JP words read as text, not replacement characters.
    let (e, _d) = engine("header SUBJ_NIHAO Subject =~ /\\xe4\\xbd\\xa0\\xe5\\xa5\\xbd/\n");
    let msg = "From: a@x.example\r\nSubject: =?GB2312?B?xOO6ww==?=\r\n\r\nbody\r\n";
    assert_eq!(hit_names(&e, msg), ["SUBJ_NIHAO"]);
    let big5 = "From: a@x.example\r\nSubject: =?big5?B?p0Gmbg==?=\r\n\r\nbody\r\n";
    assert_eq!(hit_names(&e, big5), ["SUBJ_NIHAO"]);
}

#[test]
fn mimeheader_reads_the_parts_of_attached_messages() {
    // SpamAssassin's part tree continues into a message/rfc822 attachment: a mimeheader rule
    // sees the attached message's own header and its parts' headers (easy-ham-1/01542, a
    // bounce carrying a signed message). Encoded (base64) attachments alike.
    let (e, _d) = engine(
        "mimeheader CD_FILE Content-Disposition =~ /filename/\n\
         mimeheader INNER_SUBJ Subject =~ /inner/\n",
    );
    let inner = "Subject: inner\r\nContent-Type: multipart/mixed; boundary=\"in\"\r\n\r\n--in\r\n\
                 Content-Type: text/plain\r\n\r\nhello\r\n--in\r\n\
                 Content-Type: application/octet-stream\r\n\
                 Content-Disposition: attachment; filename=\"a.bin\"\r\n\r\nAAAA\r\n--in--\r\n";
    let outer = |attached: &str, cte: &str| {
        format!(
            "From: a@x.example\r\nSubject: bounce\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/report; boundary=\"out\"\r\n\r\n--out\r\n\
             Content-Type: text/plain\r\n\r\nundeliverable\r\n--out\r\n\
             Content-Type: message/rfc822\r\n{cte}\r\n{attached}\r\n--out--\r\n"
        )
    };
    assert_eq!(hit_names(&e, &outer(inner, "")), ["CD_FILE", "INNER_SUBJ"]);
    let b64 = String::from_utf8(support::base64(inner.as_bytes())).expect("ascii");
    assert_eq!(
        hit_names(&e, &outer(&b64, "Content-Transfer-Encoding: base64\r\n")),
        ["CD_FILE", "INNER_SUBJ"]
    );
    // Without the attachment neither hits: the outer parts have no such header.
    assert!(hit_names(&e, &outer("Subject: other\r\n\r\nplain\r\n", "")).is_empty());
}

#[test]
fn encoded_words_decode_in_place_and_addresses_come_from_the_raw_value() {
    // spam-1/00263: an encoded word glued to `@domain`. SpamAssassin decodes it in place
    // for ordinary header rules (`121@FreeBSD.ORG`, no space added) but reads `:addr` from
    // the raw value, where the address keeps the encoded word.
    let (e, _d) = engine(
        "header TO_DECODED To =~ /^121\\@FreeBSD\\.ORG$/\n\
         header TO_ADDR_RAW To:addr =~ /^=\\?iso-2022-jp\\?B\\?MTIx\\?=\\@FreeBSD\\.ORG$/\n\
         header TO_ADDR_DECODED To:addr =~ /^121\\@/\n",
    );
    let msg =
        "From: a@x.example\r\nTo: =?iso-2022-jp?B?MTIx?=@FreeBSD.ORG\r\nSubject: s\r\n\r\nbody\r\n";
    assert_eq!(hit_names(&e, msg), ["TO_ADDR_RAW", "TO_DECODED"]);
}

#[test]
fn character_references_under_256_stay_single_bytes_on_an_ascii_page() {
    // SpamAssassin 4.0.1's body text for an ASCII HTML part: `&#146;` is the byte 0x92
    // (Perl's byte string) unless a reference above 255 made the text Unicode, when every
    // character is UTF-8 (checked with get_decoded_stripped_body_text_array).
    let (e, _d) = engine("body LATIN1 /one\\x92s/\nbody UTF8 /one\\xc2\\x92s/\n");
    let page = |html: &str| {
        format!(
            "From: a@x.example\r\nSubject: s\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n{html}\r\n"
        )
    };
    assert_eq!(hit_names(&e, &page("<p>one&#146;s two</p>")), ["LATIN1"]);
    assert_eq!(
        hit_names(&e, &page("<p>one&#146;s two</p><p>three&#8217;s</p>")),
        ["UTF8"]
    );
}

#[test]
fn addresses_skip_angle_brackets_in_quoted_names_and_junk_after_a_literal() {
    // SpamAssassin 4.0.1's From:addr / From:name for spam-1/00210's and spam-2/00135's
    // shapes.
    let (e, _d) = engine(
        "header ADDR From:addr =~ /^karen\\@example\\.com$/\n\
         header NAME From:name =~ /^<Karen Duarte$/\n\
         header RP Return-Path:addr =~ /^u\\@\\[1086695621\\]$/\n\
         header TO To:addr =~ /^a\\@b$/\n\
         header CC_NAME Cc:name =~ /^My Documents$/\n",
    );
    let msg = "Return-Path: <u@[1086695621] [ufa]>\r\nFrom: \"<Karen Duarte\" <karen@example.com>\r\n\
               To: a@b@21cn.com\r\nCc: qvaC:\"My Documents\" <c@example.com>\r\n\
               Subject: s\r\n\r\nbody\r\n";
    // A second `@` ends the domain (spam-2/00080); a group label is no part of a name
    // (spam-2/00916).
    assert_eq!(hit_names(&e, msg), ["ADDR", "CC_NAME", "NAME", "RP", "TO"]);
}

#[test]
fn title_to_subject_ratio_counts_the_subject_with_its_newline() {
    // HTMLEval's `length($pms->get('Subject'))`: the value plus its newline, so an empty
    // Subject is 1 long (any title is then far longer) and only a missing one is skipped.
    let (e, _d) = engine("body TITLE_LONG eval:html_title_subject_ratio('3.5')\n");
    let msg = |subject: &str| {
        format!(
            "From: a@x.example\r\n{subject}Content-Type: text/html\r\n\r\n\
             <html><head><title>Cell Booster Antenna</title></head><body>x</body></html>\r\n"
        )
    };
    assert_eq!(hit_names(&e, &msg("Subject: \r\n")), ["TITLE_LONG"]);
    // 20 / 6 is under 3.5; without the newline 20 / 5 would be over.
    assert!(hit_names(&e, &msg("Subject: Line?      \r\n")).is_empty());
    assert!(hit_names(&e, &msg("")).is_empty());
}

/// `ALL:raw` is the header block as received (PerMsgStatus reads `get_pristine_header`),
/// not the fields rebuilt as `Name: value`: `__HDRS_MISSP`'s `/^Subject:\S/ism` sees a
/// missing space, and the fields keep their folding and, in a CRLF message, their CRs.
/// Checked against SpamAssassin 4.0.1 (tests/rules_sa/mutate.py's `header-case`).
#[test]
fn all_raw_is_the_header_block_as_received() {
    let (e, _d) = engine(
        "header T_MISSP ALL:raw =~ /^(?:Subject|From):\\S/ism\n\
         header T_MISSP_ALL ALL =~ /^(?:Subject|From):\\S/ism\n\
         header T_FOLD ALL:raw =~ /^To: a\\@b\\.example,\\r?\\n\\tc\\@d\\.example\\r?$/m\n\
         header T_CR ALL:raw =~ /\\r\\n/\n\
         header T_MBOX ALL:raw =~ /^From /m\n",
    );
    let lf = "From x@y.example  Sat Sep  7 15:00:46 2002\nsUbJeCt:hello\n\
              To: a@b.example,\n\tc@d.example\n\nbody\n";
    assert_eq!(hit_names(&e, lf), ["T_FOLD", "T_MISSP"]);
    let crlf = lf.replace('\n', "\r\n");
    assert_eq!(hit_names(&e, &crlf), ["T_CR", "T_FOLD", "T_MISSP"]);
    assert!(hit_names(&e, "Subject: fine\nFrom: a@b.example\n\nbody\n").is_empty());
}

/// `check_body_length` reads Message.pm's `pristine_body_length`: the body's bytes as
/// received, so the CRs of a CRLF message count (tests/rules_sa/mutate.py's `crlf`).
#[test]
fn body_length_counts_the_crs_of_a_crlf_message() {
    let (e, _d) = engine("body T_LE_20 eval:check_body_length('20')\n");
    let body = "012345678\n012345678\n";
    assert_eq!(body.len(), 20);
    let lf = format!("Subject: x\n\n{body}");
    assert_eq!(hit_names(&e, &lf), ["T_LE_20"]);
    assert!(hit_names(&e, &lf.replace('\n', "\r\n")).is_empty());
}

/// `mimeheader` reads each part's field as MIMEHeader does, with `get_header` in scalar
/// context: the last of several, and for a part without the field an empty text (Perl's
/// undef). Checked with SpamAssassin 4.0.1 on the same two messages.
#[test]
fn mimeheader_reads_the_last_field_of_each_part() {
    let (e, _d) = engine(
        "mimeheader T_FIRST_CT Content-Type =~ /text\\/html/\n\
         mimeheader T_LAST_CT Content-Type =~ /text\\/plain/\n\
         mimeheader T_EMPTY_CT Content-Type =~ /^$/\n",
    );
    let two = "From: a@b.example\nSubject: x\nContent-Type: text/html\n\
               Content-Type: text/plain\n\nhello\n";
    assert_eq!(hit_names(&e, two), ["T_LAST_CT"]);
    let bare = "From: a@b.example\nSubject: x\nMIME-Version: 1.0\n\
                Content-Type: multipart/mixed; boundary=b\n\n--b\n\nno header part\n--b--\n";
    assert_eq!(hit_names(&e, bare), ["T_EMPTY_CT"]);
}

/// Of two Content-Type fields that disagree, SpamAssassin types the part by the last
/// (`header()` in scalar context), the engine's default reading by the first: the rule
/// texts follow SpamAssassin, in a message's own header and in a part's. Checked with
/// tests/rules_sa/mutate.py's `conflicting-ctype` (all 199 variants agree) and with
/// SpamAssassin 4.0.1 on these three messages.
#[test]
fn the_last_of_conflicting_content_types_types_the_body() {
    let (e, _d) = engine("body T_RENDERED /bold words/\nrawbody T_TAG /<b>bold/\n");
    let top = "From: a@b.example\nSubject: x\nContent-Type: text/plain\n\
               Content-Type: text/html\n\n<html><b>bold</b> words</html>\n";
    assert_eq!(hit_names(&e, top), ["T_RENDERED", "T_TAG"]);
    let part = "From: a@b.example\nSubject: x\nMIME-Version: 1.0\n\
                Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\
                Content-Type: text/html\n\n<html><b>bold</b> words</html>\n--b--\n";
    assert_eq!(hit_names(&e, part), ["T_RENDERED", "T_TAG"]);
    // The other way round, the text is plain: its tags stay words.
    let plain = top.replace(
        "text/plain\nContent-Type: text/html",
        "text/html\nContent-Type: text/plain",
    );
    assert_eq!(hit_names(&e, &plain), ["T_TAG"]);
}

/// A header rule runs only when every literal set it needs is in its text (the gate and the
/// further sets of `Compiled::also`): the values must be the ones the regex gives, for `=~`
/// and `!~`, with every field present, with one missing, and with them out of order.
#[test]
fn header_rules_needing_several_literals() {
    let (engine, _dir) = engine(
        r#"
header   ORDER_FTS   ALL =~ /\nFrom: .{1,80}?\nTo: .{1,80}?\nSubject: .{1,80}?\nX-Mailer: /s
score    ORDER_FTS   1
header   NOT_FTS     ALL !~ /\nFrom: .{1,80}?\nTo: .{1,80}?\nSubject: .{1,80}?\nX-Mailer: /s
score    NOT_FTS     1
header   SUBJ_TWO    Subject =~ /cheap.{0,20}watches/i
score    SUBJ_TWO    1
"#,
    );
    let base = "Received: from x by y; Mon, 1 Jan 2024 00:00:00 +0000\n";
    let all = format!(
        "{base}From: a@b.example\nTo: c@d.example\nSubject: Cheap Rolex WATCHES\nX-Mailer: m\n\nhi\n"
    );
    assert_eq!(hit_names(&engine, &all), ["ORDER_FTS", "SUBJ_TWO"]);
    let no_mailer =
        format!("{base}From: a@b.example\nTo: c@d.example\nSubject: cheap as chips\n\nhi\n");
    assert_eq!(hit_names(&engine, &no_mailer), ["NOT_FTS"]);
    let reordered = format!(
        "{base}To: c@d.example\nFrom: a@b.example\nSubject: watches, cheap\nX-Mailer: m\n\nhi\n"
    );
    assert_eq!(hit_names(&engine, &reordered), ["NOT_FTS"]);
}

#[test]
fn rules_without_literals_find_their_lines_through_their_filters() {
    // None of these has a literal to gate on, and none matches ordinary text, so they are
    // grouped into filter unions: a rule then runs only on the lines where its union
    // matched (a rule left alone, on the lines where its own filter matched).
    let (engine, _dir) = engine(
        r#"
body     LONGW      /\b(?:[a-z]{6,}[\s\.]+){3}/
score    LONGW      1
body     SPAN       /[a-z]{7}\s[0-9]{5}/
score    SPAN       1
body     __MULTI    /[0-9]{3}x/
tflags   __MULTI    multiple maxhits=10
meta     MULTI3     __MULTI == 3
score    MULTI3     1
body     CODE       /[A-Z]{6}[0-9]{2}/
score    CODE       1
body     CODE_NS    /[A-Z]{6}[0-9]{2}/
tflags   CODE_NS    nosubject
score    CODE_NS    1
body     LOOK       /(?<!x)\d{3}y/
score    LOOK       1
"#,
    );
    let msg = "From: a@b.example\nTo: c@d.example\nSubject: code ABCDEF12\n\n\
first paragraph says x123y and 111x\n\n\
ends with abcdefg\n\n\
12345 starts the next one\n\n\
quiet\n\n\
here 222x and 333x, then a123y\n\n\
several lengthy lowercase strings follow\n";
    let hits = hits(&engine, msg);
    let names: Vec<&str> = hits.iter().map(|(n, _)| n.as_str()).collect();
    // SPAN matches the joined text across two paragraphs, never one paragraph; CODE is
    // only in the Subject, which CODE_NS does not see.
    // MULTI3: every match on every paragraph counted.
    assert_eq!(names, ["CODE", "LONGW", "LOOK", "MULTI3"], "{hits:?}");
}

#[test]
fn rules_sharing_their_literals_run_together_on_their_lines() {
    // NOW, START and TWO need `pills` or `tablets` (NEVER longer literals, CHEAP `cheap`),
    // NOSUBJ and NOSUBJ2 `deal pills` or `deal tablets`: each set shares its lines and is
    // matched against each line together. Each rule must still hit only on a line of its
    // own.
    let (engine, _dir) = engine(
        r#"
body     CHEAP     /\bcheap\s+(?:pills|tablets)\b/i
score    CHEAP     1
body     NOW       /(?:pills|tablets)\s+now$/
score    NOW       1
body     START     /^(?:pills|tablets)/
score    START     1
body     TWO       /(?:pills|tablets).{0,20}(?:pills|tablets)/
score    TWO       1
body     NEVER     /(?:pills|tablets)zzz/
score    NEVER     1
body     NOSUBJ    /deal (?:pills|tablets)/i
tflags   NOSUBJ    nosubject
score    NOSUBJ    1
body     NOSUBJ2   /deal (?:pills|tablets)\b/i
tflags   NOSUBJ2   nosubject
score    NOSUBJ2   1
body     SUBJ      /deal (?:pills|tablets)/i
score    SUBJ      1
"#,
    );
    let msg = "From: a@b.example\nTo: c@d.example\nSubject: deal pills\n\n\
we sell Cheap\ntablets here\n\n\
pills now\n\n\
nothing to see\n\n\
tablets, and more pills\n";
    // CHEAP matches across a line break inside one paragraph (SpamAssassin's body lines
    // are paragraphs, their white space one space); `deal pills` is only in the Subject,
    // which NOSUBJ does not see.
    assert_eq!(
        hit_names(&engine, msg),
        ["CHEAP", "NOW", "START", "SUBJ", "TWO"]
    );
    let none = "From: a@b.example\nTo: c@d.example\nSubject: hi\n\nno such words\n";
    assert!(hit_names(&engine, none).is_empty());
}
