//! What a scan returns: findings, score, verdicts and header edits.

use crate::object::ObjectInfo;
use serde::Serialize;

/// A message category, in amavisd-new's order of precedence: the highest category found
/// decides the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Nothing found (amavisd-new CC_CLEAN, 1).
    Clean,
    /// Larger than the configured message size limit (CC_OVERSIZED, 3).
    Oversized,
    /// Header anomalies (CC_BADH, 4).
    BadHeader,
    /// Score at or above the tag2 level but below the kill level (CC_SPAMMY, 5).
    Spammy,
    /// Score at or above the kill level (CC_SPAM, 6).
    Spam,
    /// Some content could not be checked (CC_UNCHECKED, 7).
    Unchecked,
    /// Banned name or type (CC_BANNED, 8).
    Banned,
    /// Virus found (CC_VIRUS, 9).
    Virus,
}

impl Category {
    /// The name used in JSON and configuration (`bad-header`, `virus`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Category::Clean => "clean",
            Category::Oversized => "oversized",
            Category::BadHeader => "bad-header",
            Category::Spammy => "spammy",
            Category::Spam => "spam",
            Category::Unchecked => "unchecked",
            Category::Banned => "banned",
            Category::Virus => "virus",
        }
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What the MTA should do with the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Deliver unchanged (apart from trace headers).
    Accept,
    /// Deliver with the header edits applied.
    Tag,
    /// Hold in quarantine.
    Quarantine,
    /// Accept and drop silently.
    Discard,
    /// Reject in the SMTP conversation.
    Reject,
    /// Temporary failure; the client retries.
    Tempfail,
}

impl Action {
    /// The name used in JSON (`accept`, `reject`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Tag => "tag",
            Action::Quarantine => "quarantine",
            Action::Discard => "discard",
            Action::Reject => "reject",
            Action::Tempfail => "tempfail",
        }
    }
}

/// An SMTP reply: `554 5.7.1 Message contains Eicar-Test-Signature virus, rejected`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmtpReply {
    /// The basic reply code (554).
    pub code: u16,
    /// The enhanced status code (`5.7.1`).
    pub enhanced: String,
    /// The human-readable text.
    pub text: String,
}

impl std::fmt::Display for SmtpReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.code, self.enhanced, self.text)
    }
}

/// The decision for the message or for one recipient.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The deciding category.
    pub category: Category,
    /// The action to take.
    pub action: Action,
    /// The SMTP reply to give.
    pub reply: SmtpReply,
}

/// How a header edit applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HeaderOp {
    /// Add a new header field.
    Add,
    /// Replace the value of the first field with this name (add it if absent).
    Change,
    /// Delete every field with this name.
    Delete,
}

/// One change to the message header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeaderEdit {
    /// Add, change or delete.
    pub op: HeaderOp,
    /// Field name.
    pub name: String,
    /// New value (empty for delete).
    pub value: String,
}

/// Why an object could not be (completely) checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UncheckedReason {
    /// Nesting deeper than `max_levels` (amavisd-new $MAXLEVELS).
    MaxLevels,
    /// More objects than `max_files` (amavisd-new $MAXFILES).
    MaxFiles,
    /// More decoded bytes than the expansion quota.
    MaxQuota,
    /// One object larger than `max_object_size`.
    MaxObjectSize,
    /// Compression ratio above `max_ratio`.
    MaxRatio,
    /// The scan's time budget ran out.
    MaxTime,
    /// More header fields than `max_headers`.
    MaxHeaders,
    /// Encrypted content (encrypted zip entries, ...).
    Encrypted,
    /// The MIME structure can be read in two incompatible ways (CVE-2024-28054).
    AmbiguousMime,
    /// Content in a recognised format that is not decoded (compressed RAR members, UDF-only
    /// disk images).
    UnsupportedFormat,
    /// Content that could not be decoded (unsupported compression method, corrupt data).
    Undecodable,
}

impl UncheckedReason {
    /// The name used in reports and on the command line (`max_levels`, `encrypted`, ...).
    pub fn name(self) -> &'static str {
        match self {
            UncheckedReason::MaxLevels => "max_levels",
            UncheckedReason::MaxFiles => "max_files",
            UncheckedReason::MaxQuota => "max_quota",
            UncheckedReason::MaxObjectSize => "max_object_size",
            UncheckedReason::MaxRatio => "max_ratio",
            UncheckedReason::MaxTime => "max_time",
            UncheckedReason::MaxHeaders => "max_headers",
            UncheckedReason::Encrypted => "encrypted",
            UncheckedReason::AmbiguousMime => "ambiguous_mime",
            UncheckedReason::UnsupportedFormat => "unsupported_format",
            UncheckedReason::Undecodable => "undecodable",
        }
    }

    /// amavisd-new's CC_UNCHECKED sub-code: 1 encrypted, 2 over limits, 3 ambiguous MIME.
    pub fn amavis_subcode(self) -> u8 {
        match self {
            UncheckedReason::Encrypted => 1,
            UncheckedReason::AmbiguousMime => 3,
            _ => 2,
        }
    }
}

impl std::fmt::Display for UncheckedReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A kind of header anomaly, as amavisd-new names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BadHeaderKind {
    /// Non-ASCII bytes in a header (amavisd-new: "Non-encoded 8-bit data").
    EightBit,
    /// NUL or other control characters in a header.
    Control,
    /// A header line longer than 998 characters (RFC 5322).
    LongLine,
    /// A continuation line containing only whitespace.
    WhitespaceLine,
    /// A line in the header that is not `name: value` nor a continuation.
    Syntax,
    /// No Date header.
    MissingDate,
    /// No From header.
    MissingFrom,
    /// A header that may appear once appears more than once.
    Duplicate,
    /// An error in MIME structure headers (amavisd-new's "MIME error").
    Mime,
}

impl BadHeaderKind {
    /// The kind's name (`8bit`, `control`, `long_line`, ...).
    pub fn name(self) -> &'static str {
        match self {
            BadHeaderKind::EightBit => "8bit",
            BadHeaderKind::Control => "control",
            BadHeaderKind::LongLine => "long_line",
            BadHeaderKind::WhitespaceLine => "whitespace_line",
            BadHeaderKind::Syntax => "syntax",
            BadHeaderKind::MissingDate => "missing_date",
            BadHeaderKind::MissingFrom => "missing_from",
            BadHeaderKind::Duplicate => "duplicate",
            BadHeaderKind::Mime => "mime",
        }
    }
}

/// A kind of MIME structure anomaly: a place where two programs may read the message
/// differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AnomalyKind {
    /// A header block ended by a bare CR, or bare CR line ends (Outlook reads them as ends).
    BareCr,
    /// More than one Content-Type field in one header block.
    DuplicateContentType,
    /// More than one Content-Transfer-Encoding field in one header block.
    DuplicateEncoding,
    /// More than one `boundary=` parameter (same value).
    DuplicateBoundary,
    /// Two different `boundary=` parameters: ambiguous, makes the message UNCHECKED.
    ConflictingBoundary,
    /// A multipart whose closing boundary never comes.
    UnclosedBoundary,
    /// A multipart without any boundary line, or without a boundary parameter.
    MissingBoundary,
    /// A nested multipart whose boundary starts with an enclosing one's (or the reverse).
    PrefixBoundary,
    /// Non-whitespace content before the first boundary.
    Preamble,
    /// Non-whitespace content after the closing boundary.
    Epilogue,
    /// An unknown or malformed Content-Transfer-Encoding.
    BadEncoding,
    /// Invalid characters in base64 or quoted-printable content.
    BadEncodedData,
    /// A multipart with no body parts.
    EmptyMultipart,
    /// A line longer than RFC 5322 allows in a body.
    LongBodyLine,
    /// NUL bytes in a text body.
    NulInBody,
    /// A Content-Type or Content-Disposition whose parameters lack their `;`
    /// (`text/html charset=x`, `attachment filename=a.exe`): read as readers read it.
    LooseParameters,
    /// A `multipart` Content-Type without its subtype but with a boundary: read as
    /// text/plain (RFC 2045), and also as multipart/mixed.
    BareMultipart,
    /// Delimiter lines after a multipart's closing delimiter: read as its epilogue, and
    /// also as more parts (readers that take every delimiter line as a part boundary).
    PartsAfterClose,
    /// A multipart with a base64 or quoted-printable Content-Transfer-Encoding (RFC 2045
    /// forbids it): split as it stands, and also decoded first as some readers do.
    EncodedMultipart,
}

impl AnomalyKind {
    /// The kind's name.
    pub fn name(self) -> &'static str {
        match self {
            AnomalyKind::BareCr => "bare_cr",
            AnomalyKind::DuplicateContentType => "duplicate_content_type",
            AnomalyKind::DuplicateEncoding => "duplicate_encoding",
            AnomalyKind::DuplicateBoundary => "duplicate_boundary",
            AnomalyKind::ConflictingBoundary => "conflicting_boundary",
            AnomalyKind::UnclosedBoundary => "unclosed_boundary",
            AnomalyKind::MissingBoundary => "missing_boundary",
            AnomalyKind::PrefixBoundary => "prefix_boundary",
            AnomalyKind::Preamble => "preamble",
            AnomalyKind::Epilogue => "epilogue",
            AnomalyKind::BadEncoding => "bad_encoding",
            AnomalyKind::BadEncodedData => "bad_encoded_data",
            AnomalyKind::EmptyMultipart => "empty_multipart",
            AnomalyKind::LongBodyLine => "long_body_line",
            AnomalyKind::NulInBody => "nul_in_body",
            AnomalyKind::LooseParameters => "loose_parameters",
            AnomalyKind::BareMultipart => "bare_multipart",
            AnomalyKind::PartsAfterClose => "parts_after_close",
            AnomalyKind::EncodedMultipart => "encoded_multipart",
        }
    }
}

/// One fact found by a scan.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Finding {
    /// A signature matched.
    Virus {
        /// Signature name (`Eicar-Test-Signature`).
        name: String,
        /// Object path.
        path: String,
    },
    /// A banned name or type.
    Banned {
        /// The rule that matched.
        rule: String,
        /// Object path.
        path: String,
        /// What matched (the name or type).
        detail: String,
    },
    /// An object that could not be (completely) checked.
    Unchecked {
        /// Why.
        reason: UncheckedReason,
        /// Object path.
        path: String,
        /// Details (the limit's value, the format).
        detail: String,
    },
    /// A header anomaly.
    BadHeader {
        /// amavisd-new's kind.
        kind: BadHeaderKind,
        /// Object path of the header's part (empty for the top-level header).
        path: String,
        /// Details (the field name, the line number).
        detail: String,
    },
    /// A MIME structure anomaly.
    Anomaly {
        /// Which anomaly.
        kind: AnomalyKind,
        /// Object path of the part it was found in.
        path: String,
        /// Details.
        detail: String,
    },
    /// A scoring rule hit.
    Rule {
        /// Rule name (`GTUBE`).
        name: String,
        /// Score it contributed.
        score: f64,
        /// Description (`describe` line).
        description: String,
    },
    /// The message is larger than the configured size limit.
    Oversized {
        /// Message size in bytes.
        size: u64,
        /// The limit.
        limit: u64,
    },
}

/// The result of scanning one message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The deciding category.
    pub category: Category,
    /// The overall verdict.
    pub verdict: Verdict,
    /// Per-recipient verdicts, in envelope order (empty when the envelope has no recipients).
    pub recipients: Vec<RecipientVerdict>,
    /// The spam score (sum of rule hits).
    pub score: f64,
    /// The score at which the message is spam (the policy's tag2 level).
    pub required_score: f64,
    /// Every finding, in pipeline order.
    pub findings: Vec<Finding>,
    /// Header edits to apply when the message is delivered.
    pub header_edits: Vec<HeaderEdit>,
    /// Every object scanned (without its bytes).
    pub objects: Vec<ObjectInfo>,
    /// Message size in bytes.
    pub size: u64,
}

/// A verdict for one recipient.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecipientVerdict {
    /// The recipient address.
    pub recipient: String,
    /// Its verdict.
    pub verdict: Verdict,
}

impl Report {
    /// The action to take (shortcut for `verdict.action`).
    pub fn action(&self) -> Action {
        self.verdict.action
    }

    /// Names of the viruses found, first found first, without repeats.
    pub fn viruses(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for f in &self.findings {
            if let Finding::Virus { name, .. } = f
                && !names.contains(&name.as_str())
            {
                names.push(name);
            }
        }
        names
    }

    /// The rule hits: (name, score, description).
    pub fn rules(&self) -> impl Iterator<Item = (&str, f64, &str)> {
        self.findings.iter().filter_map(|f| match f {
            Finding::Rule {
                name,
                score,
                description,
            } => Some((name.as_str(), *score, description.as_str())),
            _ => None,
        })
    }

    /// SpamAssassin's "Content analysis details" table for the rule hits, as its
    /// `_SUMMARY_` report template prints it: the score against the required score, then
    /// one line per rule (points, name, description), the description wrapped at 78
    /// columns. Rules are listed by score, highest first, then by name.
    ///
    /// ```text
    /// Content analysis details:   (1000.0 points, 5.0 required)
    ///
    ///  pts rule name              description
    /// ---- ---------------------- --------------------------------------------------
    /// 1000 GTUBE                  BODY: Generic Test for Unsolicited Bulk Email
    /// ```
    pub fn spam_report(&self) -> String {
        let mut rules: Vec<(&str, f64, &str)> = self.rules().collect();
        rules.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        let mut out = format!(
            "Content analysis details:   ({:.1} points, {:.1} required)\n\n \
             pts rule name              description\n\
             ---- ---------------------- --------------------------------------------------\n",
            self.score, self.required_score
        );
        for (name, score, description) in rules {
            // SpamAssassin's "%4s": one decimal while it fits in four columns.
            let mut pts = format!("{score:.1}");
            if pts.len() > 4 {
                pts = format!("{score:.0}");
            }
            let mut line = format!("{pts:>4} {name:<22} ");
            let indent = " ".repeat(28);
            let mut width = line.len();
            for (i, word) in description.split_whitespace().enumerate() {
                if i > 0 && width + 1 + word.len() > 78 {
                    line.push('\n');
                    line.push_str(&indent);
                    width = indent.len();
                } else if i > 0 {
                    line.push(' ');
                    width += 1;
                }
                line.push_str(word);
                width += word.len();
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// The unchecked findings: (reason, path, detail).
    pub fn unchecked(&self) -> impl Iterator<Item = (UncheckedReason, &str, &str)> {
        self.findings.iter().filter_map(|f| match f {
            Finding::Unchecked {
                reason,
                path,
                detail,
            } => Some((*reason, path.as_str(), detail.as_str())),
            _ => None,
        })
    }

    /// Whether the message was flagged: a threat category (spammy, spam, unchecked, banned,
    /// virus) or an action other than delivery. Bad headers and oversized messages that the
    /// policy passes are reported but not flagged. The command line's exit code follows this.
    pub fn is_flagged(&self) -> bool {
        self.category >= Category::Spammy
            || !matches!(self.verdict.action, Action::Accept | Action::Tag)
    }

    /// The report as a JSON value (the same shape `mailwarden scan --json` prints).
    pub fn to_json(&self) -> serde_json::Value {
        let anomalies: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|f| matches!(f, Finding::Anomaly { .. } | Finding::BadHeader { .. }))
            .collect();
        let unchecked: Vec<serde_json::Value> = self
            .unchecked()
            .map(|(reason, path, detail)| {
                serde_json::json!({"reason": reason, "path": path, "detail": detail})
            })
            .collect();
        let rules: Vec<serde_json::Value> = self
            .rules()
            .map(|(name, score, description)| {
                serde_json::json!({"name": name, "score": score, "description": description})
            })
            .collect();
        serde_json::json!({
            "category": self.category,
            "action": self.verdict.action,
            "score": round1(self.score),
            "required_score": self.required_score,
            "viruses": self.viruses(),
            "banned": self.findings.iter().filter(|f| matches!(f, Finding::Banned{..})).collect::<Vec<_>>(),
            "unchecked": unchecked,
            "rules": rules,
            "anomalies": anomalies,
            "smtp_reply": self.verdict.reply.to_string(),
            "headers": self.header_edits,
            "recipients": self.recipients,
            "objects": self.objects,
            "size": self.size,
        })
    }
}

fn round1(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
