//! Streaming a reply: the same send as [`super::messaging`] (checks, one transaction for
//! the user message and its charges, idempotency), but the reply is stored at once as
//! `streaming` and its text saved as it grows, by a generator task that the client's
//! connection does not own: a client that goes away does not stop the model call, and
//! the reply is finished and stored. Anyone allowed to read the conversation can follow
//! a reply from the store (the generator may run in another process), and its sender can
//! stop it.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{Stream, StreamExt};
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

use super::messaging::{Prepared, Stored};
use super::{Parley, found};
use crate::bot::BotConfig;
use crate::error::{CoreError, LlmError, ProviderFailure};
use crate::ids::{RoomId, SessionId};
use crate::limits::ClientAddress;
use crate::limits::RATE_PREFIX;
use crate::message::{BOT_AUTHOR, Conversation, GUEST_AUTHOR, Lease, Message, MessageStatus, NewMessage, Role, Usage};
use crate::ports::{MessageRange, ReplyStream, StreamEvent};
use crate::principal::Principal;
use crate::quota::QuotaOutcome;

/// A reply's text is saved when this much time has passed since the last save…
pub const SAVE_EVERY: Duration = Duration::from_millis(250);
/// …or when this many bytes of text are unsaved, whichever comes first.
pub const SAVE_BYTES: usize = 500;
/// How long a writer's lease on a reply lasts: a `streaming` reply whose lease ran out
/// (its writer crashed, was killed, or its Lambda timed out) is failed when read.
pub const LEASE_FOR: Duration = Duration::from_secs(30);
/// A writer renews its lease at least this often, with a save even when no text came.
pub const RENEW_EVERY: Duration = Duration::from_secs(10);
/// How often a follower reads the store.
pub const FOLLOW_EVERY: Duration = Duration::from_millis(250);

/// What happens to a reply, in order: deltas, then one end.
#[derive(Debug)]
pub enum ReplyEvent {
    /// More of the reply's text.
    Delta(String),
    /// The reply as stored at its end: complete, or stopped (keeping its text).
    Done(Message),
    /// Generation failed: the reply is stored as failed, keeping what was written.
    Failed { reply: Message, error: CoreError },
}

/// A reply's events as they come.
pub type ReplyEvents = Pin<Box<dyn Stream<Item = ReplyEvent> + Send>>;

/// A streamed send: the stored user message, then the reply's events.
pub struct StreamedSend {
    pub user_message: Message,
    /// `None` when the bot stays silent (a `mention` room).
    pub reply: Option<ReplyEvents>,
    /// Whether the caller sees input token counts (see [`super::SendOutcome`]).
    pub owner_view: bool,
}

/// The generators running in this process, so that a stop ends theirs at once (a
/// generator in another process notices the stop at its next save), and shutdown can
/// wait for them.
#[derive(Default)]
pub(super) struct Generators(Mutex<HashMap<(String, u64), Running>>);

/// A generator's conversation, and how to stop it.
type Running = (Conversation, Arc<Notify>);

impl Generators {
    fn register(&self, conversation: &Conversation, seq: u64) -> Arc<Notify> {
        let notify = Arc::new(Notify::new());
        if let Ok(mut map) = self.0.lock() {
            map.insert((conversation.key(), seq), (conversation.clone(), notify.clone()));
        }
        notify
    }

    fn unregister(&self, conversation: &Conversation, seq: u64) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(&(conversation.key(), seq));
        }
    }

    fn stop(&self, conversation: &Conversation, seq: u64) {
        if let Some((_, notify)) = self
            .0
            .lock()
            .ok()
            .and_then(|m| m.get(&(conversation.key(), seq)).cloned())
        {
            notify.notify_one();
        }
    }

    /// The replies being written now.
    fn running(&self) -> Vec<(Conversation, u64)> {
        self.0
            .lock()
            .map(|m| m.iter().map(|((_, seq), (c, _))| (c.clone(), *seq)).collect())
            .unwrap_or_default()
    }
}

/// A name for a generator's lease: this process and a counter.
fn lease_owner() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("pid{}-{n}", std::process::id())
}

/// What an earlier send with the same client message id left, and what a retry does.
pub(super) enum Earlier {
    /// Its exchange ended: the reply (none when the bot stays silent).
    Answered(Option<Message>),
    /// Its reply is being written by a live writer.
    Writing(Message),
    /// Stored moments ago and about to be answered: retry in a moment.
    Starting,
    /// It failed, or its writer is gone: answer it again.
    Unanswered,
}

/// How the model is asked: for its reply as it is written, or whole (the JSON send
/// routes, which answer once it is complete).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Delivery {
    Streamed,
    Whole,
}

/// How generation ended.
enum Ending {
    Complete(Option<Usage>),
    Stopped,
    Failed(LlmError),
}

impl Parley {
    /// `POST /session-message/stream`.
    #[tracing::instrument(skip_all, fields(session_id = %id))]
    pub async fn stream_to_session(
        &self,
        principal: &Principal,
        id: &SessionId,
        text: &str,
        client_message_id: Option<&str>,
        from: ClientAddress,
    ) -> Result<StreamedSend, CoreError> {
        let prepared = self
            .prepare_session_send(principal, id, text, client_message_id, from)
            .await?;
        self.stream_send(principal, prepared).await
    }

    /// `POST /room/{id}/messages/stream`.
    #[tracing::instrument(skip_all, fields(room_id = %id))]
    pub async fn stream_to_room(
        &self,
        principal: &Principal,
        id: &RoomId,
        text: &str,
        client_message_id: Option<&str>,
        from: ClientAddress,
    ) -> Result<StreamedSend, CoreError> {
        let prepared = self
            .prepare_room_send(principal, id, text, client_message_id, from)
            .await?;
        self.stream_send(principal, prepared).await
    }

    /// `GET /session/{id}/messages/{seq}/stream`: the reply's text after the first
    /// `after` characters, then what is written until its end.
    pub async fn follow_session_reply(
        &self,
        principal: &Principal,
        id: &SessionId,
        seq: u64,
        after: usize,
    ) -> Result<ReplyEvents, CoreError> {
        self.get_session(principal, id).await?;
        self.follow_reply(Conversation::Session(id.clone()), seq, after).await
    }

    /// `GET /room/{id}/messages/{seq}/stream`, for members.
    pub async fn follow_room_reply(
        &self,
        principal: &Principal,
        id: &RoomId,
        seq: u64,
        after: usize,
    ) -> Result<ReplyEvents, CoreError> {
        self.room_as_member(principal, id).await?;
        self.follow_reply(Conversation::Room(id.clone()), seq, after).await
    }

    /// `POST /session/{id}/messages/{seq}/stop`: the session's participant ends the
    /// reply's generation; it keeps the text written so far, as `stopped`. A reply that
    /// already ended is answered as it is.
    pub async fn stop_session_reply(
        &self,
        principal: &Principal,
        id: &SessionId,
        seq: u64,
    ) -> Result<Message, CoreError> {
        self.get_session(principal, id).await?;
        self.stop_reply(&Conversation::Session(id.clone()), seq).await
    }

    /// `POST /room/{id}/messages/{seq}/stop`: the member whose message the reply answers.
    pub async fn stop_room_reply(&self, principal: &Principal, id: &RoomId, seq: u64) -> Result<Message, CoreError> {
        let (_, user) = self.room_as_member(principal, id).await?;
        let conversation = Conversation::Room(id.clone());
        let range = MessageRange::Before {
            before: Some(seq),
            limit: 100,
        };
        let asked = self.ports.messages.list(&conversation, range).await?;
        let sender = asked
            .iter()
            .rev()
            .find(|m| m.reply_seq == Some(seq))
            .map(|m| &m.author_id);
        if sender != Some(&user.id.to_string()) {
            return Err(CoreError::Forbidden(
                "only the member whose message it answers may stop a reply",
            ));
        }
        self.stop_reply(&conversation, seq).await
    }

    async fn stop_reply(&self, conversation: &Conversation, seq: u64) -> Result<Message, CoreError> {
        let reply = self.bot_reply(conversation, seq).await?;
        if reply.status == MessageStatus::Streaming
            && self
                .ports
                .messages
                .set_status_if(conversation, seq, MessageStatus::Streaming, MessageStatus::Stopped)
                .await?
        {
            self.generators.stop(conversation, seq);
        }
        found(self.ports.messages.get(conversation, seq).await)
    }

    /// When a lease taken or renewed now runs out.
    fn lease_until(&self) -> chrono::DateTime<chrono::Utc> {
        self.now() + chrono::Duration::from_std(LEASE_FOR).unwrap_or(chrono::Duration::seconds(30))
    }

    /// The bot's message `seq` of the conversation; any other is not found.
    async fn bot_reply(&self, conversation: &Conversation, seq: u64) -> Result<Message, CoreError> {
        let message = found(self.ports.messages.get(conversation, seq).await)?;
        if message.role != Role::Assistant {
            return Err(CoreError::NotFound);
        }
        Ok(message)
    }

    async fn stream_send(&self, principal: &Principal, prepared: Prepared) -> Result<StreamedSend, CoreError> {
        let owner_view = prepared.owner_view;
        let (user_message, reply) = match self.store_user_message(principal, &prepared).await? {
            Stored::New(user_message, None) => (user_message, None),
            Stored::New(user_message, reply) => {
                self.start_reply(&prepared, user_message, reply, Delivery::Streamed)
                    .await?
            }
            Stored::Existing(existing) => self.stream_existing(principal, &prepared, existing).await?,
        };
        Ok(StreamedSend {
            user_message,
            reply,
            owner_view,
        })
    }

    /// A streamed send whose client message id is stored: its stored reply as events, the
    /// reply being written followed, or a new model call where the earlier one failed.
    async fn stream_existing(
        &self,
        principal: &Principal,
        prepared: &Prepared,
        existing: Message,
    ) -> Result<(Message, Option<ReplyEvents>), CoreError> {
        let conversation = &prepared.sender.conversation;
        match self.earlier(conversation, &existing).await? {
            Earlier::Answered(None) => Ok((existing, None)),
            Earlier::Answered(Some(reply)) | Earlier::Writing(reply) => {
                let events = self.follow_reply(conversation.clone(), reply.seq, 0).await?;
                Ok((existing, Some(events)))
            }
            Earlier::Starting => Err(CoreError::Conflict(
                "this message is still being answered; retry in a moment",
            )),
            Earlier::Unanswered => {
                let asker = self.claim_retry(principal, prepared, existing).await?;
                self.start_reply(prepared, asker, None, Delivery::Streamed).await
            }
        }
    }

    /// Where the exchange of a stored user message stands; a writer whose lease ran out
    /// is given up (its reply and the message failed) so that a retry answers again.
    pub(super) async fn earlier(&self, conversation: &Conversation, existing: &Message) -> Result<Earlier, CoreError> {
        let reply = match existing.reply_seq {
            Some(seq) => self.ports.messages.get(conversation, seq).await?,
            None => None,
        };
        let now = self.now();
        Ok(match (existing.status, reply) {
            (MessageStatus::Failed, _) => Earlier::Unanswered,
            (MessageStatus::Pending, Some(reply)) if reply.status == MessageStatus::Streaming => {
                if reply.lease_expired(now) {
                    self.give_up(conversation, &reply, Some(existing.seq)).await?;
                    Earlier::Unanswered
                } else {
                    Earlier::Writing(reply)
                }
            }
            (MessageStatus::Pending, Some(reply)) if reply.status == MessageStatus::Failed => {
                self.fail_exchange(conversation, existing, None).await?;
                Earlier::Unanswered
            }
            (MessageStatus::Pending, None) if now - existing.created_at < self.settings.pending_timeout => {
                Earlier::Starting
            }
            (MessageStatus::Pending, None) => {
                self.fail_exchange(conversation, existing, None).await?;
                Earlier::Unanswered
            }
            (_, reply) => Earlier::Answered(reply),
        })
    }

    /// Fails a reply whose writer is gone (if it is still `streaming`) and the user
    /// message it answers (`user_seq`, or found before it).
    pub(super) async fn give_up(
        &self,
        conversation: &Conversation,
        reply: &Message,
        user_seq: Option<u64>,
    ) -> Result<(), CoreError> {
        let messages = &self.ports.messages;
        let failed = messages
            .set_status_if(conversation, reply.seq, MessageStatus::Streaming, MessageStatus::Failed)
            .await?;
        if failed {
            tracing::warn!(reply_seq = reply.seq, lease = ?reply.lease, "reply failed: its writer's lease ran out");
        }
        let asker = match user_seq {
            Some(seq) => self.ports.messages.get(conversation, seq).await?,
            None => self.asker(conversation, reply.seq).await?,
        };
        if let Some(asker) = asker {
            self.fail_exchange(conversation, &asker, None).await?;
        }
        Ok(())
    }

    /// Fails a user message still `pending`, and if this call is the one that failed it,
    /// gives back what its send was charged: one refund per failure, however many
    /// readers notice it. `bot` where the caller has it (else it is read).
    pub(super) async fn fail_exchange(
        &self,
        conversation: &Conversation,
        asker: &Message,
        bot: Option<&BotConfig>,
    ) -> Result<(), CoreError> {
        let failed = self
            .ports
            .messages
            .set_status_if(conversation, asker.seq, MessageStatus::Pending, MessageStatus::Failed)
            .await?;
        if !failed {
            return Ok(());
        }
        let bot = match bot {
            Some(bot) => Some(bot.clone()),
            None => self.bot_of(conversation).await?,
        };
        let keys = self.refund_keys(conversation, asker, bot.as_ref());
        if let Err(e) = self.ports.quotas.release(&keys).await {
            tracing::warn!(error = %e, "the charge of a failed send was not given back");
        }
        Ok(())
    }

    /// The counters a user message's send charged (not the rate of sends, which counts
    /// attempts): the bot's day unless its owner wrote it, and the author's day or, for
    /// a guest, their session's allowance. Keyed by the day the message was sent.
    fn refund_keys(&self, conversation: &Conversation, asker: &Message, bot: Option<&BotConfig>) -> Vec<String> {
        let day = asker.created_at.format("%Y-%m-%d");
        let mut keys = Vec::with_capacity(2);
        if let Some(bot) = bot
            && asker.author_id != bot.owner_id.as_str()
        {
            keys.push(format!("bot#{}#{day}", bot.chat_config_id));
        }
        match conversation {
            Conversation::Session(id) if asker.author_id == GUEST_AUTHOR => keys.push(format!("guest#{id}")),
            _ => keys.push(format!("user#{}#{day}", asker.author_id)),
        }
        keys
    }

    /// The bot a conversation is with, if the conversation and the bot still exist.
    async fn bot_of(&self, conversation: &Conversation) -> Result<Option<BotConfig>, CoreError> {
        let bot_id = match conversation {
            Conversation::Session(id) => self.ports.sessions.get(id).await?.map(|s| s.chat_config_id),
            Conversation::Room(id) => self.ports.rooms.get(id).await?.map(|r| r.chat_config_id),
        };
        Ok(match bot_id {
            Some(id) => self.ports.bots.get(&id).await?,
            None => None,
        })
    }

    /// A retry answering again a send that failed (and was given back its charge):
    /// charges it anew, then claims the message; of retries racing, the one that claims
    /// it answers, the others give their charge back and wait (409).
    pub(super) async fn claim_retry(
        &self,
        principal: &Principal,
        prepared: &Prepared,
        mut asker: Message,
    ) -> Result<Message, CoreError> {
        let conversation = &prepared.sender.conversation;
        let charges = self.send_charges(principal, &prepared.effective(), true, prepared.sender.from)?;
        if let QuotaOutcome::Denied { key } = self.ports.quotas.try_consume(&charges).await? {
            return Err(self.refusal(&charges, &key));
        }
        let claimed = self
            .ports
            .messages
            .set_status_if(conversation, asker.seq, MessageStatus::Failed, MessageStatus::Pending)
            .await?;
        if !claimed {
            let keys: Vec<String> = charges
                .iter()
                .filter(|c| !c.key.starts_with(RATE_PREFIX))
                .map(|c| c.key.clone())
                .collect();
            self.ports.quotas.release(&keys).await?;
            return Err(CoreError::Conflict(
                "this message is still being answered; retry in a moment",
            ));
        }
        asker.status = MessageStatus::Pending;
        Ok(asker)
    }

    /// The user message that reply `seq` answers, among the messages before it.
    async fn asker(&self, conversation: &Conversation, seq: u64) -> Result<Option<Message>, CoreError> {
        let range = MessageRange::Before {
            before: Some(seq),
            limit: 100,
        };
        let before = self.ports.messages.list(conversation, range).await?;
        Ok(before.into_iter().rev().find(|m| m.reply_seq == Some(seq)))
    }

    /// Resolves, in a page just read, the messages whose writer is gone: `streaming`
    /// replies past their lease, and user messages stored long ago that no writer took
    /// up. They are failed in the store and in the page.
    pub(super) async fn settle(&self, conversation: &Conversation, page: &mut [Message]) -> Result<(), CoreError> {
        let now = self.now();
        let abandoned: Vec<Message> = page.iter().filter(|m| m.lease_expired(now)).cloned().collect();
        for reply in &abandoned {
            let user_seq = page.iter().find(|m| m.reply_seq == Some(reply.seq)).map(|m| m.seq);
            self.give_up(conversation, reply, user_seq).await?;
        }
        for m in page.iter_mut() {
            let stale = m.status == MessageStatus::Pending
                && m.reply_seq.is_none()
                && now - m.created_at >= self.settings.pending_timeout;
            if stale {
                self.fail_exchange(conversation, m, None).await?;
            }
            let gone = abandoned.iter().any(|r| r.seq == m.seq || m.reply_seq == Some(r.seq));
            if stale || gone {
                m.status = MessageStatus::Failed;
                m.lease = None;
            }
        }
        Ok(())
    }

    /// Fails what this process is still writing, after `grace` for it to finish: for a
    /// shutdown. Returns how many replies were still being written when it ended.
    pub async fn drain(&self, grace: Duration) -> usize {
        let deadline = Instant::now() + grace;
        while !self.generators.running().is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let left = self.generators.running();
        for (conversation, seq) in &left {
            let failed = self
                .ports
                .messages
                .set_status_if(conversation, *seq, MessageStatus::Streaming, MessageStatus::Failed)
                .await;
            if let Err(e) = failed {
                tracing::warn!(error = %e, reply_seq = seq, "reply not failed at shutdown");
            }
            self.generators.stop(conversation, *seq);
        }
        // The stopped generators store their ends (failed) and their user messages.
        let settle = Instant::now() + Duration::from_secs(2);
        while !self.generators.running().is_empty() && Instant::now() < settle {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        left.len()
    }

    /// A reply as it is opened: `streaming`, empty, under a new lease of this process.
    pub(super) fn reply_placeholder(&self) -> NewMessage {
        NewMessage {
            lease: Some(Lease {
                owner: lease_owner(),
                until: self.lease_until(),
            }),
            role: Role::Assistant,
            author_id: BOT_AUTHOR.to_owned(),
            author_name: None,
            content: String::new(),
            status: MessageStatus::Streaming,
            created_at: self.now(),
            usage: None,
            client_message_id: None,
        }
    }

    /// Opens the model's stream and hands the rest to a generator task, which writes
    /// `reply` (opened with the user message; opened here when `None`, for a retry). A
    /// model that cannot be reached fails the send before any event.
    pub(super) async fn start_reply(
        &self,
        prepared: &Prepared,
        mut user_message: Message,
        reply: Option<Message>,
        delivery: Delivery,
    ) -> Result<(Message, Option<ReplyEvents>), CoreError> {
        let sender = &prepared.sender;
        let conversation = &sender.conversation;
        let reply = match reply {
            Some(reply) => reply,
            None => self.open_reply(conversation, &user_message).await?,
        };
        user_message.status = MessageStatus::Pending;
        user_message.reply_seq = Some(reply.seq);
        let request = self.request_for(sender, &prepared.effective(), &user_message).await?;
        let opened = match delivery {
            Delivery::Streamed => self.ports.llm.stream(&request).await,
            // The call itself is made by the writer, so that it outlives the request.
            Delivery::Whole => {
                let llm = self.ports.llm.clone();
                let request = request.clone();
                let whole = futures::stream::once(async move { llm.complete(&request).await }).flat_map(|answer| {
                    let events = match answer {
                        Ok(reply) => vec![Ok(StreamEvent::Delta(reply.text)), Ok(StreamEvent::Done(reply.usage))],
                        Err(e) => vec![Err(e)],
                    };
                    futures::stream::iter(events)
                });
                Ok(Box::pin(whole) as ReplyStream)
            }
        };
        let stream = match opened {
            Ok(stream) => stream,
            Err(e) => {
                tracing::warn!(error = %e, model = request.model, "model call failed");
                // The reply failed before its first word: the history leaves it out.
                self.ports
                    .messages
                    .set_status_if(conversation, reply.seq, MessageStatus::Streaming, MessageStatus::Failed)
                    .await?;
                self.fail_exchange(conversation, &user_message, Some(&prepared.bot))
                    .await?;
                return Err(e.into());
            }
        };
        tracing::info!(model = request.model, reply_seq = reply.seq, "reply streaming");
        let events = self.spawn_generator(
            conversation.clone(),
            user_message.clone(),
            reply,
            stream,
            prepared.bot.clone(),
        );
        Ok((user_message, Some(events)))
    }

    /// Stores a new reply to `user_message` and links them: for a retry, whose user
    /// message was stored by an earlier send.
    async fn open_reply(&self, conversation: &Conversation, user_message: &Message) -> Result<Message, CoreError> {
        let reply = self
            .ports
            .messages
            .append(conversation, &self.reply_placeholder())
            .await?;
        self.ports
            .messages
            .set_status(conversation, user_message.seq, MessageStatus::Pending, Some(reply.seq))
            .await?;
        Ok(reply)
    }

    /// Runs the generator detached from the caller and returns its events; the events may
    /// be dropped (the client went away) without stopping it.
    fn spawn_generator(
        &self,
        conversation: Conversation,
        asker: Message,
        reply: Message,
        stream: ReplyStream,
        bot: BotConfig,
    ) -> ReplyEvents {
        let (events, receiver) = mpsc::unbounded_channel();
        let stop = self.generators.register(&conversation, reply.seq);
        let app = self.clone();
        tokio::spawn(async move {
            let seq = reply.seq;
            app.generate(&conversation, &asker, reply, stream, &bot, &stop, &events)
                .await;
            app.generators.unregister(&conversation, seq);
        });
        Box::pin(futures::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|event| (event, receiver))
        }))
    }

    /// Reads the model's stream to its end (or a stop, or the deadline), sending each
    /// delta to `events` and saving the text every [`SAVE_EVERY`] or [`SAVE_BYTES`];
    /// then stores how the reply ended and the user message's status.
    #[allow(clippy::too_many_arguments)]
    async fn generate(
        &self,
        conversation: &Conversation,
        asker: &Message,
        mut reply: Message,
        mut stream: ReplyStream,
        bot: &BotConfig,
        stop: &Notify,
        events: &mpsc::UnboundedSender<ReplyEvent>,
    ) {
        let deadline = Instant::now()
            + self
                .settings
                .pending_timeout
                .to_std()
                .unwrap_or(Duration::from_secs(120));
        let mut saved = 0;
        let mut renewed = Instant::now();
        // Writes of the reply's text: the progressive saves and the final one(s).
        let mut saves = 0u32;
        let mut tick = tokio::time::interval(SAVE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let ending = loop {
            let save_now = tokio::select! {
                () = stop.notified() => break Ending::Stopped,
                () = tokio::time::sleep_until(deadline) => break Ending::Failed(LlmError::Timeout),
                _ = tick.tick() => reply.content.len() > saved || renewed.elapsed() >= RENEW_EVERY,
                event = stream.next() => match event {
                    Some(Ok(StreamEvent::Delta(text))) => {
                        reply.content.push_str(&text);
                        // A client that went away no longer listens; the reply goes on.
                        let _ = events.send(ReplyEvent::Delta(text));
                        reply.content.len() - saved >= SAVE_BYTES
                    }
                    Some(Ok(StreamEvent::Done(usage))) => break Ending::Complete(Some(usage)),
                    Some(Err(e)) => break Ending::Failed(e),
                    None => break Ending::Complete(None),
                },
            };
            if save_now {
                saves += 1;
                if let Some(lease) = &mut reply.lease {
                    lease.until = self.lease_until();
                }
                match self
                    .ports
                    .messages
                    .save_reply(conversation, &reply, MessageStatus::Streaming)
                    .await
                {
                    Ok(true) => {
                        saved = reply.content.len();
                        renewed = Instant::now();
                        tick.reset();
                    }
                    // Stopped meanwhile, perhaps by another process.
                    Ok(false) => break Ending::Stopped,
                    Err(e) => tracing::warn!(error = %e, "reply progress not saved"),
                }
            }
        };
        // Dropping the model's stream ends the model call.
        drop(stream);
        let (status, usage) = match &ending {
            Ending::Complete(usage) => (MessageStatus::Complete, *usage),
            Ending::Stopped => (MessageStatus::Stopped, None),
            Ending::Failed(e) => {
                tracing::warn!(error = %e, "model stream failed");
                (MessageStatus::Failed, None)
            }
        };
        reply.status = status;
        reply.usage = usage;
        reply.lease = None;
        let (reply, final_saves, settled) = self.finish_reply(conversation, asker, reply, bot).await;
        saves += final_saves;
        if !settled {
            self.settle_asker(conversation, asker, &reply, bot).await;
        }
        tracing::info!(
            reply_seq = reply.seq,
            status = ?reply.status,
            saves,
            output_tokens = reply.usage.map(|u| u.output_tokens),
            "reply ended"
        );
        let _ = events.send(match ending {
            Ending::Failed(e) => ReplyEvent::Failed { reply, error: e.into() },
            _ => ReplyEvent::Done(reply),
        });
    }

    /// Stores a reply's end, answering it, how many saves that took, and whether its
    /// user message (`asker`) was settled with it: a reply that did not fail is saved in
    /// one transaction with its user message completed and its tokens counted. If it is
    /// no longer `streaming` (a stop came first), a stopped reply keeps all the text
    /// written, and any other end stands as stored.
    async fn finish_reply(
        &self,
        conversation: &Conversation,
        asker: &Message,
        mut reply: Message,
        bot: &BotConfig,
    ) -> (Message, u32, bool) {
        let messages = &self.ports.messages;
        let mut expected = MessageStatus::Streaming;
        let mut saves = 0;
        loop {
            saves += 1;
            let saved = match reply.status {
                MessageStatus::Failed => messages.save_reply(conversation, &reply, expected).await,
                _ => {
                    let tokens = self.tokens(bot, reply.usage);
                    messages
                        .finish_exchange(conversation, &reply, expected, asker.seq, tokens.as_ref())
                        .await
                }
            };
            let settled = reply.status != MessageStatus::Failed;
            match saved {
                Ok(true) => return (reply, saves, settled),
                Ok(false) if expected == MessageStatus::Streaming => {}
                Ok(false) => return (reply, saves, false),
                Err(e) => {
                    tracing::warn!(error = %e, "reply end not saved");
                    return (reply, saves, false);
                }
            }
            match messages.get(conversation, reply.seq).await {
                // Stopped meanwhile: saved again as stopped, with all its text.
                Ok(Some(stored)) if stored.status == MessageStatus::Stopped => {
                    reply.status = MessageStatus::Stopped;
                    reply.usage = None;
                    expected = MessageStatus::Stopped;
                }
                Ok(Some(stored)) => return (stored, saves, false),
                Ok(None) => return (reply, saves, false),
                Err(e) => {
                    tracing::warn!(error = %e, "reply end not read");
                    return (reply, saves, false);
                }
            }
        }
    }

    /// Settles a user message whose reply's end was not stored with it: failed with its
    /// reply (and its charge given back), or complete, its reply's tokens counted apart.
    async fn settle_asker(&self, conversation: &Conversation, asker: &Message, reply: &Message, bot: &BotConfig) {
        let settled = match reply.status {
            MessageStatus::Failed => self.fail_exchange(conversation, asker, Some(bot)).await,
            _ => self
                .ports
                .messages
                .set_status(conversation, asker.seq, MessageStatus::Complete, Some(reply.seq))
                .await
                .map_err(CoreError::from),
        };
        if let Err(e) = settled {
            tracing::warn!(error = %e, "user message status not saved");
        }
        if reply.status != MessageStatus::Failed {
            self.count_tokens(bot, reply.usage).await;
        }
    }

    /// The reply `seq` from the store: its text after `after` characters, then its
    /// growth, read every [`FOLLOW_EVERY`], until it ends. One whose writer's lease ran
    /// out is failed: its writer is gone.
    async fn follow_reply(&self, conversation: Conversation, seq: u64, after: usize) -> Result<ReplyEvents, CoreError> {
        self.bot_reply(&conversation, seq).await?;
        struct Follow {
            app: Parley,
            conversation: Conversation,
            seq: u64,
            sent: usize,
            ended: bool,
        }
        let state = Follow {
            app: self.clone(),
            conversation,
            seq,
            sent: after,
            ended: false,
        };
        Ok(Box::pin(futures::stream::unfold(state, |mut f| async move {
            if f.ended {
                return None;
            }
            loop {
                let messages = &f.app.ports.messages;
                let reply = match messages.get(&f.conversation, f.seq).await {
                    Ok(Some(reply)) => reply,
                    Ok(None) => return None,
                    Err(e) => {
                        tracing::warn!(error = %e, "followed reply not read");
                        tokio::time::sleep(FOLLOW_EVERY).await;
                        continue;
                    }
                };
                let chars = reply.content.chars().count();
                if chars > f.sent {
                    let delta: String = reply.content.chars().skip(f.sent).collect();
                    f.sent = chars;
                    return Some((ReplyEvent::Delta(delta), f));
                }
                if reply.status.is_final() {
                    f.ended = true;
                    return Some((end_event(reply), f));
                }
                if reply.lease_expired(f.app.now()) {
                    if let Err(e) = f.app.give_up(&f.conversation, &reply, None).await {
                        tracing::warn!(error = %e, "abandoned reply not failed");
                        tokio::time::sleep(FOLLOW_EVERY).await;
                    }
                    continue;
                }
                tokio::time::sleep(FOLLOW_EVERY).await;
            }
        })))
    }
}

/// The last event of a reply that ended as `reply` says.
fn end_event(reply: Message) -> ReplyEvent {
    match reply.status {
        // What failed it was known to its generator, which may have been elsewhere.
        MessageStatus::Failed => ReplyEvent::Failed {
            reply,
            error: LlmError::provider(
                "model",
                ProviderFailure::BrokeOff,
                "the reply failed while it was written",
            )
            .into(),
        },
        _ => ReplyEvent::Done(reply),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pending_and_streaming_are_still_being_written() {
        for status in [MessageStatus::Pending, MessageStatus::Streaming] {
            assert!(!status.is_final());
        }
        for status in [MessageStatus::Complete, MessageStatus::Stopped, MessageStatus::Failed] {
            assert!(status.is_final());
        }
    }
}
