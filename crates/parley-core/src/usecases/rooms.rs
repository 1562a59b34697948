//! Rooms: several signed-in members with one bot, joined by a rotatable invite link.

use super::sessions::HistoryPage;
use super::{Parley, found};
use crate::error::CoreError;
use crate::ids::{InviteCode, RoomId, UserId};
use crate::message::Conversation;
use crate::policy;
use crate::ports::{Page, PageRequest};
use crate::principal::{Principal, User};
use crate::room::{ReplyMode, Room, RoomMember};
use crate::values::Title;

/// `POST /chat-room`.
#[derive(Clone, Debug, Default)]
pub struct NewRoom {
    pub chat_config_id: Option<String>,
    pub share_code: Option<String>,
    pub title: Option<String>,
    pub reply_mode: Option<ReplyMode>,
}

/// `POST /room/{id}/join`.
#[derive(Clone, Debug, Default)]
pub struct JoinRoom {
    pub invite_code: String,
}

impl Parley {
    /// `POST /chat-room`: the creator becomes the first member.
    pub async fn create_room(&self, principal: &Principal, input: NewRoom) -> Result<Room, CoreError> {
        let user = policy::require_user(principal)?;
        let title = input.title.as_deref().map(Title::parse).transpose()?;
        let (bot, share_code) = self
            .bot_for_new_conversation(principal, input.chat_config_id.as_deref(), input.share_code.as_deref())
            .await?;
        let now = self.now();
        let room = Room {
            room_id: RoomId::from_trusted(self.ports.ids.new_id()),
            chat_config_id: bot.chat_config_id.clone(),
            creator_id: user.id.clone(),
            title: title.unwrap_or_else(|| bot.title.clone()),
            reply_mode: input.reply_mode.unwrap_or(ReplyMode::Always),
            invite_code: InviteCode::from_trusted(self.ports.ids.new_secret()),
            share_code,
            created_at: now,
            updated_at: now,
        };
        self.ports.rooms.create(&room, &self.member(user)).await?;
        Ok(room)
    }

    /// The room, if the caller is a member.
    pub async fn get_room(&self, principal: &Principal, id: &RoomId) -> Result<(Room, Vec<RoomMember>), CoreError> {
        let (room, _) = self.room_as_member(principal, id).await?;
        let members = self.ports.rooms.list_members(id).await?;
        Ok((room, members))
    }

    /// `GET /chat-rooms`: rooms the caller is a member of.
    pub async fn list_rooms(&self, principal: &Principal, page: &PageRequest) -> Result<Page<Room>, CoreError> {
        let user = policy::require_user(principal)?;
        Ok(self.ports.rooms.list_by_member(&user.id, page).await?)
    }

    /// `DELETE /room/{id}`: creator only; members and messages go with it.
    pub async fn delete_room(&self, principal: &Principal, id: &RoomId) -> Result<(), CoreError> {
        let (room, user) = self.room_as_member(principal, id).await?;
        policy::require_room_creator(user, &room)?;
        self.ports.rooms.delete(id).await?;
        Ok(())
    }

    /// `POST /room/{id}/join`: any signed-in user holding the current invite code, while
    /// the bot is shared with them and the room's share link still holds. A wrong or
    /// rotated code is a 404, like a room that does not exist.
    pub async fn join_room(&self, principal: &Principal, id: &RoomId, input: JoinRoom) -> Result<Room, CoreError> {
        let user = policy::require_user(principal)?;
        let code = InviteCode::parse(&input.invite_code).map_err(|_| CoreError::NotFound)?;
        let room = found(self.ports.rooms.get(id).await)?;
        if room.invite_code != code {
            return Err(CoreError::NotFound);
        }
        let bot = found(self.ports.bots.get(&room.chat_config_id).await)?;
        policy::link_still_open(&bot, room.share_code.as_ref())?;
        policy::bot_chat(principal, &bot)?;
        self.ports.rooms.add_member(id, &self.member(user)).await?;
        Ok(room)
    }

    /// `POST /room/{id}/invite-link`: a new invite code; the old one stops working.
    pub async fn rotate_invite(&self, principal: &Principal, id: &RoomId) -> Result<Room, CoreError> {
        let (mut room, user) = self.room_as_member(principal, id).await?;
        policy::require_room_creator(user, &room)?;
        room.invite_code = InviteCode::from_trusted(self.ports.ids.new_secret());
        room.updated_at = self.now();
        self.ports.rooms.update(&room).await?;
        Ok(room)
    }

    /// `DELETE /room/{id}/members/{userId}`: the creator removes anyone but
    /// themselves; a member may remove (leave) only themselves. A removal by the creator
    /// also rotates the invite, so that the removed member's copy of it no longer lets
    /// them back in.
    pub async fn remove_member(&self, principal: &Principal, id: &RoomId, member: &UserId) -> Result<(), CoreError> {
        let (mut room, user) = self.room_as_member(principal, id).await?;
        let removed_by_creator = &user.id != member;
        if removed_by_creator {
            policy::require_room_creator(user, &room)?;
        } else if room.creator_id == user.id {
            return Err(CoreError::Conflict(
                "the creator cannot leave the room; delete it instead",
            ));
        }
        found(self.ports.rooms.get_member(id, member).await)?;
        if removed_by_creator {
            // The invite first: were the removal to fail after it, the member would still
            // be in, and a retry finishes the job; the other order could leave the old
            // invite working for someone already out.
            room.invite_code = InviteCode::from_trusted(self.ports.ids.new_secret());
            room.updated_at = self.now();
            self.ports.rooms.update(&room).await?;
        }
        self.ports.rooms.remove_member(id, member).await?;
        Ok(())
    }

    /// `GET /room/{id}/messages?after=&before=&limit=`.
    pub async fn room_history(
        &self,
        principal: &Principal,
        id: &RoomId,
        before: Option<u64>,
        after: Option<u64>,
        limit: Option<i64>,
    ) -> Result<HistoryPage, CoreError> {
        self.room_as_member(principal, id).await?;
        self.history(&Conversation::Room(id.clone()), before, after, limit)
            .await
    }

    /// The room and the calling user, if they are a member; 404 otherwise.
    pub(super) async fn room_as_member<'p>(
        &self,
        principal: &'p Principal,
        id: &RoomId,
    ) -> Result<(Room, &'p User), CoreError> {
        let user = policy::require_user(principal)?;
        let (room, _) = found(self.ports.rooms.get_with_member(id, &user.id).await)?;
        Ok((room, user))
    }

    fn member(&self, user: &User) -> RoomMember {
        RoomMember {
            user_id: user.id.clone(),
            display_name: user.display_name(),
            joined_at: self.now(),
        }
    }
}
