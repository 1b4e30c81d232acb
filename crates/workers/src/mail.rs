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

/// How to reach the SMTP server.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
    pub tls: SmtpTls,
}

impl std::fmt::Debug for SmtpSettings {
    /// Never print the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("from", &self.from)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain SMTP: only for a relay on the same host or a test server.
    None,
    StartTls,
    /// Implicit TLS (port 465).
    Tls,
}

impl std::str::FromStr for SmtpTls {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(SmtpTls::None),
            "starttls" => Ok(SmtpTls::StartTls),
            "tls" => Ok(SmtpTls::Tls),
            other => Err(format!("smtp_tls must be none, starttls or tls, not '{other}'")),
        }
    }
}

/// Sends through an SMTP server with lettre. One message per recipient, so recipients do not
/// see each other's addresses.
pub struct SmtpMailer {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: lettre::message::Mailbox,
}

impl SmtpMailer {
    pub fn new(settings: &SmtpSettings) -> Result<Self, String> {
        use lettre::transport::smtp::authentication::Credentials;
        use lettre::{AsyncSmtpTransport, Tokio1Executor};
        let builder = match settings.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host),
            SmtpTls::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.host).map_err(|e| e.to_string())?
            }
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&settings.host).map_err(|e| e.to_string())?,
        };
        let mut builder = builder.port(settings.port).timeout(Some(std::time::Duration::from_secs(15)));
        if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        let from =
            settings.from.parse().map_err(|e| format!("smtp_from '{}' is not an address: {e}", settings.from))?;
        Ok(SmtpMailer { transport: builder.build(), from })
    }
}

impl Mailer for SmtpMailer {
    fn send<'a>(&'a self, message: &'a Message) -> MailFuture<'a> {
        Box::pin(async move {
            use lettre::AsyncTransport;
            for to in &message.to {
                let mailbox: lettre::message::Mailbox =
                    to.parse().map_err(|e| format!("'{to}' is not an address: {e}"))?;
                let email = lettre::Message::builder()
                    .from(self.from.clone())
                    .to(mailbox)
                    .subject(&message.subject)
                    .header(lettre::message::header::ContentType::TEXT_PLAIN)
                    .body(message.body.clone())
                    .map_err(|e| e.to_string())?;
                self.transport.send(email).await.map_err(|e| format!("SMTP: {e}"))?;
            }
            Ok(())
        })
    }
}
