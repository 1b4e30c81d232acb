//! Custom extensions of a catalog (`catalogs/{id}/customWorkflowExtensions`): whoever manages the
//! catalog registers, replaces and removes them; their signing secrets are sealed like
//! connections' credentials and shown only when Gatehouse makes one.

use gatehouse_domain::authorization::Action;
use gatehouse_domain::custom_extension::{CustomExtension, CustomExtensionInput, ExtensionContext};
use gatehouse_store::{catalogs, custom_extensions};
use uuid::Uuid;

use crate::audit::{created, deleted, updated};
use crate::secrets::SecretsError;
use crate::{not_found, Actor, App, AppError, Result};

impl App {
    fn seal_extension(&self, e: &CustomExtension) -> Result<Option<String>> {
        let Some(secret) = &e.signing_secret else { return Ok(None) };
        Ok(Some(self.seal(secret.expose().as_bytes(), e.id)?))
    }

    fn open_extension(&self, stored: custom_extensions::Stored) -> Result<CustomExtension> {
        let mut e = stored.extension;
        if let Some(sealed) = stored.sealed_secret {
            let plain = self.open_sealed(&sealed, e.id)?;
            e.signing_secret = Some(gatehouse_domain::connection::Secret::new(
                String::from_utf8(plain).map_err(|_| SecretsError::Open)?,
            ));
        }
        Ok(e)
    }

    /// Register an extension; returns it and the signing secret when Gatehouse made it.
    pub async fn create_custom_extension(
        &self,
        actor: &Actor,
        catalog: Uuid,
        input: CustomExtensionInput,
    ) -> Result<(CustomExtension, Option<String>)> {
        let mut tx = self.store.begin().await?;
        if catalogs::get(&mut tx, catalog).await?.is_none() {
            return not_found("catalog", catalog);
        }
        actor.check(Action::ManageCatalog, catalog)?;
        let mut generated = None;
        let ctx = ExtensionContext {
            id: crate::new_id(),
            catalog_id: catalog,
            now: self.now(),
            by: actor_name(actor),
            existing: None,
        };
        let e = CustomExtension::build(input, ctx, || {
            let s = gatehouse_connectors::webhook::generate_secret();
            generated = Some(s.clone());
            s
        })?;
        custom_extensions::insert(&mut tx, &e, self.seal_extension(&e)?.as_deref()).await?;
        self.audit(&mut tx, actor, created("customExtension.create", "customExtension", e.id, &e.to_graph())).await?;
        tx.commit().await?;
        Ok((e, generated))
    }

    /// `PUT`: the whole extension again (a signing secret left out is kept).
    pub async fn replace_custom_extension(
        &self,
        actor: &Actor,
        catalog: Uuid,
        id: Uuid,
        input: CustomExtensionInput,
    ) -> Result<CustomExtension> {
        actor.check(Action::ManageCatalog, catalog)?;
        let mut tx = self.store.begin().await?;
        let before = match custom_extensions::get(&mut tx, id).await? {
            Some(s) if s.extension.catalog_id == catalog => self.open_extension(s)?,
            _ => return not_found("customWorkflowExtension", id),
        };
        let ctx = ExtensionContext {
            id,
            catalog_id: catalog,
            now: self.now(),
            by: actor_name(actor),
            existing: Some(&before),
        };
        let after = CustomExtension::build(input, ctx, || unreachable!("a stored extension has a secret"))?;
        custom_extensions::update(&mut tx, &after, self.seal_extension(&after)?.as_deref()).await?;
        let (was, is) = (before.to_graph(), after.to_graph());
        self.audit(&mut tx, actor, updated("customExtension.update", "customExtension", id, &was, &is)).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Remove an extension no policy names any more.
    pub async fn delete_custom_extension(&self, actor: &Actor, catalog: Uuid, id: Uuid) -> Result<()> {
        actor.check(Action::ManageCatalog, catalog)?;
        let mut tx = self.store.begin().await?;
        let e = match custom_extensions::get(&mut tx, id).await? {
            Some(s) if s.extension.catalog_id == catalog => s.extension,
            _ => return not_found("customWorkflowExtension", id),
        };
        let using = custom_extensions::policies_using(&mut tx, id).await?;
        if !using.is_empty() {
            return Err(AppError::Conflict(format!(
                "custom extension '{}' is named by policies: {}; remove it from their customExtensionStageSettings first",
                e.display_name,
                using.join(", ")
            )));
        }
        custom_extensions::delete(&mut tx, id).await?;
        self.audit(&mut tx, actor, deleted("customExtension.delete", "customExtension", id, &e.to_graph())).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn get_custom_extension(&self, actor: &Actor, catalog: Uuid, id: Uuid) -> Result<CustomExtension> {
        actor.check(Action::ReadCatalog, catalog)?;
        let mut conn = self.store.conn().await?;
        match custom_extensions::get(&mut conn, id).await? {
            Some(s) if s.extension.catalog_id == catalog => Ok(s.extension),
            _ => not_found("customWorkflowExtension", id),
        }
    }

    pub async fn list_custom_extensions(&self, actor: &Actor, catalog: Uuid) -> Result<Vec<CustomExtension>> {
        self.get_catalog(actor, catalog).await?;
        let mut conn = self.store.conn().await?;
        Ok(custom_extensions::in_catalog(&mut conn, catalog).await?.into_iter().map(|s| s.extension).collect())
    }

    /// An extension with its secret, for the workers' calls.
    pub async fn custom_extension(&self, id: Uuid) -> Result<CustomExtension> {
        let mut conn = self.store.conn().await?;
        match custom_extensions::get(&mut conn, id).await? {
            Some(s) => self.open_extension(s),
            None => not_found("customWorkflowExtension", id),
        }
    }
}

fn actor_name(actor: &Actor) -> Option<String> {
    actor.principal.as_ref().map(|p| p.display_name.clone())
}
