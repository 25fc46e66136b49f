//! The engine: built once, shared by every thread, scanning messages through the pipeline
//! `mime -> unpack -> match -> score -> policy`.

use crate::archive::{self, Budget, Limits, Unpack};
use crate::config::Config;
use crate::envelope::Envelope;
use crate::error::Result;
use crate::filetype::FileType;
use crate::mime::{self, Reading};
use crate::object::{Object, ObjectId, ObjectInfo, Origin};
use crate::policy::{MessageFacts, Policy};
use crate::report::{Finding, Report};
use crate::rules::RuleSet;
use crate::signatures::SignatureSet;
use crate::view::MessageView;
use std::borrow::Cow;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

/// Builds an [`Engine`].
///
/// ```
/// use mailwarden::{EngineBuilder, Limits};
/// let engine = EngineBuilder::new()
///     .limits(Limits { max_levels: 10, ..Limits::default() })
///     .build()
///     .unwrap();
/// assert_eq!(engine.limits().max_levels, 10);
/// ```
#[derive(Debug, Clone, Default)]
pub struct EngineBuilder {
    config: Config,
}

impl EngineBuilder {
    /// A builder with the embedded defaults: built-in EICAR and GTUBE, Debian's amavisd-new
    /// limits, the default policy.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder that starts from a configuration.
    pub fn from_config(config: Config) -> Self {
        EngineBuilder { config }
    }

    /// Sets the limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.config.limits = limits;
        self
    }

    /// Sets the policy.
    pub fn policy(mut self, policy: Policy) -> Self {
        self.config.policy = policy;
        self
    }

    /// Adds a ClamAV signature database file or directory.
    pub fn signatures(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.signatures.databases.push(path.into());
        self
    }

    /// Adds a SpamAssassin rule file or directory.
    pub fn rules(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.rules.paths.push(path.into());
        self
    }

    /// Turns the built-in signatures and rules (EICAR, GTUBE) on or off.
    pub fn builtins(mut self, on: bool) -> Self {
        self.config.signatures.builtin = on;
        self.config.rules.builtin = on;
        self
    }

    /// Stops scanning at the first virus (amavisd-new `$first_infected_stops_scan`).
    pub fn stop_on_first(mut self, on: bool) -> Self {
        self.config.signatures.stop_on_first = on;
        self
    }

    /// Scores messages with the Bayes classifier of this configuration (its database path
    /// and constants). Rule files that declare `check_bayes` rules score the result;
    /// without them the built-in `BAYES_00 .. BAYES_999` rules with SpamAssassin's scores do.
    pub fn bayes(mut self, bayes: crate::bayes::BayesConfig) -> Self {
        self.config.bayes = bayes;
        self
    }

    /// The configuration built so far.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Compiles signatures and rules and validates the settings.
    ///
    /// # Errors
    ///
    /// A limit or policy value out of range, or a signature or rule path that cannot be read.
    pub fn build(self) -> Result<Engine> {
        let config = self.config;
        config.limits.validate()?;
        config.policy.validate()?;
        let signatures = SignatureSet::load(&config.signatures)?;
        let bayes = match (&config.bayes.path, config.bayes.enabled) {
            (Some(_), true) => Some(crate::bayes::Bayes::open(&config.bayes)?),
            _ => None,
        };
        let rules = RuleSet::load_scored(&config.rules, bayes.is_some())?;
        let bayes_by_rules = bayes.is_some() && rules.runs_eval("check_bayes");
        let mut policy = config.policy.clone();
        if let Some(required) = rules.required_score() {
            policy.tag2_level = required;
        }
        policy
            .add_headers
            .extend(
                rules
                    .add_headers()
                    .map(|(when, name, template)| crate::policy::AddHeader {
                        when: when.to_string(),
                        name: name.to_string(),
                        template: template.to_string(),
                    }),
            );
        if let Some(tag) = rules.subject_rewrite()
            && policy.spam_subject_tag == Policy::default().spam_subject_tag
        {
            policy.spam_subject_tag = format!("{tag} ");
        }
        Ok(Engine {
            inner: Arc::new(Inner {
                limits: config.limits.clone(),
                policy,
                signatures,
                rules,
                stop_on_first: config.signatures.stop_on_first,
                bayes,
                bayes_by_rules,
                config,
            }),
        })
    }
}

#[derive(Debug)]
struct Inner {
    config: Config,
    limits: Limits,
    policy: Policy,
    signatures: SignatureSet,
    rules: RuleSet,
    stop_on_first: bool,
    /// The Bayes classifier, when a database is configured.
    bayes: Option<crate::bayes::Bayes>,
    /// The loaded rule files score Bayes (`check_bayes` rules); else the built-in BAYES_xx.
    bayes_by_rules: bool,
}

/// A compiled, immutable filter.
///
/// # Cloning
///
/// An `Engine` is one `Arc` inside: cloning is cheap, and every clone shares the compiled
/// signatures and rules. It is `Send + Sync`; build one at start-up and share it with every
/// thread.
///
/// # Fallibility
///
/// [`Engine::scan`] never fails and never panics on message content: malformed input becomes
/// findings, and work cut short by a limit becomes an `Unchecked` finding, never "clean".
///
/// # Example
///
/// ```
/// use mailwarden::{Engine, Envelope, Category};
/// let engine = Engine::with_defaults();
/// let msg = b"From: a@example.org\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\
///             Subject: hi\r\n\r\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n";
/// let report = engine.scan(msg, &Envelope::new());
/// assert_eq!(report.category, Category::Spam);
/// assert_eq!(report.verdict.reply.to_string(), "554 5.7.1 Message seems to be spam, rejected");
/// ```
#[derive(Debug, Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl Default for Engine {
    fn default() -> Self {
        Self::with_defaults()
    }
}

impl Engine {
    /// A builder.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::new()
    }

    /// The engine with the embedded defaults (built-in EICAR and GTUBE, default limits and
    /// policy). Needs no files.
    pub fn with_defaults() -> Engine {
        EngineBuilder::new()
            .build()
            .expect("the embedded defaults are valid")
    }

    /// Builds an engine from a TOML configuration file.
    pub fn from_config_file(path: impl AsRef<std::path::Path>) -> Result<Engine> {
        EngineBuilder::from_config(Config::from_file(path)?).build()
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// The configuration the engine was built from.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The compiled signatures.
    pub fn signatures(&self) -> &SignatureSet {
        &self.inner.signatures
    }

    /// The compiled rules.
    pub fn rules(&self) -> &RuleSet {
        &self.inner.rules
    }

    /// The Bayes classifier, when one is configured.
    pub fn bayes(&self) -> Option<&crate::bayes::Bayes> {
        self.inner.bayes.as_ref()
    }

    /// A scanner that takes a message in chunks, as a milter receives it.
    pub fn scanner(&self) -> Scanner {
        Scanner {
            engine: self.clone(),
            buffer: Vec::new(),
            envelope: Envelope::default(),
        }
    }

    /// Normalizes a message (MIME walk and unpacking, no signatures or rules) and hands its
    /// view to `f`: what the Bayes learner tokenizes.
    pub fn normalize_with<R>(
        &self,
        message: &[u8],
        envelope: &Envelope,
        f: impl FnOnce(&MessageView<'_, '_>) -> R,
    ) -> R {
        let mut budget = Budget::new(&self.inner.limits, message.len() as u64);
        let mut findings = Vec::new();
        let (objects, headers) = self.unpack(message, &mut budget, &mut findings);
        f(&MessageView {
            raw: message,
            headers: &headers,
            objects: &objects,
            envelope,
            bayes: None,
        })
    }

    /// mime + unpack: one worklist over every object, the message first.
    fn unpack<'a>(
        &self,
        message: &'a [u8],
        budget: &mut Budget,
        findings: &mut Vec<Finding>,
    ) -> (Vec<Object<'a>>, Vec<crate::mime::header::HeaderField>) {
        let inner = &*self.inner;
        let mut objects: Vec<Object<'_>> = vec![Object {
            path: String::new(),
            parent: None,
            depth: 0,
            origin: Origin::Message,
            name: None,
            other_names: Vec::new(),
            declared_type: Some("message/rfc822".into()),
            charset: None,
            detected: FileType::Mail,
            data: Cow::Borrowed(message),
            encoded: None,
        }];
        let mut headers = Vec::new();
        let mut seen: HashSet<(usize, u64, bool)> = HashSet::new();
        let mut next = 0;
        while next < objects.len() {
            let id = next;
            next += 1;
            if budget.is_exhausted() {
                break;
            }
            let walk_as_mail = objects[id].origin == Origin::Message
                || objects[id].origin == Origin::EmbeddedMessage
                || (objects[id].detected == FileType::Mail && carries_files(&objects[id]));
            if walk_as_mail {
                let depth = objects[id].depth;
                if id != 0 && !budget.enter_level(depth + 1, &objects[id].path) {
                    continue;
                }
                let base = objects.len();
                let found = walk_message(&objects[id], id, base, budget, &mut seen);
                if id == 0 {
                    headers = found.header.fields;
                    for issue in found.header.issues {
                        findings.push(Finding::BadHeader {
                            kind: issue.kind,
                            path: String::new(),
                            detail: issue.detail,
                        });
                    }
                }
                findings.extend(found.findings);
                objects.extend(found.objects);
            } else if let Some(unpacker) = archive::unpacker_for_object(&objects[id]) {
                let depth = objects[id].depth;
                if !budget.enter_level(depth + 1, &objects[id].path) {
                    continue;
                }
                let mut out = Unpack {
                    budget,
                    children: Vec::new(),
                    findings: Vec::new(),
                    unsupported_unchecked: inner.policy.unsupported_formats_unchecked,
                };
                unpacker.unpack(&objects[id], &mut out);
                let Unpack {
                    children,
                    findings: found,
                    ..
                } = out;
                findings.extend(found);
                objects.extend(children.into_iter().map(|mut c| {
                    c.parent = Some(id);
                    c
                }));
            }
        }
        (objects, headers)
    }

    /// Scans one message: the whole job.
    pub fn scan(&self, message: &[u8], envelope: &Envelope) -> Report {
        let inner = &*self.inner;
        let size = message.len() as u64;
        let mut budget = Budget::new(&inner.limits, size);
        let mut findings: Vec<Finding> = Vec::new();
        if inner.limits.max_message_size > 0 && size > inner.limits.max_message_size {
            findings.push(Finding::Oversized {
                size,
                limit: inner.limits.max_message_size,
            });
        }

        let (objects, headers) = self.unpack(message, &mut budget, &mut findings);
        findings.extend(budget.take_findings());
        inner.config.banned.check(&objects, &mut findings);

        // match
        let mut matches = Vec::new();
        'objects: for object in &objects {
            matches.clear();
            inner.signatures.scan(object, &mut matches);
            for m in matches.drain(..) {
                findings.push(Finding::Virus {
                    name: m.name,
                    path: object.path.clone(),
                });
                if inner.stop_on_first {
                    break 'objects;
                }
            }
        }

        // score
        let mut view = MessageView {
            raw: message,
            headers: &headers,
            objects: &objects,
            envelope,
            bayes: None,
        };
        view.bayes = inner.bayes.as_ref().and_then(|b| b.probability(&view));
        let hits = inner.rules.evaluate(&view);
        let mut score = hits.iter().fold(0.0, |sum, h| sum + h.score);
        findings.extend(hits.into_iter().map(|h| Finding::Rule {
            name: h.name,
            score: h.score,
            description: h.description,
        }));
        if let (Some(p), false) = (view.bayes, inner.bayes_by_rules) {
            for &(name, _, _, points, description) in crate::bayes::classifier::bayes_hits(p) {
                score += points;
                findings.push(Finding::Rule {
                    name: name.to_string(),
                    score: points,
                    description: description.to_string(),
                });
            }
        }

        // policy
        let subject = headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("Subject"))
            .map(|h| h.decoded());
        let facts = MessageFacts {
            subject: subject.as_deref(),
            has_spam_headers: headers.iter().any(|h| {
                h.name.len() > 7 && h.name.as_bytes()[..7].eq_ignore_ascii_case(b"X-Spam-")
            }),
            version: concat!("mailwarden-", env!("CARGO_PKG_VERSION")),
        };
        let decision = inner.policy.decide(&findings, score, envelope, &facts);
        Report {
            category: decision.category,
            verdict: decision.verdict,
            recipients: decision.recipients,
            score,
            required_score: inner.policy.tag2_level,
            findings,
            header_edits: decision.header_edits,
            objects: objects.iter().map(ObjectInfo::from).collect(),
            size,
        }
    }
}

/// The objects and findings of walking one message under every reading it needs.
struct MailWalk<'a> {
    objects: Vec<Object<'a>>,
    findings: Vec<Finding>,
    header: mime::header::HeaderBlock,
}

fn fingerprint(data: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    data.hash(&mut h);
    h.finish()
}

/// Walks a message object under the default reading, then under each alternative reading its
/// anomalies call for, keeping objects no earlier reading produced.
/// Whether an object is a file that was carried inside something (an archive member, an
/// attachment, an uuencode/yEnc/BinHex block, a `data:` URI), as opposed to inline text. A
/// message found in one is walked as mail: fuzzing found an uuencoded `.eml` whose own
/// attachment (EICAR) was never decoded, so the message came back clean.
fn carries_files(o: &Object<'_>) -> bool {
    match o.origin {
        Origin::ArchiveMember
        | Origin::Uuencode
        | Origin::Yenc
        | Origin::BinHex
        | Origin::DataUri => true,
        // An alternative reading's parts are MIME parts too (among them embedded messages
        // only that reading finds).
        Origin::MimePart | Origin::AlternateReading => !o
            .declared_type
            .as_deref()
            .is_some_and(|t| t.to_ascii_lowercase().starts_with("text/")),
        _ => false,
    }
}

fn walk_message<'a>(
    root: &Object<'a>,
    root_id: ObjectId,
    base: ObjectId,
    budget: &mut Budget,
    seen: &mut HashSet<(usize, u64, bool)>,
) -> MailWalk<'a> {
    let borrowed: Option<&'a [u8]> = match &root.data {
        Cow::Borrowed(b) => Some(b),
        Cow::Owned(_) => None,
    };
    let mut result = MailWalk {
        objects: Vec::new(),
        findings: Vec::new(),
        header: Default::default(),
    };
    let alternate = root.origin == Origin::AlternateReading;
    let mut readings = vec![Reading::default()];
    let mut i = 0;
    while i < readings.len() {
        let reading = readings[i];
        let walked = match borrowed {
            Some(data) => mime::walk(data, &root.path, root.depth, &reading, budget),
            None => {
                let w = mime::walk(&root.data, &root.path, root.depth, &reading, budget);
                mime::walk::Walked {
                    objects: w.objects.into_iter().map(into_owned).collect(),
                    findings: w.findings,
                    header: w.header,
                    ambiguities: w.ambiguities,
                }
            }
        };
        let mut local_map: Vec<Option<usize>> = Vec::with_capacity(walked.objects.len());
        for mut o in walked.objects {
            // The same bytes read as a message by one reading and as a part by another are
            // walked as mail only in the first: both are kept.
            let key = (
                o.data.len(),
                fingerprint(&o.data),
                o.origin == Origin::EmbeddedMessage,
            );
            if i > 0 && !seen.insert(key) {
                local_map.push(None);
                continue;
            }
            if i == 0 {
                seen.insert(key);
            }
            if i > 0 {
                o.origin = Origin::AlternateReading;
                o.path = format!("alt{i}:{}", o.path);
            } else if alternate {
                // Inside a message only an alternative reading found: alternative too, so
                // the rule texts (SpamAssassin's one reading) leave it out.
                o.origin = Origin::AlternateReading;
            }
            o.parent = Some(match o.parent {
                Some(local) => local_map
                    .get(local)
                    .copied()
                    .flatten()
                    .map_or(root_id, |idx| base + idx),
                None => root_id,
            });
            local_map.push(Some(result.objects.len()));
            result.objects.push(o);
        }
        if i == 0 {
            result.header = walked.header;
            result.findings = walked.findings;
            if walked.ambiguities.boundary {
                budget.note(
                    crate::report::UncheckedReason::AmbiguousMime,
                    &root.path,
                    "Ambiguous MIME: conflicting boundary parameters",
                );
            }
            readings.extend(walked.ambiguities.alternatives());
        }
        i += 1;
    }
    result
}

fn into_owned(o: Object<'_>) -> Object<'static> {
    Object {
        path: o.path,
        parent: o.parent,
        depth: o.depth,
        origin: o.origin,
        name: o.name,
        other_names: Vec::new(),
        declared_type: o.declared_type,
        charset: o.charset,
        detected: o.detected,
        data: Cow::Owned(o.data.into_owned()),
        // The encoded form borrows from a message that is going away; the rule texts fall
        // back to `data`.
        encoded: None,
    }
}

/// Scans a message given in chunks.
///
/// Create one per connection with [`Engine::scanner`], set the envelope, feed the message with
/// [`Scanner::write`] as it arrives, and call [`Scanner::finish`]; the report is the same as
/// [`Engine::scan`] gives for the whole message. `finish` leaves the scanner ready for the next
/// message on the same connection.
#[derive(Debug)]
pub struct Scanner {
    engine: Engine,
    buffer: Vec<u8>,
    envelope: Envelope,
}

impl Scanner {
    /// The envelope of the message being received.
    pub fn envelope_mut(&mut self) -> &mut Envelope {
        &mut self.envelope
    }

    /// Replaces the envelope.
    pub fn set_envelope(&mut self, envelope: Envelope) {
        self.envelope = envelope;
    }

    /// Appends a chunk of the message.
    pub fn write(&mut self, chunk: &[u8]) {
        self.buffer.extend_from_slice(chunk);
    }

    /// Bytes received so far.
    pub fn len(&self) -> usize {
        self.buffer.len()
    }

    /// Whether nothing was received yet.
    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    /// Scans what was received and resets the scanner (message and envelope).
    pub fn finish(&mut self) -> Report {
        let report = self.engine.scan(&self.buffer, &self.envelope);
        self.reset();
        report
    }

    /// Drops the message and envelope received so far (SMTP RSET, milter abort).
    pub fn reset(&mut self) {
        self.buffer.clear();
        self.envelope = Envelope::default();
    }
}
