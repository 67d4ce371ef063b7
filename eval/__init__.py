"""newsdesk eval package."""
