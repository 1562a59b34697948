//! Sessions: start one on a shared bot, read, rename, override, delete, history.

use serde::Deserialize;

use super::{Parley, found};
use crate::bot::BotConfig;
use crate::error::CoreError;
use crate::ids::{BotId, SessionId};
use crate::limits::{self, ClientAddress};
use crate::message::{Conversation, Message};
use crate::policy;
use crate::ports::{MessageRange, Page, PageRequest};
use crate::principal::Principal;
use crate::quota::QuotaOutcome;
use crate::session::{Overrides, Participant, Session};
use crate::values::{PageLimit, SystemPrompt, Temperature, Title};

/// `POST /chat-session`: which bot, by id or by share code (exactly one).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewSession {
    #[serde(alias = "chat_config_id")]
    pub chat_config_id: Option<String>,
    #[serde(alias = "share_code")]
    pub share_code: Option<String>,
    pub title: Option<String>,
}

/// A started session; a guest (no account) also gets the token bound to it.
#[derive(Clone, Debug)]
pub struct SessionStart {
    pub session: Session,
    pub bot: BotConfig,
    /// True when the caller is anonymous and needs a guest token for this session.
    pub needs_guest_token: bool,
}

/// `PUT /session/{id}`: a new title, and overrides where the bot allows them.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionChanges {
    pub title: Option<String>,
    pub model: Option<String>,
    #[serde(alias = "system_prompt")]
    pub system_prompt: Option<String>,
    pub temperature: Option<f64>,
}

impl Parley {
    /// Finds the bot a session or room is to be opened on, as the caller may see it.
    pub(super) async fn bot_for_new_conversation(
        &self,
        principal: &Principal,
        chat_config_id: Option<&str>,
        share_code: Option<&str>,
    ) -> Result<BotConfig, CoreError> {
        let bot = match (chat_config_id, share_code) {
            (Some(id), None) => found(self.ports.bots.get(&BotId::parse(id)?).await)?,
            (None, Some(code)) => self.bot_by_share_code(code).await?,
            _ => {
                return Err(CoreError::validation(
                    "chatConfigId",
                    "give exactly one of chatConfigId or shareCode",
                ));
            }
        };
        policy::bot_serving(principal, &bot)?;
        Ok(bot)
    }

    /// `POST /chat-session`.
    pub async fn start_session(
        &self,
        principal: &Principal,
        input: NewSession,
        from: ClientAddress,
    ) -> Result<SessionStart, CoreError> {
        let participant = match principal {
            Principal::User(user) => Participant::User {
                user_id: user.id.clone(),
            },
            Principal::Anonymous => Participant::Guest,
            // A guest token is bound to its one session; it does not open others.
            Principal::Guest { .. } => return Err(CoreError::Unauthorized),
        };
        let title = input.title.as_deref().map(Title::parse).transpose()?;
        let bot = self
            .bot_for_new_conversation(principal, input.chat_config_id.as_deref(), input.share_code.as_deref())
            .await?;
        self.charge_session_start(principal, &bot, from).await?;
        let now = self.now();
        let session = Session {
            session_id: SessionId::from_trusted(self.ports.ids.new_id()),
            chat_config_id: bot.chat_config_id.clone(),
            participant,
            title: title.unwrap_or_else(|| bot.title.clone()),
            overrides: Overrides::default(),
            created_at: now,
            updated_at: now,
        };
        self.ports.sessions.create(&session).await?;
        let needs_guest_token = matches!(principal, Principal::Anonymous);
        Ok(SessionStart {
            session,
            bot,
            needs_guest_token,
        })
    }

    /// Charges a session start, all or nothing: for a guest the bot's budget of new guest
    /// sessions this hour (across all addresses), and for everyone the address's session
    /// starts this minute. The bot's budget comes first, so that a refusal names the
    /// longer wait when both are spent. Only starts that found their bot are counted.
    async fn charge_session_start(
        &self,
        principal: &Principal,
        bot: &BotConfig,
        from: ClientAddress,
    ) -> Result<(), CoreError> {
        let rates = self.settings.rate_limits;
        let now = self.now();
        let mut charges = Vec::with_capacity(2);
        if matches!(principal, Principal::Anonymous) {
            charges.push(limits::window_charge(
                "guest-sessions",
                bot.chat_config_id.as_str(),
                rates.guest_sessions_per_bot_per_hour,
                3600,
                now,
                "new guest sessions on this bot per hour",
            ));
        }
        charges.push(limits::window_charge(
            "session-starts",
            &from.key(),
            rates.session_starts_per_minute,
            60,
            now,
            "sessions started from your network address per minute",
        ));
        match self.ports.quotas.try_consume(&charges).await? {
            QuotaOutcome::Granted => Ok(()),
            QuotaOutcome::Denied { key } => Err(self.refusal(&charges, &key)),
        }
    }

    /// The session, if the caller is its participant.
    pub async fn get_session(&self, principal: &Principal, id: &SessionId) -> Result<Session, CoreError> {
        let session = found(self.ports.sessions.get(id).await)?;
        policy::session_access(principal, &session)?;
        Ok(session)
    }

    /// `GET /chat-sessions`: the caller's sessions, newest first.
    pub async fn list_sessions(&self, principal: &Principal, page: &PageRequest) -> Result<Page<Session>, CoreError> {
        let user = policy::require_user(principal)?;
        Ok(self.ports.sessions.list_by_user(&user.id, page).await?)
    }

    /// `PUT /session/{id}`.
    pub async fn update_session(
        &self,
        principal: &Principal,
        id: &SessionId,
        changes: SessionChanges,
    ) -> Result<Session, CoreError> {
        let mut session = self.get_session(principal, id).await?;
        if let Some(t) = changes.title.as_deref() {
            session.title = Title::parse(t)?;
        }
        let wants_override =
            changes.model.is_some() || changes.system_prompt.is_some() || changes.temperature.is_some();
        if wants_override {
            let bot = found(self.ports.bots.get(&session.chat_config_id).await)?;
            if !bot.allow_session_overrides {
                return Err(CoreError::Forbidden("this bot does not allow session overrides"));
            }
            if let Some(m) = changes.model.as_deref() {
                session.overrides.model = Some(self.catalog.allowed(m)?);
            }
            if let Some(p) = changes.system_prompt.as_deref() {
                session.overrides.system_prompt = Some(SystemPrompt::parse(p)?);
            }
            if let Some(t) = changes.temperature {
                session.overrides.temperature = Some(Temperature::parse(t)?);
            }
        }
        session.updated_at = self.now();
        self.ports.sessions.update(&session).await?;
        Ok(session)
    }

    /// `DELETE /session/{id}`: the session and its messages.
    pub async fn delete_session(&self, principal: &Principal, id: &SessionId) -> Result<(), CoreError> {
        self.get_session(principal, id).await?;
        self.ports.sessions.delete(id).await?;
        Ok(())
    }

    /// `GET /session/{id}/messages?before=&limit=`: a page of history, oldest first, and
    /// the cursor of the older page.
    pub async fn session_history(
        &self,
        principal: &Principal,
        id: &SessionId,
        before: Option<u64>,
        limit: Option<i64>,
    ) -> Result<(Vec<Message>, Option<u64>), CoreError> {
        self.get_session(principal, id).await?;
        self.history(&Conversation::Session(id.clone()), before, None, limit)
            .await
    }

    /// A page of a conversation: `after` reads forward (polling), otherwise backward.
    pub(super) async fn history(
        &self,
        conversation: &Conversation,
        before: Option<u64>,
        after: Option<u64>,
        limit: Option<i64>,
    ) -> Result<(Vec<Message>, Option<u64>), CoreError> {
        const HISTORY_DEFAULT: u32 = 50;
        let limit = PageLimit::parse(limit, HISTORY_DEFAULT)?.get();
        // One more than asked tells whether another page follows.
        let (range, forward) = match (after, before) {
            (Some(_), Some(_)) => return Err(CoreError::validation("after", "give after or before, not both")),
            (Some(after), None) => (
                MessageRange::After {
                    after,
                    limit: limit + 1,
                },
                true,
            ),
            (None, before) => (
                MessageRange::Before {
                    before,
                    limit: limit + 1,
                },
                false,
            ),
        };
        let mut messages = self.ports.messages.list(conversation, range).await?;
        let more = messages.len() > limit as usize;
        if more {
            if forward {
                messages.truncate(limit as usize);
            } else {
                messages.remove(0);
            }
        }
        // Pollers that reach the end keep the seq of the last message they saw.
        let next = match (more, forward) {
            (false, _) => None,
            (true, true) => messages.last().map(|m| m.seq),
            (true, false) => messages.first().map(|m| m.seq),
        };
        Ok((messages, next))
    }
}
