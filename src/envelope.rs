//! The SMTP envelope that accompanies a message.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// What the MTA knows about a message besides its bytes: the client, the HELO name, the envelope
/// sender and recipients. Everything is optional; a message scanned from a file has none of it.
///
/// ```
/// use mailwarden::Envelope;
/// let env = Envelope::new()
///     .client_address("192.0.2.1".parse().unwrap())
///     .helo("mail.example.org")
///     .sender("alice@example.org")
///     .recipient("bob@example.net");
/// assert_eq!(env.recipients.len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The SMTP client's address.
    pub client_address: Option<IpAddr>,
    /// The SMTP client's reverse-DNS name, if the MTA looked it up.
    pub client_name: Option<String>,
    /// The HELO/EHLO argument.
    pub helo: Option<String>,
    /// The MAIL FROM address (empty string for the null sender `<>`).
    pub sender: Option<String>,
    /// The RCPT TO addresses, in order.
    pub recipients: Vec<String>,
}

impl Envelope {
    /// An empty envelope.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the client address.
    pub fn client_address(mut self, addr: IpAddr) -> Self {
        self.client_address = Some(addr);
        self
    }

    /// Sets the client's reverse-DNS name.
    pub fn client_name(mut self, name: impl Into<String>) -> Self {
        self.client_name = Some(name.into());
        self
    }

    /// Sets the HELO name.
    pub fn helo(mut self, helo: impl Into<String>) -> Self {
        self.helo = Some(helo.into());
        self
    }

    /// Sets the envelope sender.
    pub fn sender(mut self, sender: impl Into<String>) -> Self {
        self.sender = Some(sender.into());
        self
    }

    /// Adds a recipient.
    pub fn recipient(mut self, rcpt: impl Into<String>) -> Self {
        self.recipients.push(rcpt.into());
        self
    }
}
