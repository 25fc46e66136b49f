//! Signature scanning.
//!
//! A [`SignatureSet`] is compiled once when the engine is built and matched over every object.
//! Built in, with no files at all: the EICAR test file, found anywhere in any decoded object (a
//! body pattern, so a leading newline or appended data do not hide it, unlike ClamAV's hash
//! signature).

use crate::object::Object;
use memchr::memmem;

/// The EICAR anti-virus test file, assembled from two halves so that this source file is not
/// itself detected by scanners that read it.
pub const EICAR: &[u8] = concat!(
    r"X5O!P%@AP[4\PZX54(P^)7CC)7}$",
    "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
)
.as_bytes();

/// The name EICAR is reported under (ClamAV's body signature name).
pub const EICAR_NAME: &str = "Eicar-Test-Signature";

/// A signature that matched an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureMatch {
    /// The signature name.
    pub name: String,
}

/// A compiled set of signatures.
#[derive(Debug, Clone)]
pub struct SignatureSet {
    eicar: Option<memmem::Finder<'static>>,
}

impl SignatureSet {
    /// Only the built-in signatures.
    pub fn builtin() -> Self {
        SignatureSet {
            eicar: Some(memmem::Finder::new(EICAR).into_owned()),
        }
    }

    /// Loads the signature databases a configuration names (files or directories, as
    /// `clamscan -d`), plus the built-in signatures when it asks for them.
    ///
    /// Not implemented yet: only the built-in signatures load; a database path is an error
    /// so that nobody believes their database is in use.
    pub fn load(config: &crate::config::SignatureConfig) -> crate::Result<Self> {
        if let Some(path) = config.databases.first() {
            return Err(crate::Error::new(
                crate::ErrorKind::Signatures,
                format!(
                    "{}: loading ClamAV databases is not implemented yet",
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
        vec![format!(
            "signatures: {} loaded (built-in EICAR)",
            self.len()
        )]
    }

    /// No signatures at all.
    pub fn empty() -> Self {
        SignatureSet { eicar: None }
    }

    /// Number of signatures.
    pub fn len(&self) -> usize {
        usize::from(self.eicar.is_some())
    }

    /// Whether the set has no signatures.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Matches every signature against one object, appending matches to `out`.
    pub fn scan(&self, object: &Object<'_>, out: &mut Vec<SignatureMatch>) {
        if let Some(f) = &self.eicar {
            if f.find(&object.data).is_some() {
                out.push(SignatureMatch {
                    name: EICAR_NAME.to_string(),
                });
            }
        }
    }
}
