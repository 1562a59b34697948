//! Bot configs: create, read, update, delete, share links, suspension.

use super::{Parley, found};
use crate::bot::{BotConfig, Limits, Memory, OverridePolicy, PublicBotView, PublicPersonaDoc, Sharing, SharingMode};
use crate::error::{CoreError, StoreError};
use crate::ids::{BotId, ShareCode};
use crate::policy::{self, BotAccess};
use crate::ports::{Page, PageRequest};
use crate::principal::{Principal, User};
use crate::quota::{Tier, tier_of};
use crate::values::{
    Description, Greeting, SystemPrompt, Temperature, Title, limits, parse_max_output_tokens, parse_range,
};

/// The fields of a bot a caller may set, all optional (a create fills defaults, an update
/// keeps what is stored). AI Maker's snake_case names are accepted too.
#[derive(Clone, Debug, Default)]
pub struct BotFields {
    pub title: Option<String>,
    pub description: Option<String>,
    pub greeting: Option<String>,
    pub model: Option<String>,
    pub system_prompt: Option<String>,
    pub temperature: Option<f64>,
    pub max_output_tokens: Option<i64>,
    pub sharing: Option<SharingFields>,
    /// Which overrides sessions may make (see [`OverridePolicy`]).
    pub session_overrides: Option<OverrideFields>,
    /// The earlier switch: `true` lets sessions change their temperature (only),
    /// `false` turns every override off. `sessionOverrides` says more.
    pub allow_session_overrides: Option<bool>,
    pub memory: Option<MemoryFields>,
    pub limits: Option<LimitsFields>,
}

#[derive(Clone, Debug, Default)]
pub struct SharingFields {
    pub mode: Option<SharingMode>,
    pub show_prompt: Option<bool>,
}

#[derive(Clone, Debug, Default)]
pub struct OverrideFields {
    pub temperature: Option<bool>,
    pub system_prompt: Option<bool>,
    pub models: Option<Vec<String>>,
}

#[derive(Clone, Debug, Default)]
pub struct MemoryFields {
    pub max_messages: Option<i64>,
    pub max_tokens: Option<i64>,
}

#[derive(Clone, Debug, Default)]
pub struct LimitsFields {
    pub guest_messages_per_session: Option<i64>,
    pub daily_messages: Option<i64>,
}

/// The bots a listing returns.
pub type BotList = Page<BotConfig>;

impl Parley {
    /// `POST /create-chat`.
    #[tracing::instrument(skip_all)]
    pub async fn create_bot(&self, principal: &Principal, fields: BotFields) -> Result<BotConfig, CoreError> {
        let user = policy::require_creator(principal, self.settings.creators_group.as_deref())?;
        let now = self.now();
        let title = fields
            .title
            .as_deref()
            .ok_or_else(|| CoreError::validation("title", "is required"))?;
        let mut bot = BotConfig {
            chat_config_id: BotId::from_trusted(self.ports.ids.new_id()),
            owner_id: user.id.clone(),
            title: Title::parse(title)?,
            description: Description::from_trusted(""),
            greeting: Greeting::from_trusted(""),
            model: self.catalog.default_model().clone(),
            system_prompt: SystemPrompt::from_trusted(""),
            temperature: Temperature::default(),
            max_output_tokens: BotConfig::DEFAULT_MAX_OUTPUT_TOKENS,
            sharing: Sharing {
                mode: SharingMode::Anyone,
                show_prompt: false,
            },
            share_code: ShareCode::from_trusted(self.ports.ids.new_secret()),
            session_overrides: OverridePolicy::default(),
            memory: BotConfig::DEFAULT_MEMORY,
            limits: BotConfig::DEFAULT_LIMITS,
            suspended: false,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        self.apply_fields(&mut bot, fields, tier_of(user))?;
        self.ports.bots.create(&bot).await?;
        tracing::info!(bot_id = %bot.chat_config_id, model = bot.model.as_str(), "bot created");
        Ok(bot)
    }

    /// `GET /chat-config/{id}`: the full config, for its owner and admins only; to
    /// anyone else the id names nothing.
    pub async fn get_bot(&self, principal: &Principal, id: &BotId) -> Result<BotConfig, CoreError> {
        Ok(self.managed_bot(principal, id).await?.0)
    }

    /// `GET /share/{shareCode}`: the public view of a shared bot, with its persona's
    /// texts when the owner shows the prompt.
    pub async fn get_shared_bot(&self, principal: &Principal, code: &str) -> Result<PublicBotView, CoreError> {
        let bot = self.bot_by_share_code(code).await?;
        policy::bot_chat(principal, &bot)?;
        let mut view = PublicBotView::from(&bot);
        if bot.sharing.show_prompt {
            view.persona = self
                .ports
                .personas
                .texts(&bot.chat_config_id)
                .await?
                .into_iter()
                .map(|(kind, text)| PublicPersonaDoc { kind, text })
                .collect();
        }
        Ok(view)
    }

    /// The bot with this id and how the caller relates to it, for its owner and admins.
    /// Who is calling is checked before the bot is loaded, so that an anonymous caller
    /// gets the same 401 whether or not the id exists.
    pub(super) async fn managed_bot(
        &self,
        principal: &Principal,
        id: &BotId,
    ) -> Result<(BotConfig, BotAccess), CoreError> {
        policy::require_user(principal)?;
        let bot = found(self.ports.bots.get(id).await)?;
        let access = policy::bot_manager(principal, &bot)?;
        Ok((bot, access))
    }

    /// `GET /chat-configs`: mine, or every bot for an admin asking `scope=all`.
    pub async fn list_bots(&self, principal: &Principal, all: bool, page: &PageRequest) -> Result<BotList, CoreError> {
        if all {
            policy::require_admin(principal)?;
            return Ok(self.ports.bots.list_all(page).await?);
        }
        let user = policy::require_user(principal)?;
        Ok(self.ports.bots.list_by_owner(&user.id, page).await?)
    }

    /// `PUT /chat-config/{id}`: an update by the owner, refused with
    /// `PreconditionFailed` if `expected_version` is given and stale, or if another
    /// write lands between this read and this write.
    pub async fn update_bot(
        &self,
        principal: &Principal,
        id: &BotId,
        fields: BotFields,
        expected_version: Option<u64>,
    ) -> Result<BotConfig, CoreError> {
        let (mut bot, _) = self.managed_bot(principal, id).await?;
        let user = policy::require_bot_owner(principal, &bot)?;
        let read_version = bot.version;
        if expected_version.is_some_and(|v| v != read_version) {
            return Err(CoreError::PreconditionFailed);
        }
        let was_shared = bot.sharing.mode != SharingMode::Private;
        self.apply_fields(&mut bot, fields, tier_of(user))?;
        if was_shared && bot.sharing.mode == SharingMode::Private {
            // Turning sharing off revokes the link for good: sharing again gives a new one.
            bot.share_code = ShareCode::from_trusted(self.ports.ids.new_secret());
        }
        self.save(&mut bot, read_version).await?;
        Ok(bot)
    }

    /// `DELETE /chat-config/{id}`, with the bot's persona documents. Those go first: if
    /// the bot's own delete then fails, a retry finds the bot and finishes the job,
    /// whereas the other order could leave documents that nothing points to.
    pub async fn delete_bot(&self, principal: &Principal, id: &BotId) -> Result<(), CoreError> {
        let (bot, _) = self.managed_bot(principal, id).await?;
        policy::require_bot_owner(principal, &bot)?;
        self.ports.personas.delete_all(id).await?;
        self.ports.bots.delete(id).await?;
        Ok(())
    }

    /// `POST /chat-config/{id}/share-link`: a new share code; the old link stops working.
    pub async fn rotate_share_link(&self, principal: &Principal, id: &BotId) -> Result<BotConfig, CoreError> {
        let (mut bot, _) = self.managed_bot(principal, id).await?;
        policy::require_bot_owner(principal, &bot)?;
        let read_version = bot.version;
        bot.share_code = ShareCode::from_trusted(self.ports.ids.new_secret());
        self.save(&mut bot, read_version).await?;
        Ok(bot)
    }

    /// `POST /chat-config/{id}/suspend` and `/unsuspend`, for admins.
    pub async fn set_suspended(
        &self,
        principal: &Principal,
        id: &BotId,
        suspended: bool,
    ) -> Result<BotConfig, CoreError> {
        let admin = policy::require_admin(principal)?;
        let mut bot = found(self.ports.bots.get(id).await)?;
        let read_version = bot.version;
        bot.suspended = suspended;
        self.save(&mut bot, read_version).await?;
        tracing::info!(bot_id = %id, admin = %admin.id, suspended, "bot suspension changed");
        Ok(bot)
    }

    /// Messages counted today against the bot's daily limit and the tokens its replies
    /// used today, shown to owners and admins.
    pub async fn bot_usage_today(&self, bot: &BotConfig) -> Result<(u32, u32), CoreError> {
        let messages = self.ports.quotas.used(&self.bot_daily_key(&bot.chat_config_id)).await?;
        let tokens = self
            .ports
            .quotas
            .used(&self.bot_daily_tokens_key(&bot.chat_config_id))
            .await?;
        Ok((messages, tokens))
    }

    pub(super) async fn bot_by_share_code(&self, code: &str) -> Result<BotConfig, CoreError> {
        // A malformed code cannot name a bot: not found, like a rotated one.
        let code = ShareCode::parse(code).map_err(|_| CoreError::NotFound)?;
        let bot = found(self.ports.bots.find_by_share_code(&code).await)?;
        // The store's lookup found a candidate; the code itself is compared here, in
        // constant time, whatever the store's index matched on. A private bot has its
        // link turned off.
        if bot.share_code != code || bot.sharing.mode == SharingMode::Private {
            Err(CoreError::NotFound)
        } else {
            Ok(bot)
        }
    }

    pub(super) fn bot_daily_key(&self, id: &BotId) -> String {
        format!("bot#{id}#{}", self.now().format("%Y-%m-%d"))
    }

    pub(super) fn bot_daily_tokens_key(&self, id: &BotId) -> String {
        format!("tokens#bot#{id}#{}", self.now().format("%Y-%m-%d"))
    }

    async fn save(&self, bot: &mut BotConfig, read_version: u64) -> Result<(), CoreError> {
        bot.version = read_version + 1;
        bot.updated_at = self.now();
        self.ports.bots.update(bot, read_version).await.map_err(|e| match e {
            StoreError::VersionMismatch => CoreError::PreconditionFailed,
            other => other.into(),
        })
    }

    fn apply_fields(&self, bot: &mut BotConfig, f: BotFields, tier: Tier) -> Result<(), CoreError> {
        if let Some(v) = f.title {
            bot.title = Title::parse(&v)?;
        }
        if let Some(v) = f.description {
            bot.description = Description::parse(&v)?;
        }
        if let Some(v) = f.greeting {
            bot.greeting = Greeting::parse(&v)?;
        }
        if let Some(v) = f.model {
            bot.model = self.catalog.allowed(&v)?;
        }
        if let Some(v) = f.system_prompt {
            bot.system_prompt = SystemPrompt::parse(&v)?;
        }
        if let Some(v) = f.temperature {
            bot.temperature = Temperature::parse(v)?;
        }
        if let Some(v) = f.max_output_tokens {
            bot.max_output_tokens = parse_max_output_tokens(v)?;
        }
        if let Some(s) = f.sharing {
            bot.sharing.mode = s.mode.unwrap_or(bot.sharing.mode);
            bot.sharing.show_prompt = s.show_prompt.unwrap_or(bot.sharing.show_prompt);
        }
        if let Some(v) = f.allow_session_overrides {
            bot.session_overrides = OverridePolicy {
                temperature: v,
                ..OverridePolicy::default()
            };
        }
        if let Some(o) = f.session_overrides {
            self.apply_override_fields(&mut bot.session_overrides, o)?;
        }
        if let Some(m) = f.memory {
            let max_messages = m
                .max_messages
                .map(|v| parse_range("memory.maxMessages", v, 1, limits::MEMORY_MESSAGES_MAX));
            let max_tokens = m.max_tokens.map(|v| {
                parse_range(
                    "memory.maxTokens",
                    v,
                    limits::MEMORY_TOKENS_MIN,
                    limits::MEMORY_TOKENS_MAX,
                )
            });
            bot.memory = Memory {
                max_messages: max_messages.transpose()?.unwrap_or(bot.memory.max_messages),
                max_tokens: max_tokens.transpose()?.unwrap_or(bot.memory.max_tokens),
            };
        }
        if let Some(l) = f.limits {
            let guest = l.guest_messages_per_session.map(|v| {
                parse_range(
                    "limits.guestMessagesPerSession",
                    v,
                    1,
                    tier.guest_messages_per_session_max,
                )
            });
            let daily = l
                .daily_messages
                .map(|v| parse_range("limits.dailyMessages", v, 1, tier.bot_daily_messages_max));
            bot.limits = Limits {
                guest_messages_per_session: guest.transpose()?.unwrap_or(bot.limits.guest_messages_per_session),
                daily_messages: daily.transpose()?.unwrap_or(bot.limits.daily_messages),
            };
        }
        if bot.session_overrides.system_prompt && !bot.sharing.show_prompt {
            return Err(CoreError::validation(
                "sessionOverrides.systemPrompt",
                "needs sharing.showPrompt: a session's prompt cannot be combined with a hidden prompt or persona",
            ));
        }
        Ok(())
    }

    fn apply_override_fields(&self, policy: &mut OverridePolicy, f: OverrideFields) -> Result<(), CoreError> {
        policy.temperature = f.temperature.unwrap_or(policy.temperature);
        policy.system_prompt = f.system_prompt.unwrap_or(policy.system_prompt);
        if let Some(models) = f.models {
            if models.len() > OverridePolicy::MODELS_MAX {
                return Err(CoreError::validation(
                    "sessionOverrides.models",
                    format!("may list at most {} models", OverridePolicy::MODELS_MAX),
                ));
            }
            let mut allowed = Vec::with_capacity(models.len());
            for m in &models {
                let model = self.catalog.allowed(m).map_err(|_| {
                    CoreError::validation("sessionOverrides.models", format!("{m:?} is not an allowed model"))
                })?;
                if !allowed.contains(&model) {
                    allowed.push(model);
                }
            }
            policy.models = allowed;
        }
        Ok(())
    }
}

/// Whether the caller is the bot's owner (used to decide what a view may include).
pub fn is_owner(principal: &Principal, bot: &BotConfig) -> bool {
    principal.user().is_some_and(|u: &User| u.id == bot.owner_id)
}
