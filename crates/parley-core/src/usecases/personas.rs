//! Persona documents of a bot: upload, read, list, delete. The owner writes them; the
//! owner and admins read them (everyone else knows the bot only by its share code).

use super::{Parley, found};
use crate::error::CoreError;
use crate::ids::BotId;
use crate::persona::{Persona, PersonaDoc, PersonaInfo, PersonaKind};
use crate::policy;
use crate::principal::Principal;

impl Parley {
    /// Refuses a caller who may not write the bot's persona, before an upload is read
    /// or a PDF parsed on their behalf. [`Parley::put_persona`] checks again.
    pub async fn check_persona_writer(&self, principal: &Principal, id: &BotId) -> Result<(), CoreError> {
        let (bot, _) = self.managed_bot(principal, id).await?;
        policy::require_bot_owner(principal, &bot)?;
        Ok(())
    }

    /// `PUT /chat-config/{id}/persona/{kind}`: stores the upload, replacing the bot's
    /// document of that kind. `extracted` is a profile PDF's text.
    #[tracing::instrument(skip_all, fields(bot_id = %id, kind = %kind, bytes = body.len()))]
    pub async fn put_persona(
        &self,
        principal: &Principal,
        id: &BotId,
        kind: PersonaKind,
        body: Vec<u8>,
        extracted: Option<String>,
    ) -> Result<PersonaInfo, CoreError> {
        let (bot, _) = self.managed_bot(principal, id).await?;
        policy::require_bot_owner(principal, &bot)?;
        let doc = PersonaDoc::from_upload(kind, body, extracted, self.now())?;
        self.ports.personas.put(id, &doc).await?;
        tracing::info!(text_bytes = doc.text.len(), "persona document stored");
        Ok(doc.info())
    }

    /// `GET /chat-config/{id}/persona/{kind}`.
    pub async fn get_persona(
        &self,
        principal: &Principal,
        id: &BotId,
        kind: PersonaKind,
    ) -> Result<PersonaDoc, CoreError> {
        self.managed_bot(principal, id).await?;
        found(self.ports.personas.get(id, kind).await)
    }

    /// `GET /chat-config/{id}/persona`: which documents the bot has.
    pub async fn list_persona(&self, principal: &Principal, id: &BotId) -> Result<Vec<PersonaInfo>, CoreError> {
        self.managed_bot(principal, id).await?;
        Ok(self.ports.personas.list(id).await?)
    }

    /// `DELETE /chat-config/{id}/persona/{kind}`; `NotFound` when there is none.
    pub async fn delete_persona(&self, principal: &Principal, id: &BotId, kind: PersonaKind) -> Result<(), CoreError> {
        let (bot, _) = self.managed_bot(principal, id).await?;
        policy::require_bot_owner(principal, &bot)?;
        if self.ports.personas.delete(id, kind).await? {
            Ok(())
        } else {
            Err(CoreError::NotFound)
        }
    }

    /// The persona a model call reads, loaded once per send.
    pub(super) async fn persona_of(&self, id: &BotId) -> Result<Persona, CoreError> {
        Ok(Persona::new(self.ports.personas.texts(id).await?))
    }
}
