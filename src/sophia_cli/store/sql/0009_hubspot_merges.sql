-- HubSpot merges (docs/warehouse-contract.md): the surviving record lists the ids merged into
-- it (`hs_merged_object_ids`, as HubSpot writes it: ids separated by `;`). The merged-away
-- records vanish from every listing; the reconciliation pass keeps their rows, archived.

ALTER TABLE hubspot.companies ADD COLUMN merged_object_ids text;
ALTER TABLE hubspot.contacts ADD COLUMN merged_object_ids text;
ALTER TABLE hubspot.deals ADD COLUMN merged_object_ids text;
