//! The package link (`/myaccess/packages/{id}`): what the signed-in person may ask for, under
//! which policies, or why they may not. Evaluated exactly as a submitted request is, so the
//! page never offers what `POST assignmentRequests` would refuse.

use gatehouse_domain::access_package::AccessPackage;
use gatehouse_domain::evaluation::{self, Purpose, SubjectKind};
use gatehouse_domain::policy::AssignmentPolicy;
use gatehouse_domain::settings::PrivacyProfile;
use gatehouse_store::{access_packages, assignments, catalogs, directory, policies, requests};
use uuid::Uuid;

use super::views::granted_resource_names;
use crate::{not_found, Actor, App, AppError, Result};

/// What the package page shows the signed-in person.
#[derive(Debug, Clone)]
pub struct PackageOffer {
    pub package: AccessPackage,
    /// The policies under which they may request it, most specific first; empty when refused.
    pub policies: Vec<AssignmentPolicy>,
    /// Why they may not request it, in plain words, when they may not.
    pub refusal: Option<String>,
    /// A guest or someone from outside: they accept the privacy statement, and do not see the
    /// package's resources until their request is approved.
    pub from_outside: bool,
    /// The resources the package grants; only ever filled for members.
    pub resources: Vec<String>,
    /// Their request for it that is still open, if any.
    pub open_request: Option<Uuid>,
    /// Their assignment of it, if they hold it already.
    pub assignment: Option<Uuid>,
    pub privacy: PrivacyProfile,
    pub organization_display_name: Option<String>,
}

impl App {
    /// The package as the caller may request it. Works for hidden packages: the link is how
    /// people reach them.
    pub async fn package_offer(&self, actor: &Actor, id: Uuid) -> Result<PackageOffer> {
        let me = actor.id().ok_or_else(|| AppError::Unauthenticated("sign in first".into()))?;
        let mut conn = self.store.conn().await?;
        let Some(package) = access_packages::get(&mut conn, id).await? else { return not_found("accessPackage", id) };
        let user = directory::get_user(&mut conn, me)
            .await?
            .ok_or_else(|| AppError::Unauthenticated("your account no longer exists".into()))?;
        let subject = crate::requests::subject_of(&mut conn, &user).await?;
        let catalog = catalogs::get(&mut conn, package.catalog_id)
            .await?
            .ok_or_else(|| AppError::Conflict("the package's catalog no longer exists".into()))?;
        let all = policies::of_package(&mut conn, id).await?;
        let settings = gatehouse_store::settings::get(&mut conn).await?;
        let mut refusal = match evaluation::choose_policy(&subject, &catalog, &all, Purpose::SelfAdd, None) {
            Ok(_) => None,
            Err(why) => Some(why.to_string()),
        };
        // The domain lists bind outsiders before any policy does (as on submit).
        if refusal.is_none() && matches!(subject.kind, SubjectKind::Guest { .. }) {
            let domain = user.mail.as_deref().and_then(gatehouse_domain::directory::email_domain);
            refusal = domain.and_then(|d| settings.refuses_domain(d));
        }
        let policies = if refusal.is_none() {
            evaluation::admitting_policies(&subject, &catalog, &all, Purpose::SelfAdd).into_iter().cloned().collect()
        } else {
            Vec::new()
        };
        let from_outside = subject.is_from_outside();
        let resources = if from_outside { Vec::new() } else { granted_resource_names(&mut conn, id).await? };
        let open_request = requests::open_for(&mut conn, id, me).await?;
        let assignment = assignments::active_for(&mut conn, id, me).await?.map(|a| a.id);
        Ok(PackageOffer {
            package,
            policies,
            refusal,
            from_outside,
            resources,
            open_request,
            assignment,
            privacy: settings.privacy_profile,
            organization_display_name: settings.organization_display_name,
        })
    }
}
