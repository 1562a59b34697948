//! Sessions: start one on a shared bot, read, rename, override, delete, history.

use super::{Parley, found};
use crate::bot::{BotConfig, OverridePolicy};
use crate::error::CoreError;
use crate::ids::{BotId, SessionId, ShareCode};
use crate::limits::{self, ClientAddress};
use crate::message::{Conversation, Message, MessageStatus, Role};
use crate::policy::{self, BotAccess};
use crate::ports::{MessageRange, Page, PageRequest};
use crate::principal::Principal;
use crate::quota::QuotaOutcome;
use crate::session::{Overrides, Participant, Session};
use crate::values::{PageLimit, SystemPrompt, Temperature, Title, parse_seq};

/// `POST /chat-session`: which bot, by id or by share code (exactly one).
#[derive(Clone, Debug, Default)]
pub struct NewSession {
    pub chat_config_id: Option<String>,
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
#[derive(Clone, Debug, Default)]
pub struct SessionChanges {
    pub title: Option<String>,
    pub model: Option<String>,
    pub system_prompt: Option<String>,
    pub temperature: Option<f64>,
}

impl Parley {
    /// Finds the bot a session or room is to be opened on, and the share code that
    /// opens it (`None` for the owner, whom the link does not govern). The owner may
    /// name their bot by its id; everyone else needs its share code, which AI Maker
    /// clients send as `chatConfigId`, so a value there that is not the caller's own
    /// bot is taken for a share code.
    pub(super) async fn bot_for_new_conversation(
        &self,
        principal: &Principal,
        chat_config_id: Option<&str>,
        share_code: Option<&str>,
    ) -> Result<(BotConfig, Option<ShareCode>), CoreError> {
        let bot = match (chat_config_id, share_code) {
            (Some(reference), None) => {
                if BotId::parse(reference).is_err() && ShareCode::parse(reference).is_err() {
                    return Err(CoreError::validation(
                        "chatConfigId",
                        "is neither a bot id nor a share code",
                    ));
                }
                match self.own_bot(principal, reference).await? {
                    Some(bot) => return Ok((bot, None)),
                    None => self.bot_by_share_code(reference).await?,
                }
            }
            (None, Some(code)) => self.bot_by_share_code(code).await?,
            _ => {
                return Err(CoreError::validation(
                    "chatConfigId",
                    "give exactly one of chatConfigId or shareCode",
                ));
            }
        };
        let opened_with = match policy::bot_chat(principal, &bot)? {
            BotAccess::Owner => None,
            BotAccess::Admin | BotAccess::Friend => Some(bot.share_code.clone()),
        };
        Ok((bot, opened_with))
    }

    /// The caller's own bot, if `reference` is the id of one.
    async fn own_bot(&self, principal: &Principal, reference: &str) -> Result<Option<BotConfig>, CoreError> {
        let (Some(user), Ok(id)) = (principal.user(), BotId::parse(reference)) else {
            return Ok(None);
        };
        let bot = self.ports.bots.get(&id).await?;
        Ok(bot.filter(|b| b.owner_id == user.id))
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
        let (bot, share_code) = self
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
            share_code,
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

    /// `GET /session/{id}`: the session and its bot (absent once deleted), whose public
    /// view its participant may read even after the link was revoked.
    pub async fn get_session_with_bot(
        &self,
        principal: &Principal,
        id: &SessionId,
    ) -> Result<(Session, Option<BotConfig>), CoreError> {
        let session = self.get_session(principal, id).await?;
        let bot = self.ports.bots.get(&session.chat_config_id).await?;
        Ok((session, bot))
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
            let allowed = effective_overrides(&bot);
            if let Some(m) = changes.model.as_deref() {
                let model = self.catalog.allowed(m)?;
                if !allowed.models.contains(&model) {
                    return Err(CoreError::Forbidden("this bot does not let sessions pick that model"));
                }
                session.overrides.model = Some(model);
            }
            if let Some(p) = changes.system_prompt.as_deref() {
                if !allowed.system_prompt {
                    return Err(CoreError::Forbidden("this bot does not let sessions change its prompt"));
                }
                session.overrides.system_prompt = Some(SystemPrompt::parse(p)?);
            }
            if let Some(t) = changes.temperature {
                if !allowed.temperature {
                    return Err(CoreError::Forbidden(
                        "this bot does not let sessions change its temperature",
                    ));
                }
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
    ) -> Result<HistoryPage, CoreError> {
        let session = self.get_session(principal, id).await?;
        let mut page = self
            .history(&Conversation::Session(id.clone()), before, None, limit)
            .await?;
        // Only the owner opens a session by the bot's id: theirs show input tokens.
        page.owner_view = session.share_code.is_none() && principal.user().is_some();
        Ok(page)
    }

    /// A page of a conversation: `after` reads forward (polling), otherwise backward.
    pub(super) async fn history(
        &self,
        conversation: &Conversation,
        before: Option<u64>,
        after: Option<u64>,
        limit: Option<i64>,
    ) -> Result<HistoryPage, CoreError> {
        const HISTORY_DEFAULT: u32 = 50;
        let limit = PageLimit::parse(limit, HISTORY_DEFAULT)?.get();
        let before = parse_seq("before", before)?;
        let after = parse_seq("after", after)?;
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
        // A reply whose writer is gone, and a message nobody took up, read as failed.
        self.settle(conversation, &mut messages).await?;
        // Pollers that reach the end keep the seq of the last message they saw.
        let next = match (more, forward) {
            (false, _) => None,
            (true, true) => messages.last().map(|m| m.seq),
            (true, false) => messages.first().map(|m| m.seq),
        };
        // A reply that failed before its first word says nothing; its user message shows
        // the failure (and takes the retry).
        messages.retain(|m| !(m.role == Role::Assistant && m.status == MessageStatus::Failed && m.content.is_empty()));
        Ok(HistoryPage {
            messages,
            next,
            owner_view: false,
        })
    }
}

/// A page of a conversation, oldest first, and the cursor of the following page.
#[derive(Clone, Debug)]
pub struct HistoryPage {
    pub messages: Vec<Message>,
    pub next: Option<u64>,
    /// Whether the caller sees what only the bot's owner may (input token counts): in
    /// the owner's own sessions, never in rooms.
    pub owner_view: bool,
}

/// What a session of this bot may override now. The owner's policy, except that a prompt
/// override never goes beside a hidden prompt or persona, even if the policy was set
/// while they were shown.
pub(super) fn effective_overrides(bot: &BotConfig) -> OverridePolicy {
    let mut policy = bot.session_overrides.clone();
    policy.system_prompt &= bot.sharing.show_prompt;
    policy
}
