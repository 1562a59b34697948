//! Sending a message: validate → store the user message, open its reply and charge the
//! quotas and the sender's rate, in one transaction → call the model → store the reply,
//! complete the user message and count the tokens, in one transaction → return both. A
//! failed model call leaves the user message stored and marked failed; a retry with the
//! same `clientMessageId` picks it up again.

use futures::StreamExt;

use super::sessions::effective_overrides;
use super::streaming::{Delivery, Earlier, ReplyEvent};
use super::{Parley, found, is_owner};
use crate::bot::BotConfig;
use crate::error::{CoreError, StoreError};
use crate::ids::{RoomId, SessionId};
use crate::limits::{self, ClientAddress};
use crate::message::{Conversation, GUEST_AUTHOR, Message, MessageStatus, NewMessage, Role};
use crate::persona::Persona;
use crate::policy;
use crate::ports::{Appended, ChatRequest, ChatTurn, MessageRange};
use crate::principal::Principal;
use crate::prompt;
use crate::quota::{QuotaAdd, QuotaCharge, tier_of};
use crate::room::{ReplyMode, mentions_bot};
use crate::session::Session;
use crate::values::{ClientMessageId, MessageText};

/// The stored user message and the bot's reply (none when a room's bot stays silent).
#[derive(Clone, Debug)]
pub struct SendOutcome {
    pub user_message: Message,
    pub reply: Option<Message>,
    /// Whether the caller sees input token counts, which tell the size of a hidden
    /// prompt: only the bot's owner, in their own sessions (never in rooms).
    pub owner_view: bool,
}

/// Who is writing and where, resolved once per send.
pub(super) struct Sender {
    pub(super) conversation: Conversation,
    pub(super) author_id: String,
    pub(super) author_name: Option<String>,
    pub(super) in_room: bool,
    /// The client's address, for the rate of sends.
    pub(super) from: ClientAddress,
}

/// The model settings for one call: the bot's, with a session's overrides if allowed.
pub(super) struct Effective<'a> {
    pub(super) bot: &'a BotConfig,
    pub(super) session: Option<&'a Session>,
}

/// A send checked and resolved: who writes where, the settings of the model call, and
/// whether the bot is to answer.
pub(super) struct Prepared {
    pub(super) sender: Sender,
    pub(super) bot: BotConfig,
    pub(super) session: Option<Session>,
    pub(super) text: MessageText,
    pub(super) cmid: Option<ClientMessageId>,
    pub(super) wants_reply: bool,
    /// Whether the caller sees input token counts: the bot's owner, in their own session.
    pub(super) owner_view: bool,
}

impl Prepared {
    pub(super) fn effective(&self) -> Effective<'_> {
        Effective {
            bot: &self.bot,
            session: self.session.as_ref(),
        }
    }
}

/// The user message of a send: stored by this send (with the reply it opened, when the
/// bot is to answer), or by an earlier one with the same client message id.
pub(super) enum Stored {
    New(Message, Option<Message>),
    Existing(Message),
}

impl Parley {
    /// `POST /session-message`.
    #[tracing::instrument(skip_all, fields(session_id = %id))]
    pub async fn send_to_session(
        &self,
        principal: &Principal,
        id: &SessionId,
        text: &str,
        client_message_id: Option<&str>,
        from: ClientAddress,
    ) -> Result<SendOutcome, CoreError> {
        let prepared = self
            .prepare_session_send(principal, id, text, client_message_id, from)
            .await?;
        self.send(principal, &prepared).await
    }

    /// `POST /room/{id}/messages`: the bot answers every message, or only `@bot` ones.
    #[tracing::instrument(skip_all, fields(room_id = %id))]
    pub async fn send_to_room(
        &self,
        principal: &Principal,
        id: &RoomId,
        text: &str,
        client_message_id: Option<&str>,
        from: ClientAddress,
    ) -> Result<SendOutcome, CoreError> {
        let prepared = self
            .prepare_room_send(principal, id, text, client_message_id, from)
            .await?;
        self.send(principal, &prepared).await
    }

    /// Checks a send into a session: the input, the caller's access, the link and the bot.
    pub(super) async fn prepare_session_send(
        &self,
        principal: &Principal,
        id: &SessionId,
        text: &str,
        client_message_id: Option<&str>,
        from: ClientAddress,
    ) -> Result<Prepared, CoreError> {
        let text = MessageText::parse(text)?;
        let cmid = client_message_id.map(ClientMessageId::parse).transpose()?;
        let session = self.get_session(principal, id).await?;
        let bot = found(self.ports.bots.get(&session.chat_config_id).await)?;
        policy::link_still_open(&bot, session.share_code.as_ref())?;
        policy::bot_chat(principal, &bot)?;
        let (author_id, author_name) = match principal.user() {
            Some(user) => (user.id.to_string(), Some(user.display_name())),
            None => (GUEST_AUTHOR.to_owned(), None),
        };
        Ok(Prepared {
            sender: Sender {
                conversation: Conversation::Session(id.clone()),
                author_id,
                author_name,
                in_room: false,
                from,
            },
            owner_view: is_owner(principal, &bot),
            bot,
            session: Some(session),
            text,
            cmid,
            wants_reply: true,
        })
    }

    /// Checks a send into a room: the input, membership, the link and the bot.
    pub(super) async fn prepare_room_send(
        &self,
        principal: &Principal,
        id: &RoomId,
        text: &str,
        client_message_id: Option<&str>,
        from: ClientAddress,
    ) -> Result<Prepared, CoreError> {
        let text = MessageText::parse(text)?;
        let cmid = client_message_id.map(ClientMessageId::parse).transpose()?;
        let (room, user) = self.room_as_member(principal, id).await?;
        let bot = found(self.ports.bots.get(&room.chat_config_id).await)?;
        policy::link_still_open(&bot, room.share_code.as_ref())?;
        policy::bot_chat(principal, &bot)?;
        Ok(Prepared {
            sender: Sender {
                conversation: Conversation::Room(id.clone()),
                author_id: user.id.to_string(),
                author_name: Some(user.display_name()),
                in_room: true,
                from,
            },
            wants_reply: room.reply_mode == ReplyMode::Always || mentions_bot(text.as_str()),
            owner_view: false,
            bot,
            session: None,
            text,
            cmid,
        })
    }

    async fn send(&self, principal: &Principal, prepared: &Prepared) -> Result<SendOutcome, CoreError> {
        let mut outcome = match self.store_user_message(principal, prepared).await? {
            Stored::Existing(existing) => self.resume(principal, prepared, existing).await?,
            Stored::New(user_message, None) => SendOutcome {
                user_message,
                reply: None,
                owner_view: false,
            },
            Stored::New(user_message, reply) => self.answer(prepared, user_message, reply).await?,
        };
        outcome.owner_view = prepared.owner_view;
        Ok(outcome)
    }

    /// Stores the user message, opens its reply (when the bot is to answer) and charges
    /// the send in one transaction, or finds the one an earlier send with the same client
    /// message id stored. The store refuses a reused client message id, so a first send
    /// does not look for an earlier one: only a refused one does.
    pub(super) async fn store_user_message(
        &self,
        principal: &Principal,
        prepared: &Prepared,
    ) -> Result<Stored, CoreError> {
        let sender = &prepared.sender;
        let cmid = &prepared.cmid;
        let charges = self.send_charges(principal, &prepared.effective(), prepared.wants_reply, sender.from)?;
        let new = NewMessage {
            lease: None,
            role: Role::User,
            author_id: sender.author_id.clone(),
            author_name: sender.author_name.clone(),
            content: prepared.text.as_str().to_owned(),
            status: if prepared.wants_reply {
                MessageStatus::Pending
            } else {
                MessageStatus::Complete
            },
            created_at: self.now(),
            usage: None,
            client_message_id: cmid.clone(),
        };
        let reply = prepared.wants_reply.then(|| self.reply_placeholder());
        // Stored and charged together: a retry whose client id is taken charges nothing,
        // and a refused charge stores nothing.
        let appended = self
            .ports
            .messages
            .append_charged(&sender.conversation, &new, reply.as_ref(), &charges)
            .await;
        match (appended, cmid) {
            (Ok(Appended::Stored(m)), _) => {
                let reply = reply.zip(m.reply_seq).map(|(reply, seq)| reply.numbered(seq));
                Ok(Stored::New(m, reply))
            }
            // A retry of a stored message is answered as stored, even when the quota it
            // was charged to is spent by now.
            (Ok(Appended::Denied { key }), Some(cmid)) => match self.stored_send(sender, cmid).await? {
                Some(existing) => Ok(Stored::Existing(existing)),
                None => Err(self.refusal(&charges, &key)),
            },
            (Ok(Appended::Denied { key }), None) => Err(self.refusal(&charges, &key)),
            // A retry, or a concurrent one with the same id stored it first: answer as
            // that one will.
            (Err(StoreError::AlreadyExists), Some(cmid)) => {
                Ok(Stored::Existing(found(self.stored_send(sender, cmid).await)?))
            }
            (Err(e), _) => Err(e.into()),
        }
    }

    /// The message an earlier send of `sender` with this client message id stored.
    async fn stored_send(&self, sender: &Sender, cmid: &ClientMessageId) -> Result<Option<Message>, StoreError> {
        self.ports
            .messages
            .find_by_client_id(&sender.conversation, &sender.author_id, cmid)
            .await
    }

    /// A send whose client message id is already stored: return the stored exchange, or
    /// answer again where the earlier one failed or its writer is gone. Never charges
    /// twice. While a live writer holds the reply, `409`: retry in a moment.
    async fn resume(
        &self,
        principal: &Principal,
        prepared: &Prepared,
        existing: Message,
    ) -> Result<SendOutcome, CoreError> {
        match self.earlier(&prepared.sender.conversation, &existing).await? {
            Earlier::Answered(reply) => Ok(SendOutcome {
                user_message: existing,
                reply,
                owner_view: false,
            }),
            Earlier::Writing(_) | Earlier::Starting => Err(CoreError::Conflict(
                "this message is still being answered; retry in a moment",
            )),
            Earlier::Unanswered => {
                let asker = self.claim_retry(principal, prepared, existing).await?;
                self.answer(prepared, asker, None).await
            }
        }
    }

    /// Asks the model for the whole reply to a stored user message, through a writer
    /// that the request does not own: if the client goes away, the reply is still
    /// finished and stored. Answers once it is. `reply` is the one opened with the user
    /// message, if it was.
    async fn answer(
        &self,
        prepared: &Prepared,
        user_message: Message,
        reply: Option<Message>,
    ) -> Result<SendOutcome, CoreError> {
        let (mut user_message, events) = self.start_reply(prepared, user_message, reply, Delivery::Whole).await?;
        let mut events = events.ok_or(CoreError::NotFound)?;
        while let Some(event) = events.next().await {
            match event {
                ReplyEvent::Delta(_) => {}
                ReplyEvent::Done(reply) => {
                    user_message.status = MessageStatus::Complete;
                    return Ok(SendOutcome {
                        user_message,
                        reply: Some(reply),
                        owner_view: false,
                    });
                }
                ReplyEvent::Failed { error, .. } => return Err(error),
            }
        }
        Err(StoreError::Unavailable("the reply's writer ended without a word".into()).into())
    }

    /// The model call answering `user_message`: the conversation before it, the persona
    /// and the settings in effect.
    pub(super) async fn request_for(
        &self,
        sender: &Sender,
        effective: &Effective<'_>,
        user_message: &Message,
    ) -> Result<ChatRequest, CoreError> {
        let range = MessageRange::Before {
            before: Some(user_message.seq),
            limit: effective.bot.memory.max_messages,
        };
        let history = self.ports.messages.list(&sender.conversation, range).await?;
        let persona = self.persona_of(&effective.bot.chat_config_id).await?;
        Ok(self.chat_request(effective, &persona, &history, user_message, sender.in_room))
    }

    fn chat_request(
        &self,
        effective: &Effective<'_>,
        persona: &Persona,
        history: &[Message],
        user_message: &Message,
        in_room: bool,
    ) -> ChatRequest {
        let bot = effective.bot;
        // A session's overrides count only as far as the bot allows them now.
        let allowed = effective_overrides(bot);
        let overrides = effective.session.map(|s| &s.overrides);
        let model = overrides
            .and_then(|o| o.model.as_ref())
            .filter(|m| allowed.models.contains(m))
            .unwrap_or(&bot.model);
        let owner_prompt = overrides
            .and_then(|o| o.system_prompt.as_ref())
            .filter(|_| allowed.system_prompt)
            .unwrap_or(&bot.system_prompt);
        let temperature = overrides
            .and_then(|o| o.temperature)
            .filter(|_| allowed.temperature)
            .unwrap_or(bot.temperature);
        let content = match (&user_message.author_name, in_room) {
            (Some(name), true) => format!("{name}: {}", user_message.content),
            _ => user_message.content.clone(),
        };
        let system_prompt = prompt::system_prompt(owner_prompt.as_str(), persona, self.now());
        ChatRequest {
            model: model.as_str().to_owned(),
            messages: prompt::window(
                history,
                prompt::after_system_prompt(bot.memory, &system_prompt),
                ChatTurn {
                    role: Role::User,
                    content,
                },
                in_room,
            ),
            system_prompt,
            temperature: temperature.value(),
            max_output_tokens: bot.max_output_tokens,
        }
    }

    /// What a send charges, all or nothing with the stored message: when the bot is to
    /// answer, the bot's daily limit (except for its owner: see below) and the sender's
    /// own limit (a user's daily messages by tier, or a guest session's allowance); and
    /// always the sender's address's sends per minute. Quotas come first, so that a
    /// refusal names the quota when both it and the rate are spent.
    ///
    /// The owner's messages on their own bot are not counted against the bot's daily
    /// limit, only against the owner's own daily messages: guests and friends who use up
    /// the bot's day cannot lock its owner out, and the owner never eats their share.
    pub(super) fn send_charges(
        &self,
        principal: &Principal,
        effective: &Effective<'_>,
        wants_reply: bool,
        from: ClientAddress,
    ) -> Result<Vec<QuotaCharge>, CoreError> {
        let bot = effective.bot;
        let now = self.now();
        let end_of_day = Some(self.end_of_day());
        let mut charges = Vec::with_capacity(3);
        if wants_reply {
            if !is_owner(principal, bot) {
                charges.push(QuotaCharge {
                    key: self.bot_daily_key(&bot.chat_config_id),
                    limit: bot.limits.daily_messages,
                    expires_at: end_of_day,
                    scope: "the bot's daily messages",
                });
            }
            match principal {
                Principal::User(user) => charges.push(QuotaCharge {
                    key: format!("user#{}#{}", user.id, now.format("%Y-%m-%d")),
                    limit: tier_of(user).user_daily_messages,
                    expires_at: end_of_day,
                    scope: "your daily messages",
                }),
                Principal::Guest { session_id, .. } => charges.push(QuotaCharge {
                    key: format!("guest#{session_id}"),
                    limit: bot.limits.guest_messages_per_session,
                    expires_at: None,
                    scope: "this guest session's messages",
                }),
                Principal::Anonymous => return Err(CoreError::Unauthorized),
            }
        }
        charges.push(limits::window_charge(
            "sends",
            &from.key(),
            self.settings.rate_limits.sends_per_minute,
            60,
            now,
            "messages from your network address per minute",
        ));
        Ok(charges)
    }

    /// What a reply's tokens add to the bot's daily token counter.
    pub(super) fn tokens(&self, bot: &BotConfig, usage: Option<crate::message::Usage>) -> Option<QuotaAdd> {
        usage.map(|usage| QuotaAdd {
            key: self.bot_daily_tokens_key(&bot.chat_config_id),
            amount: usage.input_tokens.saturating_add(usage.output_tokens),
            expires_at: Some(self.end_of_day()),
        })
    }

    /// Adds a reply's tokens to the bot's daily token counter, apart from the reply's
    /// write. The reply is already stored, so a failure here is logged and does not fail
    /// the send.
    pub(super) async fn count_tokens(&self, bot: &BotConfig, usage: Option<crate::message::Usage>) {
        let Some(tokens) = self.tokens(bot, usage) else { return };
        let added = self
            .ports
            .quotas
            .add(&tokens.key, tokens.amount, tokens.expires_at)
            .await;
        if let Err(e) = added {
            tracing::warn!(error = %e, "token usage not counted");
        }
    }
}
