"""Google Workspace: Directory users as ``identity`` evidence (2-Step Verification, admin roles)."""
