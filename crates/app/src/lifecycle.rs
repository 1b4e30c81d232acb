//! Clock-driven lifecycle: assignments expire (as `systemRemove` requests, delivered and
//! audited like any removal), requestors are reminded before, and guests whose last assignment
//! ended are blocked, then deleted, as the entitlement-management settings say.

use chrono::Duration as Span;
use gatehouse_domain::custom_extension::CalloutStage;
use gatehouse_domain::enums::{ExternalUserLifecycleAction, RequestType, UserType};
use gatehouse_domain::request::AssignmentRequest;
use gatehouse_store::{access_packages, assignments, directory, requests, WriteTx};
use uuid::Uuid;

use crate::audit::{created, deleted, updated};
use crate::delivery::Mail;
use crate::{Actor, App, Result};

const SWEEP_BATCH: i64 = 500;

impl App {
    /// End every assignment whose expiry has come. Returns how many ended.
    pub async fn expire_assignments(&self) -> Result<usize> {
        let now = self.now();
        let ended = {
            let mut conn = self.store.conn().await?;
            assignments::ended(&mut conn, now, SWEEP_BATCH).await?
        };
        // One transaction for the whole batch: a sweep of many expiries costs one commit, not
        // one each.
        let mut tx = self.store.begin().await?;
        let mut count = 0;
        for a in ended {
            // Claim the assignment: of several replicas sweeping at once, one wins the row.
            if !assignments::claim_expiring(&mut tx, a.id, now).await? {
                continue;
            }
            let mut request =
                AssignmentRequest::for_assignment(crate::new_id(), RequestType::SystemRemove, &a, None, now);
            let mut ids = crate::new_id;
            let events = request.submit(Vec::new(), &[], &mut ids, now);
            requests::insert(&mut tx, &request).await?;
            let actor = Actor::system();
            let summary =
                serde_json::json!({"requestType": request.request_type, "assignmentId": a.id, "reason": "expired"});
            self.audit(&mut tx, &actor, created("assignmentRequest.submit", "assignmentRequest", request.id, &summary))
                .await?;
            self.act_on(&mut tx, &actor, &mut request, None, events).await?;
            requests::update(&mut tx, &request).await?;
            count += 1;
        }
        tx.commit().await?;
        if count > 0 {
            self.wake_workers();
        }
        Ok(count)
    }

    /// Remind targets 14 days and 1 day before their access ends. Returns mails queued.
    pub async fn remind_expiring(&self) -> Result<usize> {
        let now = self.now();
        let mut count = 0;
        // The nearer reminder first, so an assignment already inside a day gets only that one.
        for (sent, days) in [(2i64, 1i64), (1, 14)] {
            let due = {
                let mut conn = self.store.conn().await?;
                assignments::ending_before(&mut conn, now, now + Span::days(days), sent, SWEEP_BATCH).await?
            };
            let mut tx = self.store.begin().await?;
            for a in due {
                let name = access_packages::get(&mut tx, a.access_package_id)
                    .await?
                    .map_or_else(|| "an access package".into(), |p| p.display_name);
                let end = a.end_date_time.map(|e| e.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default();
                let mail = Mail {
                    to: vec![a.target_id],
                    to_addresses: vec![],
                    subject: format!("Your access to {name} ends on {end}"),
                    body: format!(
                        "Your access to {name} ends on {end}. Request an extension if you still need it: {}",
                        self.link("/myaccess/access")
                    ),
                };
                self.enqueue_mail(&mut tx, mail, a.request_id).await?;
                assignments::set_reminders_sent(&mut tx, a.id, sent).await?;
                let stage = if days == 1 {
                    CalloutStage::AssignmentOneDayBeforeExpiration
                } else {
                    CalloutStage::AssignmentFourteenDaysBeforeExpiration
                };
                self.call_out_before_expiry(&mut tx, &a, stage).await?;
                count += 1;
            }
            tx.commit().await?;
        }
        if count > 0 {
            self.wake_workers();
        }
        Ok(count)
    }

    /// A guest's assignment ended: when it was their last, block them (and schedule deletion).
    pub(crate) async fn after_assignment_ended(&self, conn: &mut WriteTx, actor: &Actor, target: Uuid) -> Result<()> {
        let Some(user) = directory::get_user(conn, target).await? else { return Ok(()) };
        if user.user_type != UserType::Guest
            || !user.account_enabled
            || assignments::active_count(conn, target).await? > 0
        {
            return Ok(());
        }
        let settings = gatehouse_store::settings::get(conn).await?;
        if settings.external_user_lifecycle_action == ExternalUserLifecycleAction::None {
            return Ok(());
        }
        directory::set_blocked(conn, target, Some(self.now())).await?;
        // A disabled account is refused on every request anyway; ending the sessions makes the
        // session list say so too.
        gatehouse_store::sessions::end_all_for_user(conn, target, self.now()).await?;
        let after = directory::get_user(conn, target).await?.unwrap_or(user.clone());
        self.audit(conn, actor, updated("user.block", "user", target, &user, &after)).await?;
        Ok(())
    }

    /// A blocked guest gets access again before deletion: unblock them.
    pub(crate) async fn before_assignment_granted(
        &self,
        conn: &mut WriteTx,
        actor: &Actor,
        target: Uuid,
    ) -> Result<()> {
        if directory::blocked_since(conn, target).await?.is_none() {
            return Ok(());
        }
        let Some(before) = directory::get_user(conn, target).await? else { return Ok(()) };
        directory::set_blocked(conn, target, None).await?;
        let after = directory::get_user(conn, target).await?.unwrap_or(before.clone());
        self.audit(conn, actor, updated("user.unblock", "user", target, &before, &after)).await?;
        Ok(())
    }

    /// Delete guests blocked longer than the settings allow. Returns how many were deleted.
    pub async fn delete_expired_guests(&self) -> Result<usize> {
        let now = self.now();
        let settings = {
            let mut conn = self.store.conn().await?;
            gatehouse_store::settings::get(&mut conn).await?
        };
        if settings.external_user_lifecycle_action != ExternalUserLifecycleAction::BlockSignInAndDelete {
            return Ok(0);
        }
        let cutoff = now - settings.duration_until_external_user_deleted_after_blocked.to_chrono();
        let due = {
            let mut conn = self.store.conn().await?;
            directory::blocked_before(&mut conn, cutoff, SWEEP_BATCH).await?
        };
        let mut count = 0;
        let mut tx = self.store.begin().await?;
        for id in due {
            let still_due = directory::blocked_since(&mut tx, id).await?.is_some_and(|b| b <= cutoff);
            if !still_due || assignments::active_count(&mut tx, id).await? > 0 {
                continue;
            }
            let Some(user) = directory::get_user(&mut tx, id).await? else { continue };
            // Their ended assignments and requests stay, for the audit trail; the account goes.
            directory::leave_all_groups(&mut tx, id).await?;
            directory::delete_user(&mut tx, id).await?;
            self.audit(&mut tx, &Actor::system(), deleted("user.delete", "user", id, &user)).await?;
            count += 1;
        }
        tx.commit().await?;
        Ok(count)
    }
}
