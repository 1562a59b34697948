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
use crate::message::{BOT_AUTHOR, Conversation, Message, MessageStatus, NewMessage, Role, Usage};
use crate::ports::{MessageRange, ReplyStream, StreamEvent};
use crate::principal::Principal;

/// A reply's text is saved when this much time has passed since the last save…
pub const SAVE_EVERY: Duration = Duration::from_millis(250);
/// …or when this many bytes of text are unsaved, whichever comes first.
pub const SAVE_BYTES: usize = 500;
/// A followed reply whose stored text has not changed for this long is taken for one
/// whose generator died, and failed.
pub const DEAD_AFTER: Duration = Duration::from_secs(60);
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
/// generator in another process notices the stop at its next save).
#[derive(Default)]
pub(super) struct Generators(Mutex<HashMap<(String, u64), Arc<Notify>>>);

impl Generators {
    fn register(&self, conversation: &Conversation, seq: u64) -> Arc<Notify> {
        let notify = Arc::new(Notify::new());
        if let Ok(mut map) = self.0.lock() {
            map.insert((conversation.key(), seq), notify.clone());
        }
        notify
    }

    fn unregister(&self, conversation: &Conversation, seq: u64) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(&(conversation.key(), seq));
        }
    }

    fn stop(&self, conversation: &Conversation, seq: u64) {
        if let Some(notify) = self
            .0
            .lock()
            .ok()
            .and_then(|m| m.get(&(conversation.key(), seq)).cloned())
        {
            notify.notify_one();
        }
    }
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
            Stored::New(user_message) if !prepared.wants_reply => (user_message, None),
            Stored::New(user_message) => self.start_reply(&prepared, user_message).await?,
            Stored::Existing(existing) => self.stream_existing(&prepared, existing).await?,
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
        prepared: &Prepared,
        existing: Message,
    ) -> Result<(Message, Option<ReplyEvents>), CoreError> {
        let conversation = &prepared.sender.conversation;
        let reply = match existing.reply_seq {
            Some(seq) => self.ports.messages.get(conversation, seq).await?,
            None => None,
        };
        match (existing.status, reply) {
            (MessageStatus::Failed, _) => self.start_reply(prepared, existing).await,
            (MessageStatus::Pending, Some(reply)) if reply.status == MessageStatus::Failed => {
                self.start_reply(prepared, existing).await
            }
            (_, Some(reply)) => {
                let events = self.follow_reply(conversation.clone(), reply.seq, 0).await?;
                Ok((existing, Some(events)))
            }
            (MessageStatus::Pending, None) if self.now() - existing.created_at < self.settings.pending_timeout => Err(
                CoreError::Conflict("this message is still being answered; retry in a moment"),
            ),
            (MessageStatus::Pending, None) => self.start_reply(prepared, existing).await,
            (_, None) => Ok((existing, None)),
        }
    }

    /// Opens the model's stream, stores the reply as `streaming` and hands the rest to a
    /// generator task. A model that cannot be reached fails the send before any event.
    async fn start_reply(
        &self,
        prepared: &Prepared,
        mut user_message: Message,
    ) -> Result<(Message, Option<ReplyEvents>), CoreError> {
        let sender = &prepared.sender;
        let conversation = &sender.conversation;
        let request = self.request_for(sender, &prepared.effective(), &user_message).await?;
        let stream = match self.ports.llm.stream(&request).await {
            Ok(stream) => stream,
            Err(e) => {
                tracing::warn!(error = %e, model = request.model, "model call failed");
                self.ports
                    .messages
                    .set_status(conversation, user_message.seq, MessageStatus::Failed, None)
                    .await?;
                return Err(e.into());
            }
        };
        let reply = NewMessage {
            role: Role::Assistant,
            author_id: BOT_AUTHOR.to_owned(),
            author_name: None,
            content: String::new(),
            status: MessageStatus::Streaming,
            created_at: self.now(),
            usage: None,
            client_message_id: None,
        };
        let reply = self.ports.messages.append(conversation, &reply).await?;
        self.ports
            .messages
            .set_status(conversation, user_message.seq, MessageStatus::Pending, Some(reply.seq))
            .await?;
        user_message.status = MessageStatus::Pending;
        user_message.reply_seq = Some(reply.seq);
        tracing::info!(model = request.model, reply_seq = reply.seq, "reply streaming");
        let events = self.spawn_generator(
            conversation.clone(),
            user_message.seq,
            reply,
            stream,
            prepared.bot.clone(),
        );
        Ok((user_message, Some(events)))
    }

    /// Runs the generator detached from the caller and returns its events; the events may
    /// be dropped (the client went away) without stopping it.
    fn spawn_generator(
        &self,
        conversation: Conversation,
        user_seq: u64,
        reply: Message,
        stream: ReplyStream,
        bot: BotConfig,
    ) -> ReplyEvents {
        let (events, receiver) = mpsc::unbounded_channel();
        let stop = self.generators.register(&conversation, reply.seq);
        let app = self.clone();
        tokio::spawn(async move {
            let seq = reply.seq;
            app.generate(&conversation, user_seq, reply, stream, &bot, &stop, &events)
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
        user_seq: u64,
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
        // Writes of the reply's text: the progressive saves and the final one(s).
        let mut saves = 0u32;
        let mut tick = tokio::time::interval(SAVE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let ending = loop {
            let save_now = tokio::select! {
                () = stop.notified() => break Ending::Stopped,
                () = tokio::time::sleep_until(deadline) => break Ending::Failed(LlmError::Timeout),
                _ = tick.tick() => reply.content.len() > saved,
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
                match self
                    .ports
                    .messages
                    .save_reply(conversation, &reply, MessageStatus::Streaming)
                    .await
                {
                    Ok(true) => {
                        saved = reply.content.len();
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
        let (reply, final_saves) = self.finish_reply(conversation, reply).await;
        saves += final_saves;
        let user_status = match reply.status {
            MessageStatus::Failed => MessageStatus::Failed,
            _ => MessageStatus::Complete,
        };
        if let Err(e) = self
            .ports
            .messages
            .set_status(conversation, user_seq, user_status, Some(reply.seq))
            .await
        {
            tracing::warn!(error = %e, "user message status not saved");
        }
        self.count_tokens(bot, reply.usage).await;
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

    /// Stores a reply's end, answering it and how many saves that took. If it is no
    /// longer `streaming` (a stop came first), a stopped reply keeps all the text
    /// written, and any other end stands as stored.
    async fn finish_reply(&self, conversation: &Conversation, mut reply: Message) -> (Message, u32) {
        let messages = &self.ports.messages;
        match messages
            .save_reply(conversation, &reply, MessageStatus::Streaming)
            .await
        {
            Ok(true) => return (reply, 1),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(error = %e, "reply end not saved");
                return (reply, 1);
            }
        }
        match messages.get(conversation, reply.seq).await {
            Ok(Some(stored)) if stored.status == MessageStatus::Stopped => {
                reply.status = MessageStatus::Stopped;
                reply.usage = None;
                if let Err(e) = messages.save_reply(conversation, &reply, MessageStatus::Stopped).await {
                    tracing::warn!(error = %e, "stopped reply not saved");
                }
                (reply, 2)
            }
            Ok(Some(stored)) => (stored, 1),
            Ok(None) => (reply, 1),
            Err(e) => {
                tracing::warn!(error = %e, "reply end not read");
                (reply, 1)
            }
        }
    }

    /// The reply `seq` from the store: its text after `after` characters, then its
    /// growth, read every [`FOLLOW_EVERY`], until it ends. One whose text has not
    /// changed for [`DEAD_AFTER`] is failed: its generator died.
    async fn follow_reply(&self, conversation: Conversation, seq: u64, after: usize) -> Result<ReplyEvents, CoreError> {
        self.bot_reply(&conversation, seq).await?;
        struct Follow {
            app: Parley,
            conversation: Conversation,
            seq: u64,
            sent: usize,
            changed: Instant,
            ended: bool,
        }
        let state = Follow {
            app: self.clone(),
            conversation,
            seq,
            sent: after,
            changed: Instant::now(),
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
                    f.changed = Instant::now();
                    return Some((ReplyEvent::Delta(delta), f));
                }
                if reply.status.is_final() {
                    f.ended = true;
                    return Some((end_event(reply), f));
                }
                if f.changed.elapsed() >= DEAD_AFTER {
                    let failed = messages
                        .set_status_if(&f.conversation, f.seq, MessageStatus::Streaming, MessageStatus::Failed)
                        .await;
                    if matches!(failed, Ok(true)) {
                        tracing::warn!(reply_seq = f.seq, "reply failed: its generator stopped writing");
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
