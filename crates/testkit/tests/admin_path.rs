//! The seeds' admin path, end to end over HTTP, on both backends.

use gatehouse_testkit::{both_backends, json, TestServer, EM};

async fn admin_walks_the_extranet_setup(s: TestServer) {
    // Directory: an internal sponsor (member), an external sponsor (guest) and the group.
    let alex =
        s.post("/v1.0/users", json!({"displayName": "Alex Wilber", "mail": "alex@contoso.example"})).await.expect(201);
    let group = s.post("/v1.0/groups", json!({"displayName": "Cross-Org Team"})).await.expect(201);
    assert_eq!(group["@odata.type"], "#microsoft.graph.group");

    // Connected organization with a domain, then sponsors by $ref.
    let org = s
        .post(
            &format!("{EM}/connectedOrganizations"),
            json!({"displayName": "Fabrikam", "description": "Tier-1 supplier",
                   "identitySources": [{"@odata.type": "#microsoft.graph.domainIdentitySource",
                                        "domainName": "fabrikam.example", "displayName": "fabrikam.example"}]}),
        )
        .await
        .expect(201);
    assert_eq!(org["state"], "configured");
    assert!(org["@odata.context"].as_str().unwrap().ends_with("connectedOrganizations/$entity"));
    let org_id = org["id"].as_str().unwrap().to_owned();
    let ana = s
        .post("/v1.0/users", json!({"displayName": "Ana Silva", "mail": "ana@fabrikam.example", "userType": "Guest", "connectedOrganizationId": org_id}))
        .await
        .expect(201);
    assert_eq!(ana["externalUserState"], "PendingAcceptance");
    s.post(
        &format!("{EM}/connectedOrganizations/{org_id}/internalSponsors/$ref"),
        json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/users/{}", alex["id"].as_str().unwrap())}),
    )
    .await
    .expect(204);
    s.post(
        &format!("{EM}/connectedOrganizations/{org_id}/externalSponsors/$ref"),
        json!({"@odata.id": format!("{}/v1.0/directoryObjects/{}", s.base_url, ana["id"].as_str().unwrap())}),
    )
    .await
    .expect(204);
    let sponsors = s.get(&format!("{EM}/connectedOrganizations/{org_id}/externalSponsors")).await.expect(200);
    assert_eq!(sponsors["value"][0]["displayName"], "Ana Silva");

    // Catalog enabled for external users; the group enters it through a resource request.
    let catalog = s
        .post(
            &format!("{EM}/catalogs"),
            json!({"displayName": "Partner extranet", "state": "published", "isExternallyVisible": true}),
        )
        .await
        .expect(201);
    assert_eq!(catalog["catalogType"], "userManaged");
    let catalog_id = catalog["id"].as_str().unwrap().to_owned();
    let request = s
        .post(
            &format!("{EM}/resourceRequests"),
            json!({"requestType": "adminAdd", "catalog": {"id": catalog_id},
                   "resource": {"displayName": "Cross-Org Team", "originId": group["id"], "originSystem": "AadGroup"}}),
        )
        .await
        .expect(201);
    assert_eq!(request["state"], "delivered");
    let resources = s.get(&format!("{EM}/catalogs/{catalog_id}/resources?$expand=roles,scopes")).await.expect(200);
    let resource = &resources["value"][0];
    assert_eq!(resource["originSystem"], "AadGroup");
    let member_role =
        resource["roles"].as_array().unwrap().iter().find(|r| r["displayName"] == "Member").unwrap().clone();
    assert_eq!(member_role["originId"], format!("Member_{}", group["id"].as_str().unwrap()));
    let scope = resource["scopes"][0].clone();
    assert_eq!(scope["isRootScope"], true);
    let roles = s
        .get(&format!(
            "{EM}/catalogs/{catalog_id}/resourceRoles?$filter=(originSystem eq 'AadGroup' and resource/id eq '{}')&$expand=resource",
            resource["id"].as_str().unwrap()
        ))
        .await
        .expect(200);
    assert_eq!(roles["value"].as_array().unwrap().len(), 2);
    assert_eq!(roles["value"][0]["resource"]["id"], resource["id"]);

    // The package with the group's Member role.
    let package = s
        .post(
            &format!("{EM}/accessPackages"),
            json!({"displayName": "Project Tango", "description": "Cross-org work", "catalog": {"id": catalog_id}}),
        )
        .await
        .expect(201);
    let package_id = package["id"].as_str().unwrap().to_owned();
    let rrs = s
        .post(
            &format!("{EM}/accessPackages/{package_id}/resourceRoleScopes"),
            json!({"role": {"id": member_role["id"], "displayName": "Member", "originSystem": "AadGroup",
                            "originId": member_role["originId"], "resource": {"id": resource["id"]}},
                   "scope": {"id": scope["id"], "originId": scope["originId"], "originSystem": "AadGroup", "isRootScope": true}}),
        )
        .await
        .expect(201);
    assert_eq!(rrs["id"], format!("{}_{}", member_role["id"].as_str().unwrap(), scope["id"].as_str().unwrap()));

    // A policy for that connected organization with one approval stage by its sponsors.
    let policy = s
        .post(
            &format!("{EM}/assignmentPolicies"),
            json!({
                "displayName": "Fabrikam engineers",
                "allowedTargetScope": "specificConnectedOrganizationUsers",
                "specificAllowedTargets": [{"@odata.type": "#microsoft.graph.connectedOrganizationMembers", "connectedOrganizationId": org_id}],
                "expiration": {"type": "afterDuration", "duration": "P90D"},
                "requestApprovalSettings": {"isApprovalRequiredForAdd": true, "isApprovalRequiredForUpdate": true,
                    "isRequestorJustificationRequired": true,
                    "stages": [{"durationBeforeAutomaticDenial": "14 days, 0:00:00",
                                "primaryApprovers": [{"@odata.type": "#microsoft.graph.externalSponsors"}],
                                "fallbackPrimaryApprovers": [{"@odata.type": "#microsoft.graph.internalSponsors"}]}]},
                "questions": [{"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "sequence": 1, "isRequired": true,
                               "text": "Purchase order number?", "regexPattern": "^PO-[0-9]{6}$"}],
                "accessPackage": {"id": package_id}
            }),
        )
        .await
        .expect(201);
    assert_eq!(policy["requestApprovalSettings"]["stages"][0]["durationBeforeAutomaticDenial"], "P14D");
    assert_eq!(policy["requestApprovalSettings"]["stages"][0]["approverInformationVisibility"], "default");
    assert!(policy["questions"][0]["id"].is_string(), "question ids are server-assigned");

    // Hide the package, then read it back with its roles, policy and My Access link.
    s.patch(&format!("{EM}/accessPackages/{package_id}"), json!({"isHidden": true})).await.expect(204);
    let back = s
        .get(&format!("{EM}/accessPackages/{package_id}?$expand=resourceRoleScopes($expand=role,scope),assignmentPolicies,catalog"))
        .await
        .expect(200);
    assert_eq!(back["isHidden"], true);
    assert_eq!(back["catalog"]["id"], catalog_id.as_str());
    assert_eq!(back["resourceRoleScopes"][0]["role"]["displayName"], "Member");
    assert_eq!(back["resourceRoleScopes"][0]["scope"]["isRootScope"], true);
    assert_eq!(back["assignmentPolicies"][0]["id"], policy["id"]);
    assert_eq!(back["assignmentPolicies"][0]["allowedTargetScope"], "specificConnectedOrganizationUsers");
    assert_eq!(back["myAccessLink"], format!("{}/myaccess/packages/{package_id}", s.base_url));

    // Every change left an audit record naming the administrator.
    let audit = s.get("/v1.0/gatehouse/auditRecords?$filter=activity eq 'accessPackage.update'").await.expect(200);
    let record = &audit["value"][0];
    assert_eq!(record["actorDisplayName"], "Gatehouse Administrator");
    assert_eq!(record["before"]["isHidden"], false);
    assert_eq!(record["after"]["isHidden"], true);
}

both_backends!(admin_walks_the_extranet_setup);
