//! What a caller may see of the directory. Members and administrators read all of it (as in
//! Entra, where members can read the directory); a guest who is an external sponsor of
//! connected organizations sees the guests of those organizations (whom they approve and
//! vouch for) and themselves; any other guest is refused. Guests never see members through
//! this, so a partner's sponsor learns nothing about the host or about other partners.

use gatehouse_domain::directory::User;
use gatehouse_domain::enums::UserType;
use gatehouse_store::query::{Param, Where};
use gatehouse_store::Conn;
use uuid::Uuid;

use crate::{not_found, Actor, App, AppError, ListQuery, Page, Result};

/// Users of the organizations `sponsor` externally sponsors, plus the sponsor.
fn sponsored_by(scope: Where, sponsor: Uuid) -> Where {
    let me = Param::Text(sponsor.to_string());
    scope.and_eq(
        "t.id = {} OR (t.user_type = 'Guest' AND t.connected_organization_id IN
         (SELECT organization_id FROM connected_organization_sponsors WHERE kind = 'external' AND user_id = {}))",
        me,
    )
}

/// `None`: the whole directory; `Some(me)`: only what `me` sponsors.
async fn directory_view(conn: &mut Conn, actor: &Actor) -> Result<Option<Uuid>> {
    let Some(p) = &actor.principal else { return Ok(None) };
    if p.user_type == UserType::Member || !p.directory_roles.is_empty() {
        return Ok(None);
    }
    if !gatehouse_store::connected_organizations::sponsors_any(conn, p.user_id).await? {
        return Err(AppError::Forbidden(
            "this operation needs a member account (or sponsoring a connected organization)".into(),
        ));
    }
    Ok(Some(p.user_id))
}

impl App {
    /// `GET /users` as the caller may see it.
    pub async fn list_users_visible(&self, actor: &Actor, q: ListQuery<'_>) -> Result<Page<User>> {
        let view = {
            let mut conn = self.store.conn().await?;
            directory_view(&mut conn, actor).await?
        };
        let scope = match view {
            None => Where::new(),
            Some(me) => sponsored_by(Where::new(), me),
        };
        self.list_users(scope, q).await
    }

    /// `GET /users/{id}` as the caller may see it: someone a sponsor may not see does not
    /// exist for them.
    pub async fn get_user_visible(&self, actor: &Actor, id: Uuid) -> Result<User> {
        let view = {
            let mut conn = self.store.conn().await?;
            directory_view(&mut conn, actor).await?
        };
        let user = self.get_user(id).await?;
        match view {
            Some(me) if user.id != me => {
                let scope = sponsored_by(Where::new(), me).and_eq("t.id = {}", Param::Text(id.to_string()));
                let page = self.list_users(scope, ListQuery::EXPANDED).await?;
                page.items.into_iter().next().map_or_else(|| not_found("user", id), Ok)
            }
            _ => Ok(user),
        }
    }
}
