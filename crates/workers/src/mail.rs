//! Mail delivery. Without SMTP settings messages go to the log, as DESIGN §7 says.

use std::future::Future;
use std::pin::Pin;

pub type MailFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// A resolved message: addresses, subject, body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
}

pub trait Mailer: Send + Sync {
    fn send<'a>(&'a self, message: &'a Message) -> MailFuture<'a>;
}

/// Writes each message to the log instead of sending it.
pub struct LogMailer;

impl Mailer for LogMailer {
    fn send<'a>(&'a self, message: &'a Message) -> MailFuture<'a> {
        Box::pin(async move {
            tracing::info!(to = ?message.to, subject = %message.subject, body = %message.body, "mail (no SMTP server configured)");
            Ok(())
        })
    }
}
