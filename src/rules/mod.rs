//! Rule scoring.
//!
//! A [`RuleSet`] is compiled once when the engine is built and evaluated over each message's
//! texts. Built in, with no files at all: GTUBE, an ordinary case-sensitive body rule scored
//! 1000 as in SpamAssassin, so GTUBE inside an encoded or HTML part still hits.

use crate::view::MessageView;

/// The GTUBE test string.
pub const GTUBE: &[u8] = b"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

/// One rule that hit.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleHit {
    /// Rule name.
    pub name: String,
    /// Score it contributes.
    pub score: f64,
    /// Its description.
    pub description: String,
}

/// A compiled rule set.
#[derive(Debug, Clone)]
pub struct RuleSet {
    gtube: bool,
    required_score: Option<f64>,
}

impl RuleSet {
    /// Only the built-in rules.
    pub fn builtin() -> Self {
        RuleSet {
            gtube: true,
            required_score: None,
        }
    }

    /// Loads the rule files a configuration names (files or directories, in SpamAssassin's
    /// load order), plus the built-in rules when it asks for them.
    ///
    /// Not implemented yet: only the built-in rules load; a rule path is an error so that
    /// nobody believes their rules are in use.
    pub fn load(config: &crate::config::RuleConfig) -> crate::Result<Self> {
        if let Some(path) = config.paths.first() {
            return Err(crate::Error::new(
                crate::ErrorKind::Rules,
                format!(
                    "{}: loading SpamAssassin rules is not implemented yet",
                    path.display()
                ),
            ));
        }
        Ok(if config.builtin {
            Self::builtin()
        } else {
            Self::empty()
        })
    }

    /// What was loaded, for `mailwarden check-config`: one line per item.
    pub fn describe(&self) -> Vec<String> {
        vec![format!("rules: {} loaded (built-in GTUBE)", self.len())]
    }

    /// No rules at all.
    pub fn empty() -> Self {
        RuleSet {
            gtube: false,
            required_score: None,
        }
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        usize::from(self.gtube)
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `required_score` from the loaded rule files, if any set it.
    pub fn required_score(&self) -> Option<f64> {
        self.required_score
    }

    /// Evaluates every rule over the message.
    pub fn evaluate(&self, message: &MessageView<'_, '_>) -> Vec<RuleHit> {
        let mut hits = Vec::new();
        if self.gtube
            && message
                .body_objects()
                .any(|o| memchr::memmem::find(&o.data, GTUBE).is_some())
        {
            hits.push(RuleHit {
                name: "GTUBE".into(),
                score: 1000.0,
                description: "Generic Test for Unsolicited Bulk Email".into(),
            });
        }
        hits
    }
}
