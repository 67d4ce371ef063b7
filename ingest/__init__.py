"""newsdesk ingest package."""
