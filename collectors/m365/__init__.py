"""Microsoft 365 collectors (Entra ID, Intune, Microsoft 365 Backup) over Microsoft Graph."""
